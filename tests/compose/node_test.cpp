#include <catch2/catch.hpp>

#include "compose/interpolate.h"
#include "compose/node.h"
#include "support/error.h"

using namespace kiln;
using namespace kiln::compose;

TEST_CASE("yaml anchors and merge keys are resolved") {
  auto node = parse_yaml(
      "x-base: &base\n  image: busybox\n  restart: always\nservices:\n  web:\n    <<: *base\n"
      "    restart: \"no\"\n",
      "compose.yaml");
  REQUIRE(static_cast<bool>(node));
  const Node* web = node->find("services")->find("web");
  REQUIRE(web);
  CHECK(web->find("image")->text == "busybox");
  CHECK(web->find("restart")->text == "no");
  CHECK(web->find("restart")->type == ScalarType::string);
  CHECK(web->key_where(0).str() == "compose.yaml:7");
}

TEST_CASE("yaml aliases of aliases (billion laughs) are refused, not expanded") {
  std::string text = "x-a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n";
  std::string prev = "a";
  for (char c = 'b'; c <= 'i'; ++c) {
    std::string name(1, c);
    text += "x-" + name + ": &" + name + " [";
    for (int i = 0; i < 9; ++i) {
      text += (i ? ", *" : "*") + prev;
    }
    text += "]\n";
    prev = name;
  }
  text += "services:\n  web:\n    image: busybox\n    command: *i\n";
  auto node = parse_yaml(text, "compose.yaml");
  REQUIRE(!static_cast<bool>(node));
  CHECK(error_message(node.takeError()) ==
        "compose.yaml: document contains excessive aliasing (more than 200000 values once its "
        "aliases are expanded)");
  // A file that uses an anchor a few times is fine.
  CHECK(static_cast<bool>(parse_yaml("x-a: &a [1, 2]\nb: [*a, *a, *a]\n", "ok.yaml")));
}

TEST_CASE("yaml syntax errors name the file and line") {
  auto node = parse_yaml("services:\n  web: [\n", "f.yaml");
  REQUIRE(!static_cast<bool>(node));
  CHECK(llvm::StringRef(error_message(node.takeError())).startswith("f.yaml:"));
}

TEST_CASE("emit quotes strings that would read as something else") {
  Node m = Node::map();
  m.set("a", Node::str("1"));
  m.set("b", Node::str("true"));
  m.set("c", Node::str("plain"));
  m.set("d", Node::integer(3));
  m.set("e", Node::null_value());
  Node list = Node::seq();
  list.items.push_back(Node::str("x"));
  Node item = Node::map();
  item.set("k", Node::str("v"));
  item.set("l", Node::str(""));
  list.items.push_back(item);
  m.set("f", list);
  m.set("g", Node::map());
  CHECK(
      emit_yaml(m) ==
      "a: \"1\"\nb: \"true\"\nc: plain\nd: 3\ne: null\nf:\n  - x\n  - k: v\n    l: \"\"\ng: {}\n");
}

TEST_CASE("go durations") {
  long long ns = 0;
  REQUIRE(parse_duration("1m30s", ns));
  CHECK(go_duration(ns) == "1m30s");
  REQUIRE(parse_duration("1.5s", ns));
  CHECK(go_duration(ns) == "1.5s");
  REQUIRE(parse_duration("100ms", ns));
  CHECK(go_duration(ns) == "100ms");
  REQUIRE(parse_duration("1h", ns));
  CHECK(go_duration(ns) == "1h0m0s");
  CHECK(!parse_duration("10x", ns));
}

TEST_CASE("interpolation forms") {
  Environment env{{"SET", "v"}, {"EMPTY", ""}};
  auto run = [&](const char* text) {
    auto out = interpolate(text, env, "x", nullptr);
    return out ? *out : "error: " + error_message(out.takeError());
  };
  CHECK(run("${SET}") == "v");
  CHECK(run("$SET/x") == "v/x");
  CHECK(run("${UNSET:-d}") == "d");
  CHECK(run("${EMPTY:-d}") == "d");
  CHECK(run("${EMPTY-d}") == "");
  CHECK(run("${UNSET-d}") == "d");
  CHECK(run("${SET:+alt}") == "alt");
  CHECK(run("${UNSET:+alt}") == "");
  CHECK(run("$$SET") == "$SET");
  CHECK(run("${UNSET:-${SET}}") == "v");
  CHECK(run("${UNSET:?needs a value}") ==
        "error: required variable UNSET is missing a value: needs a value");
  CHECK(run("${SET") ==
        "error: invalid interpolation format for x. You may need to escape any $ with another $");
}

TEST_CASE("unset variables warn") {
  std::vector<std::string> warnings;
  auto out =
      interpolate("a${NOPE}b", {}, "x", [&](const std::string& w) { warnings.push_back(w); });
  REQUIRE(static_cast<bool>(out));
  CHECK(*out == "ab");
  REQUIRE(warnings.size() == 1);
  CHECK(warnings[0] == "The \"NOPE\" variable is not set. Defaulting to a blank string.");
}

TEST_CASE("dotenv files") {
  auto values = parse_env_file(
      "# comment\nA=1\nexport B='x $A'\nC=\"line\\nnext $A\"\nD=plain # comment\nE=\n", ".env", {});
  REQUIRE(static_cast<bool>(values));
  REQUIRE(values->size() == 5);
  CHECK((*values)[0] == std::make_pair(std::string("A"), std::string("1")));
  CHECK((*values)[1].second == "x $A");
  CHECK((*values)[2].second == "line\nnext 1");
  CHECK((*values)[3].second == "plain");
  CHECK((*values)[4].second == "");
}
