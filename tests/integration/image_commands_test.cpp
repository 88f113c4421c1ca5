// The image commands' output shapes: images, tag, rmi, inspect, history, load.

#include <ctime>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "tests/testutil/testutil.h"

using kiln::testutil::Output;
using kiln::testutil::run;
using kiln::testutil::TempDir;

namespace {

std::string kiln_ok(const std::string& root, const std::vector<std::string>& args,
                    const std::string& input = {}) {
  Output o = kiln::testutil::kiln(root, args, input);
  INFO(o.err);
  REQUIRE(o.exit_code == 0);
  return o.out;
}

// Imports a one-file rootfs created at the epoch as `name`; returns the image ID.
std::string import_tiny(const TempDir& dir, const std::string& root, const std::string& name,
                        const std::string& content) {
  kiln::testutil::write_file(dir / ("tiny/" + name + "/hello.txt"), content);
  kiln::testutil::tar_directory(dir / ("tiny/" + name), dir / "tiny.tar");
  Output o =
      run({KILN_BINARY, "--root", root, "import", "-m", "tiny " + name, dir / "tiny.tar", name}, "",
          {"SOURCE_DATE_EPOCH=0"});
  INFO(o.err);
  REQUIRE(o.exit_code == 0);
  return o.out.substr(0, o.out.size() - 1);
}

// "N years ago" for an image created at the epoch, as docker's HumanDuration says it.
std::string epoch_age() {
  return std::to_string(static_cast<int64_t>(::time(nullptr)) / 3600 / 24 / 365) + " years ago";
}

std::string short_id(const std::string& id) { return id.substr(7, 12); }

}  // namespace

TEST_CASE("images lists names in docker's aligned columns", "[integration][images]") {
  TempDir dir;
  std::string root = dir / "root";
  CHECK(kiln_ok(root, {"images"}) == "REPOSITORY   TAG       IMAGE ID   CREATED   SIZE\n");
  std::string a = import_tiny(dir, root, "alpha:1", "a");
  std::string b = import_tiny(dir, root, "registry.example.com/team/beta:v2", "b");
  kiln_ok(root, {"tag", "alpha:1", "alpha:latest"});
  auto size = [&](const std::string& image) {
    auto json = nlohmann::json::parse(kiln_ok(root, {"inspect", image}));
    return json[0]["Size"].get<int64_t>();
  };
  // Sizes are of the layers uncompressed (a tar of a few KB), as docker's.
  auto human = [](int64_t bytes) {
    char buf[32];
    std::snprintf(buf, sizeof(buf), "%.3gkB", static_cast<double>(bytes) / 1000);
    return bytes < 1000 ? std::to_string(bytes) + "B" : std::string(buf);
  };
  REQUIRE(size("alpha:1") >= 2048);
  std::string age = epoch_age();
  std::string sa = human(size("alpha:1"));
  std::string sb = human(size(b));
  std::string pad(age.size() + 3 - 7, ' ');
  std::string out = kiln_ok(root, {"images"});
  // Columns are as wide as their widest cell plus 3 (at least 10); both images were
  // created at the epoch, so the one added later lists first.
  CHECK(out == "REPOSITORY" + std::string(23, ' ') + "TAG       IMAGE ID       CREATED" + pad +
                   "SIZE\n" + "registry.example.com/team/beta   v2        " + short_id(b) + "   " +
                   age + "   " + sb + "\n" + "alpha" + std::string(28, ' ') + "1" +
                   std::string(9, ' ') + short_id(a) + "   " + age + "   " + sa + "\n" + "alpha" +
                   std::string(28, ' ') + "latest    " + short_id(a) + "   " + age + "   " + sa +
                   "\n");
  CHECK(kiln_ok(root, {"images", "-q"}) ==
        short_id(b) + "\n" + short_id(a) + "\n" + short_id(a) + "\n");
  CHECK(kiln_ok(root, {"images", "-q", "--no-trunc", "alpha:latest"}) == a + "\n");
  auto line = nlohmann::json::parse(kiln_ok(root, {"images", "--format", "json", "alpha:1"}));
  CHECK(line.dump() ==
        "{\"Containers\":\"N/A\",\"CreatedAt\":\"1970-01-01 00:00:00 +0000 UTC\","
        "\"CreatedSince\":\"" +
            age + "\",\"Digest\":\"" + line["Digest"].get<std::string>() + "\",\"ID\":\"" +
            short_id(a) + "\",\"Repository\":\"alpha\",\"SharedSize\":\"N/A\",\"Size\":\"" + sa +
            "\",\"Tag\":\"1\",\"UniqueSize\":\"N/A\",\"VirtualSize\":\"" + sa + "\"}");
  CHECK(kiln_ok(root, {"images", "--format", "{{.ID}}: {{.Repository}}:{{.Tag}}", "alpha"}) ==
        short_id(a) + ": alpha:1\n" + short_id(a) + ": alpha:latest\n");
  CHECK(kiln_ok(root, {"images", "--format", "table {{.Repository}}\\t{{.Tag | upper}}"}) ==
        "REPOSITORY                       TAG\n"
        "registry.example.com/team/beta   V2\n"
        "alpha                            1\n"
        "alpha                            LATEST\n");
  Output bad = kiln::testutil::kiln(root, {"images", "--format", "{{.ID"});
  CHECK(bad.exit_code == 1);
  CHECK(bad.err == "error: template parsing error: line 1: unclosed action\n");
}

TEST_CASE("rmi prints Untagged and Deleted lines like docker", "[integration][rmi]") {
  TempDir dir;
  std::string root = dir / "root";
  std::string a = import_tiny(dir, root, "alpha:1", "a");
  kiln_ok(root, {"tag", a, "other/name:2"});
  Output refused = kiln::testutil::kiln(root, {"rmi", short_id(a)});
  CHECK(refused.exit_code == 1);
  CHECK(refused.err == "error: conflict: unable to delete '" + short_id(a) +
                           "' (must be forced) - image is referenced in multiple repositories\n");
  CHECK(kiln_ok(root, {"rmi", "other/name:2"}) == "Untagged: other/name:2\n");
  Output mixed = kiln::testutil::kiln(root, {"rmi", "nope", "alpha:1"});
  CHECK(mixed.exit_code == 1);
  CHECK(mixed.out == "Untagged: alpha:1\nDeleted: " + a + "\n");
  CHECK(mixed.err == "error: no such image: 'nope'\n");
  CHECK(run({"ls", root + "/blobs/sha256"}).out == "");
  std::string b = import_tiny(dir, root, "beta:1", "b");
  kiln_ok(root, {"tag", "beta:1", "gamma:1"});
  CHECK(kiln_ok(root, {"rmi", "-f", b.substr(7, 5)}) ==
        "Untagged: beta:1\nUntagged: gamma:1\nDeleted: " + b + "\n");
}

TEST_CASE("tag, inspect and history", "[integration][images]") {
  TempDir dir;
  std::string root = dir / "root";
  std::string a = import_tiny(dir, root, "alpha:1", "a");
  Output digest_tag =
      kiln::testutil::kiln(root, {"tag", "alpha:1", "x@sha256:" + std::string(64, 'a')});
  CHECK(digest_tag.exit_code == 1);
  CHECK(digest_tag.err == "error: refusing to create a tag with a digest reference\n");
  Output upper = kiln::testutil::kiln(root, {"tag", "alpha:1", "Upper"});
  CHECK(upper.exit_code == 1);
  CHECK(upper.err ==
        "error: tag 'Upper': invalid reference format: repository name (library/Upper) must "
        "be lowercase\n");
  Output missing = kiln::testutil::kiln(root, {"tag", "nope", "x"});
  CHECK(missing.err == "error: no such image: 'nope'\n");

  auto json = nlohmann::json::parse(kiln_ok(root, {"inspect", "alpha:1", a}));
  REQUIRE(json.size() == 2);
  CHECK(json[0] == json[1]);
  CHECK(json[0]["Id"] == a);
  CHECK(json[0]["RepoTags"] == nlohmann::json::array({"alpha:1"}));
  CHECK(json[0]["Created"] == "1970-01-01T00:00:00Z");
  CHECK(json[0]["Os"] == "linux");
  CHECK(json[0]["Architecture"] == "amd64");
  Output partly = kiln::testutil::kiln(root, {"inspect", "nope"});
  CHECK(partly.exit_code == 1);
  CHECK(partly.out == "[]\n");
  CHECK(partly.err == "error: no such image: 'nope'\n");
  CHECK(kiln_ok(root, {"inspect", "-f", "{{.Os}}/{{.Architecture}} {{json .RepoTags}}", "alpha:1",
                       a}) == "linux/amd64 [\"alpha:1\"]\nlinux/amd64 [\"alpha:1\"]\n");
  CHECK(kiln_ok(root, {"inspect", "--format", "{{range .RootFS.Layers}}{{len .}}{{end}}",
                       "alpha:1"}) == "71\n");
  // Unlike the list commands, docker's inspect leaves a "\t" escape as it is.
  CHECK(kiln_ok(root, {"inspect", "-f", "{{.Os}}\\t", "alpha:1"}) == "linux\\t\n");
  Output unknown = kiln::testutil::kiln(root, {"inspect", "-f", "{{nope}}", "alpha:1"});
  CHECK(unknown.exit_code == 1);
  CHECK(unknown.out == "");
  CHECK(unknown.err == "error: template parsing error: line 1: function 'nope' not defined\n");

  std::string size = std::to_string(json[0]["Size"].get<int64_t>() - 0);
  std::string age = epoch_age();
  std::string history = kiln_ok(root, {"history", "alpha:1"});
  CHECK(history.substr(0, history.find('\n')) == "IMAGE          CREATED" +
                                                     std::string(age.size() + 3 - 7, ' ') +
                                                     "CREATED BY   SIZE      COMMENT");
  CHECK(kiln_ok(root, {"history", "-q", "alpha:1"}) == short_id(a) + "\n");
  CHECK(kiln_ok(root, {"history", "-q", "--no-trunc", "alpha:1"}) == a + "\n");
  CHECK(history.find("tiny alpha:1\n") != std::string::npos);
  CHECK(kiln_ok(root, {"history", "--format", "{{.ID}} {{.CreatedAt}} {{.Comment}}", "alpha:1"}) ==
        short_id(a) + " 1970-01-01T00:00:00Z tiny alpha:1\n");
  auto entry = nlohmann::json::parse(kiln_ok(root, {"history", "--format", "json", "alpha:1"}));
  CHECK(entry["ID"] == short_id(a));
  CHECK(entry["Comment"] == "tiny alpha:1");
}

TEST_CASE("load names the images it replaces", "[integration][images]") {
  TempDir dir;
  std::string root = dir / "root";
  std::string a = import_tiny(dir, root, "alpha:1", "a");
  std::string archive = kiln_ok(root, {"save", "alpha:1"});
  std::string b = import_tiny(dir, root, "alpha:1", "b");
  CHECK(kiln_ok(root, {"load"}, archive) ==
        "The image alpha:1 already exists, renaming the old one with ID " + b +
            " to empty string\nLoaded image: alpha:1\n");
  CHECK(kiln_ok(root, {"images", "-q", "--no-trunc"}) == b + "\n" + a + "\n");
  Output empty = kiln::testutil::kiln(root, {"load"});
  CHECK(empty.exit_code == 1);
  CHECK(empty.err == "error: load: not a tar archive\n");
}

TEST_CASE("save of a repository takes all its tags, and save by ID takes no name",
          "[integration][images]") {
  TempDir dir;
  std::string root = dir / "root";
  std::string a = import_tiny(dir, root, "alpha:1", "a");
  std::string b = import_tiny(dir, root, "alpha:3", "b");
  import_tiny(dir, root, "alphabet:1", "c");
  kiln_ok(root, {"tag", "alpha:1", "alpha:2"});
  std::string all = kiln_ok(root, {"save", "alpha"});
  CHECK(kiln_ok(dir / "fresh", {"load"}, all) ==
        "Loaded image: alpha:1\nLoaded image: alpha:2\nLoaded image: alpha:3\n");
  CHECK(kiln_ok(dir / "fresh", {"images", "-q", "--no-trunc"}) == b + "\n" + a + "\n" + a + "\n");
  std::string by_id = kiln_ok(root, {"save", short_id(b)});
  CHECK(kiln_ok(dir / "fresh2", {"load"}, by_id) == "Loaded image ID: " + b + "\n");
  Output missing = kiln::testutil::kiln(root, {"save", "-o", dir / "x.tar", "nope"});
  CHECK(missing.exit_code == 1);
  CHECK(missing.err == "error: save: no such image: 'nope'\n");
  CHECK(!kiln::testutil::read_file(dir / "x.tar").size());
}
