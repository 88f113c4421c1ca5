#include <map>

#include <catch2/catch.hpp>

#include "solver/ops/step_history.h"
#include "support/error.h"

using namespace kiln;
using namespace kiln::solver::ops;

namespace {

StepRecord step(const std::string& name, const std::string& stage, int index,
                const std::string& key) {
  StepRecord r;
  r.name = name;
  r.stage = stage;
  r.index = index;
  r.text = name.substr(name.find("] ") + 2);
  r.kind = "exec";
  r.vertex = Digest::of("vertex:" + name);
  r.key = Digest::of(key);
  r.op = Digest::of("op:" + r.text);
  return r;
}

StepInput input(const std::string& kind, const std::string& digest, const std::string& from,
                const std::string& role) {
  StepInput in;
  in.kind = kind;
  in.digest = Digest::of(digest);
  in.from = from;
  in.role = role;
  return in;
}

/// Explains `current` (whose keys all missed) against `previous`.
std::vector<std::string> explain(const StepRecord& current, const std::vector<StepRecord>& previous,
                                 const std::map<Digest, std::string>& blobs = {},
                                 const std::set<std::string>& build_args = {}) {
  auto read = [&](const Digest& d) -> llvm::Expected<std::string> {
    auto it = blobs.find(d);
    if (it == blobs.end()) {
      return make_error("no blob");
    }
    return it->second;
  };
  auto out = explain_misses({current}, {current.key}, {previous}, build_args, read);
  REQUIRE(out.size() == 1);
  CHECK(out[0].name == current.name);
  return out[0].reasons;
}

}  // namespace

TEST_CASE("step records survive a JSON round trip", "[explain]") {
  StepRecord r = step("[builder 2/3] RUN make", "builder", 2, "k");
  r.detail["env V"] = "1";
  StepInput in = input("content", "c", "[internal] load build context", "context");
  in.paths = {"src", "*.go"};
  in.files = Digest::of("files");
  r.inputs.push_back(in);
  auto back = parse_step_records(to_json({r}));
  REQUIRE(back.size() == 1);
  CHECK(to_json(back) == to_json({r}));
  CHECK(back[0].inputs[0].paths == std::vector<std::string>{"src", "*.go"});
  CHECK(back[0].inputs[0].files == Digest::of("files"));
  CHECK(parse_step_records("not json").empty());
  CHECK(parse_step_records(R"({"a":1})").empty());
}

TEST_CASE("a changed build arg, instruction or option is named", "[explain]") {
  StepRecord before = step("[2/3] RUN echo $V", "stage-0", 2, "k1");
  before.detail = {{"env V", "1"}, {"env OLD", "x"}, {"workdir", "/"}};
  StepRecord now = step("[2/3] RUN echo $V", "stage-0", 2, "k2");
  now.op = Digest::of("op2");
  now.detail = {{"env V", "2"}, {"env NEW", "y"}, {"workdir", "/src"}};
  CHECK(explain(now, {before}, {}, {"V"}) ==
        std::vector<std::string>{"variable 'NEW' (ARG or ENV) is now set to 'y'",
                                 "variable 'OLD' (ARG or ENV) is no longer set (was 'x')",
                                 "build arg 'V' changed: '1' → '2'",
                                 "workdir changed: '/' → '/src'"});

  StepRecord edited = step("[2/3] RUN echo $V && make", "stage-0", 2, "k3");
  edited.detail = {{"command", "/bin/sh -c echo $V && make"}};
  before.detail = {{"command", "/bin/sh -c echo $V"}};
  CHECK(explain(edited, {before}) ==
        std::vector<std::string>{"instruction changed: 'RUN echo $V' → 'RUN echo $V && make'"});
}

TEST_CASE("changed context files are listed by name", "[explain]") {
  StepRecord before = step("[2/4] COPY src /src", "stage-0", 2, "k1");
  StepInput base = input("key", "base", "[1/4] FROM busybox", "image");
  StepInput ctx1 = input("content", "sum1", "[internal] load build context", "context");
  ctx1.paths = {"src"};
  ctx1.files = Digest::of("list1");
  before.inputs = {base, ctx1};
  StepRecord now = before;
  now.key = Digest::of("k2");
  StepInput ctx2 = ctx1;
  ctx2.digest = Digest::of("sum2");
  ctx2.files = Digest::of("list2");
  now.inputs = {base, ctx2};
  std::map<Digest, std::string> blobs = {
      {Digest::of("list1"), R"({"files":[["src/a.c","aa"],["src/b.c","bb"],["src/c.c","cc"]]})"},
      {Digest::of("list2"), R"({"files":[["src/a.c","aa"],["src/b.c","b2"],["src/d.c","dd"]]})"}};
  CHECK(explain(now, {before}, blobs) ==
        std::vector<std::string>{
            "context files changed: 'src/b.c' (modified), 'src/d.c' (added), 'src/c.c' (removed)"});
  // Without the lists the paths are still named.
  CHECK(explain(now, {before}) ==
        std::vector<std::string>{"files read from the context changed ('src')"});
}

TEST_CASE("a changed input step or base image is named, a missing result is told apart",
          "[explain]") {
  StepRecord before = step("[builder 3/3] RUN make", "builder", 3, "k1");
  before.inputs = {input("key", "copy1", "[builder 2/3] COPY src /src", "step")};
  StepRecord now = before;
  now.key = Digest::of("k2");
  now.inputs = {input("key", "copy2", "[builder 2/3] COPY src /src", "step")};
  CHECK(explain(now, {before}) ==
        std::vector<std::string>{"its input '[builder 2/3] COPY src /src' changed"});

  StepRecord from1 = step("[1/2] FROM docker.io/library/alpine:3.20", "stage-0", 1, "f1");
  from1.kind = "image";
  from1.detail = {{"image", "docker.io/library/alpine:3.20@sha256:aaaa"},
                  {"image config", "sha256:1111111111111111111111"}};
  StepRecord from2 = from1;
  from2.key = Digest::of("f2");
  from2.op = Digest::of("other");
  from2.detail = {{"image", "docker.io/library/alpine:3.20@sha256:bbbb"},
                  {"image config", "sha256:2222222222222222222222"}};
  CHECK(explain(from2, {from1}) ==
        std::vector<std::string>{"base image 'docker.io/library/alpine:3.20' changed: config "
                                 "'sha256:111111111111…' → 'sha256:222222222222…'"});

  CHECK(explain(before, {before}) ==
        std::vector<std::string>{
            "its cache key is unchanged, but no result is stored for it (pruned, or not "
            "exported: steps outside the final stage need --cache-to mode=max)"});
  CHECK(explain(before, {}) ==
        std::vector<std::string>{
            "no earlier build is known (no history in this store and no imported cache)"});
  StepRecord other = step("[builder 9/9] RUN other", "other", 9, "x");
  CHECK(explain(before, {other}) ==
        std::vector<std::string>{"no earlier build of this step is recorded (a new step)"});
}

TEST_CASE("a step is matched by its text first, then by its position", "[explain]") {
  StepRecord a = step("[2/4] COPY a /a", "stage-0", 2, "ka");
  StepRecord b = step("[3/4] RUN b", "stage-0", 3, "kb");
  b.inputs = {input("key", "ka", "[2/4] COPY a /a", "step")};
  // A step inserted before RUN b: RUN b is found by its text at its new position.
  StepRecord b_now = step("[4/5] RUN b", "stage-0", 4, "kb2");
  b_now.inputs = {input("key", "new", "[3/5] RUN inserted", "step")};
  CHECK(explain(b_now, {a, b}) ==
        std::vector<std::string>{"its input is now '[3/5] RUN inserted' (was '[2/4] COPY a /a')"});
}
