// Lowering properties that golden files cannot show: digest stability, what a
// changed build arg invalidates, which images get resolved, lint findings.

#include <algorithm>
#include <set>

#include <catch2/catch.hpp>

#include "frontend/lower.h"
#include "lower_test_util.h"

using namespace kiln;
using namespace kiln::frontend;
using testing::lower_text;

namespace {

LowerResult must_lower(const std::string& text, const LowerOptions& options = {}) {
  auto result = lower_text(text, options);
  if (!result) {
    FAIL(testing::printed_error(result.takeError()));
  }
  return std::move(*result);
}

std::vector<std::string> digests(const LowerResult& r) {
  std::vector<std::string> out;
  for (const auto& v : r.definition.vertices()) {
    out.push_back(v->digest().str());
  }
  return out;
}

/// Digest of the vertex whose description ends with `suffix`.
std::string digest_of(const LowerResult& r, const std::string& suffix) {
  for (const auto& v : r.definition.vertices()) {
    const std::string& d = v->metadata().description;
    if (d.size() >= suffix.size() &&
        d.compare(d.size() - suffix.size(), suffix.size(), suffix) == 0) {
      return v->digest().str();
    }
  }
  FAIL("no vertex described as ..." << suffix);
  return "";
}

const char* kTwoStages = R"(FROM alpine:3.20 AS a
ARG X=1
RUN echo before
RUN echo $X > /x
RUN echo after

FROM alpine:3.20 AS b
RUN echo independent

FROM alpine:3.20
COPY --from=b /etc/hostname /b
COPY --from=a /x /x
RUN echo final
)";

}  // namespace

TEST_CASE("lowering twice gives the same graph byte for byte", "[lower]") {
  testing::FakeResolver resolver;
  LowerOptions options;
  options.resolver = &resolver;
  auto one = must_lower(kTwoStages, options);
  auto two = must_lower(kTwoStages, options);
  CHECK(one.definition.to_json() == two.definition.to_json());
  CHECK(testing::dump_result(one) == testing::dump_result(two));
}

TEST_CASE("whitespace, comments and continuations do not change digests", "[lower]") {
  const std::string plain =
      "FROM alpine:3.20\nRUN apk add make gcc\nCOPY src /src\nCMD [\"make\"]\n";
  const std::string spaced =
      "# a comment\n\nFROM   alpine:3.20\n\n\nRUN apk add \\\nmake gcc\n"
      "COPY  src   /src\n  CMD [ \"make\" ]\n";
  auto a = must_lower(plain);
  auto b = must_lower(spaced);
  CHECK(digests(a) == digests(b));
  CHECK(a.stages[0].config.history.size() == b.stages[0].config.history.size());
  // The source lines differ, and they are metadata only.
  CHECK(a.definition.vertices().back()->metadata().ranges !=
        b.definition.vertices().back()->metadata().ranges);
}

TEST_CASE("changing a build arg used in RUN changes that vertex and its dependents only",
          "[lower]") {
  LowerOptions x1;
  x1.build_args["X"] = "1";
  LowerOptions x2;
  x2.build_args["X"] = "2";
  auto one = must_lower(kTwoStages, x1);
  auto two = must_lower(kTwoStages, x2);
  for (const char* same : {"[a 1/4] FROM docker.io/library/alpine:3.20", "RUN echo independent",
                           "COPY --from=b /etc/hostname /b"}) {
    INFO(same);
    CHECK(digest_of(one, same) == digest_of(two, same));
  }
  // ARG values are in the environment of every later RUN of the stage, as in BuildKit.
  for (const char* changed : {"RUN echo before", "RUN echo $X > /x", "RUN echo after",
                              "COPY --from=a /x /x", "RUN echo final"}) {
    INFO(changed);
    CHECK(digest_of(one, changed) != digest_of(two, changed));
  }
  std::vector<std::string> d1 = digests(one);
  std::vector<std::string> d2 = digests(two);
  std::sort(d1.begin(), d1.end());
  std::sort(d2.begin(), d2.end());
  std::vector<std::string> common;
  std::set_intersection(d1.begin(), d1.end(), d2.begin(), d2.end(), std::back_inserter(common));
  CHECK(common.size() == 3);  // alpine, b's RUN and the final COPY --from=b
}

TEST_CASE("an ARG declared after the RUN does not touch it", "[lower]") {
  const char* text = "FROM scratch\nRUN true\nARG LATE\nRUN false\n";
  LowerOptions a;
  a.build_args["LATE"] = "1";
  LowerOptions b;
  b.build_args["LATE"] = "2";
  auto one = must_lower(text, a);
  auto two = must_lower(text, b);
  CHECK(digest_of(one, "RUN true") == digest_of(two, "RUN true"));
  CHECK(digest_of(one, "RUN false") != digest_of(two, "RUN false"));
  CHECK(one.stages[0].config.history[2].created_by == "RUN |1 LATE=1 /bin/sh -c false # buildkit");
}

TEST_CASE("only images of stages the target needs are resolved", "[lower]") {
  testing::FakeResolver resolver;
  LowerOptions options;
  options.resolver = &resolver;
  options.target = "a";
  auto r = must_lower("FROM alpine:3.20 AS a\nFROM does-not-exist:1 AS b\n", options);
  CHECK(resolver.calls == 1);
  REQUIRE(r.stages.size() == 1);
  CHECK(r.stages[0].name == "a");
  options.target = "B";
  auto err = lower_text("FROM alpine:3.20 AS a\nFROM does-not-exist:1 AS b\n", options);
  REQUIRE(!err);
  CHECK(testing::printed_error(err.takeError()) ==
        "Dockerfile:2\n"
        "--------------------\n"
        "   1 |     FROM alpine:3.20 AS a\n"
        "   2 | >>> FROM does-not-exist:1 AS b\n"
        "--------------------\n"
        "error: does-not-exist:1: docker.io/library/does-not-exist:1: not found\n");
}

TEST_CASE("unused build args are reported, proxy args are not", "[lower]") {
  LowerOptions options;
  options.build_args = {{"USED", "1"}, {"NOPE", "2"}, {"HTTPS_PROXY", "http://127.0.0.1:1"}};
  auto r = must_lower("ARG USED\nFROM scratch\n", options);
  CHECK(r.unused_build_args == std::vector<std::string>{"NOPE"});
}

TEST_CASE("context reads name the paths each COPY reads", "[lower]") {
  auto r = must_lower(
      "FROM scratch\nFROM scratch\nCOPY a.txt b/ /dst/\nCOPY --from=0 /x /y\nADD c.tar /\n");
  REQUIRE(r.context_reads.size() == 2);
  CHECK(r.context_reads[0].paths == std::vector<std::string>{"a.txt", "b/"});
  CHECK(r.context_reads[1].paths == std::vector<std::string>{"c.tar"});
  CHECK(r.context_reads[1].vertex == r.stages.back().vertex);
}

TEST_CASE("platform ARGs exist globally and need a declaration in a stage", "[lower]") {
  auto r = must_lower(
      "FROM scratch\nARG TARGETPLATFORM\nARG BUILDOS\nENV P=$TARGETPLATFORM O=$BUILDOS "
      "A=${TARGETARCH:-undeclared}\n");
  CHECK(r.stages[0].config.history.back().created_by == "ENV P=linux/amd64 O=linux A=undeclared");
}

TEST_CASE("lowering-time lint findings", "[lower][lint]") {
  std::vector<LintWarning> lint;
  LowerOptions options;
  options.lint = &lint;
  must_lower(
      "ARG DECLARED\nFROM ${DECLARED:-scratch} AS one\nFROM ${DECLRED:-scratch}\n"
      "ENV FOO=1\nCOPY $FOOO /x\nWORKDIR rel\nWORKDIR /abs\nWORKDIR rel2\nCMD run it\n",
      options);
  std::vector<std::string> got;
  for (const auto& w : lint) {
    got.push_back(w.rule + "@" + std::to_string(w.range.start_line) + ": " + w.detail);
  }
  CHECK(got == std::vector<std::string>{
                   "UndefinedArgInFrom@3: FROM argument 'DECLRED' is not declared (did you "
                   "mean DECLARED?)",
                   "UndefinedVar@5: Usage of undefined variable '$FOOO' (did you mean $FOO?)",
                   "WorkdirRelativePath@6: Relative workdir \"rel\" can have unexpected results "
                   "if the base image changes",
                   "JSONArgsRecommended@9: JSON arguments recommended for CMD to prevent "
                   "unintended behavior related to OS signals",
               });
}
