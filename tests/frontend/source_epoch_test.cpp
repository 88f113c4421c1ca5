// SOURCE_DATE_EPOCH as BuildKit's Dockerfile frontend resolves it: a number, the
// special value "context", a named context, or a source-only stage (BuildKit
// dockerfile2llb/epoch.go and dockerfile_source_date_epoch_test.go).

#include "frontend/source_epoch.h"

#include <catch2/catch.hpp>

#include "lower_test_util.h"

using namespace kiln;
using namespace kiln::frontend;

namespace {

llvm::Expected<EpochSource> resolve(const std::string& text, const LowerOptions& options = {},
                                    const char* env = nullptr) {
  auto df = parse_dockerfile(text, "Dockerfile");
  if (!df) {
    return df.takeError();
  }
  return resolve_epoch_source(*df, options, env);
}

EpochSource must_resolve(const std::string& text, const LowerOptions& options = {},
                         const char* env = nullptr) {
  auto r = resolve(text, options, env);
  if (!r) {
    FAIL(testing::printed_error(r.takeError()));
  }
  return std::move(*r);
}

LowerOptions with_arg(const std::string& value) {
  LowerOptions o;
  o.build_args["SOURCE_DATE_EPOCH"] = value;
  return o;
}

std::string failure(const std::string& text, const LowerOptions& options = {}) {
  auto r = resolve(text, options);
  REQUIRE(!r);
  return testing::printed_error(r.takeError());
}

}  // namespace

TEST_CASE("SOURCE_DATE_EPOCH: a number from a build arg, the environment or a global ARG",
          "[lower][epoch]") {
  const std::string df = "ARG SOURCE_DATE_EPOCH=1445412480\nFROM scratch\n";
  CHECK(must_resolve(df).seconds == 1445412480);
  CHECK(must_resolve(df, with_arg("1700000002")).seconds == 1700000002);
  CHECK(must_resolve("FROM scratch\n", {}, "1700000003").seconds == 1700000003);
  // An empty value is no value; so is nothing at all.
  CHECK(!must_resolve(df, with_arg("")).seconds);
  CHECK(must_resolve("FROM scratch\n").value.empty());
  // The environment's other values belong to other tools and are ignored.
  CHECK(must_resolve(df, {}, "yesterday").seconds == 1445412480);
  // A global default expands earlier global ARGs.
  CHECK(must_resolve("ARG T=17\nARG SOURCE_DATE_EPOCH=${T}00\nFROM scratch\n").seconds == 1700);
}

TEST_CASE("SOURCE_DATE_EPOCH=context on a local context, or a named context, leaves it unset",
          "[lower][epoch]") {
  // BuildKit testSourceDateEpochContextLocalUnset: a local directory has no time of its own.
  auto context = must_resolve("FROM scratch\nCOPY Dockerfile /\n", with_arg("context"));
  CHECK(context.value == "context");
  CHECK(!context.seconds);
  CHECK(!context.http);
  // From the environment too, and on an empty Dockerfile context (no COPY at all).
  CHECK(!must_resolve("FROM scratch\n", {}, "context").seconds);
  // A --build-context of that name wins over a stage of that name (BuildKit's order).
  LowerOptions named = with_arg("src");
  named.build_contexts["src"] = "/some/dir";
  auto n = must_resolve("FROM scratch AS src\nCOPY x /\nFROM scratch\n", named);
  CHECK(!n.seconds);
  CHECK(!n.http);
}

TEST_CASE("SOURCE_DATE_EPOCH names a source-only stage: its one ADD of a URL", "[lower][epoch]") {
  auto r = must_resolve(
      "ARG SOURCE_DATE_EPOCH=MySource\nFROM scratch AS mysource\nARG F=src.tar\n"
      "ADD --checksum=sha256:" +
      std::string(64, 'a') + " http://127.0.0.1:9/dir/${F}?x=1 /\nFROM scratch\n");
  REQUIRE(r.http);
  CHECK(r.http->url == "http://127.0.0.1:9/dir/src.tar?x=1");
  CHECK(r.http->filename == "src.tar");
  CHECK(r.http->checksum->str() == "sha256:" + std::string(64, 'a'));
  CHECK(!r.seconds);
  // A build arg of the stage's ARG wins over its default.
  LowerOptions o = with_arg("s");
  o.build_args["F"] = "other.tgz";
  auto b = must_resolve("FROM scratch AS s\nARG F=src.tar\nADD https://h/${F} /\n", o);
  REQUIRE(b.http);
  CHECK(b.http->url == "https://h/other.tgz");
}

TEST_CASE("SOURCE_DATE_EPOCH errors are BuildKit's, at the stage's FROM line", "[lower][epoch]") {
  // BuildKit testSourceDateEpochStageInvalid.
  CHECK(failure("ARG SOURCE_DATE_EPOCH=mysource\nFROM scratch AS mysource\n"
                "COPY Dockerfile /Dockerfile\nFROM scratch\n") ==
        "Dockerfile:2\n"
        "--------------------\n"
        "   1 |     ARG SOURCE_DATE_EPOCH=mysource\n"
        "   2 | >>> FROM scratch AS mysource\n"
        "   3 |     COPY Dockerfile /Dockerfile\n"
        "   4 |     FROM scratch\n"
        "--------------------\n"
        "error: SOURCE_DATE_EPOCH stage does not meet source-only requirements: unsupported "
        "copy instruction\n");
  auto tail = [](const std::string& printed) { return printed.substr(printed.rfind("error: ")); };
  CHECK(tail(failure("FROM busybox AS s\nADD http://h/a /\n", with_arg("s"))) ==
        "error: SOURCE_DATE_EPOCH stage must use FROM scratch\n");
  CHECK(tail(failure("FROM scratch AS s\nARG X\n", with_arg("s"))) ==
        "error: SOURCE_DATE_EPOCH stage must contain exactly one remote ADD\n");
  CHECK(tail(failure("FROM scratch AS s\nADD http://h/a /\nADD http://h/b /\n", with_arg("s"))) ==
        "error: SOURCE_DATE_EPOCH stage must contain exactly one remote ADD\n");
  CHECK(tail(failure("FROM scratch AS s\nADD http://h/a http://h/b /\n", with_arg("s"))) ==
        "error: SOURCE_DATE_EPOCH stage must contain exactly one remote ADD source\n");
  CHECK(tail(failure("FROM scratch AS s\nADD <<EOF /f\nx\nEOF\n", with_arg("s"))) ==
        "error: SOURCE_DATE_EPOCH stage must contain exactly one remote ADD source\n");
  CHECK(tail(failure("FROM scratch AS s\nADD local.tar /\n", with_arg("s"))) ==
        "error: SOURCE_DATE_EPOCH stage source must be a single HTTP(S) or Git ADD\n");
  CHECK(tail(failure("FROM scratch AS s\nRUN true\n", with_arg("s"))) ==
        "error: SOURCE_DATE_EPOCH stage does not meet source-only requirements: unsupported "
        "run instruction\n");
  // Neither a number, "context", a named context nor a stage (BuildKit's wording).
  CHECK(failure("ARG SOURCE_DATE_EPOCH=not-a-timestamp\nFROM scratch\n") ==
        "error: invalid SOURCE_DATE_EPOCH: not-a-timestamp\n");
  CHECK(failure("FROM scratch AS s\n", with_arg("t")) == "error: invalid SOURCE_DATE_EPOCH: t\n");
}
