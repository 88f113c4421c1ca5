// builder::build end to end with a fake executor (no runc): the Dockerfile is
// lowered, solved over a real store (snapshots, kiln.db, cache keys) and
// exported; only the RUN processes are fakes.
#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <mutex>

#include "builder/build.h"
#include "cache/image_index.h"
#include "frontend/instructions.h"
#include "runtime/executor.h"
#include "support/error.h"
#include "tests/testutil/testutil.h"

namespace {

using kiln::builder::BuildEvents;
using kiln::builder::BuildRequest;
using kiln::testutil::read_file;
using kiln::testutil::TempDir;
using kiln::testutil::write_file;

/// Runs `sh -c SCRIPT` without a container: "write PATH TEXT" writes TEXT to PATH
/// in the rootfs; "fail CODE LINE..." prints each LINE and exits with CODE; any
/// other script exits 0.
class FakeExecutor : public kiln::runtime::Executor {
 public:
  llvm::Expected<kiln::runtime::ExitStatus> run(const kiln::runtime::RunRequest& request,
                                                const kiln::runtime::CancelToken*) override {
    ++runs;
    {
      std::lock_guard lock(mu);
      std::string target;
      for (const auto& e : request.process.env) {
        if (llvm::StringRef(e).startswith("TARGETARCH=")) {
          target = e;
        }
      }
      processes.push_back(request.process.platform + "|" + request.process.args.back() + "|" +
                          target);
    }
    llvm::SmallVector<llvm::StringRef, 8> words;
    llvm::StringRef(request.process.args.back()).split(words, ' ', -1, false);
    if (words.size() >= 3 && words[0] == "write") {
      write_file(request.rootfs + words[1].str(), words[2].str());
    } else if (words.size() >= 2 && words[0] == "fail") {
      for (size_t i = 2; i < words.size(); ++i) {
        request.stdio.on_output(kiln::runtime::OutputStream::out, words[i]);
      }
      int code = 0;
      words[1].getAsInteger(10, code);
      return kiln::runtime::ExitStatus{code, 0};
    }
    return kiln::runtime::ExitStatus{};
  }
  llvm::StringRef name() const override { return "fake"; }

  std::atomic<int> runs{0};
  std::mutex mu;
  /// "PLATFORM|COMMAND|TARGETARCH=..." of each process, in the order run.
  std::vector<std::string> processes;
};

/// Keeps what a build reported.
class RecordedEvents : public BuildEvents {
 public:
  llvm::Error begin() override { return llvm::Error::success(); }
  bool wants_explanations() const override { return false; }
  void progress(const kiln::solver::core::ProgressEvent& event) override {
    std::lock_guard lock(mu);
    if (event.kind == kiln::solver::core::ProgressKind::cached) {
      cached.push_back(event.name);
    }
    if (event.kind == kiln::solver::core::ProgressKind::started) {
      started.push_back(event.name);
    }
  }
  void note(const std::string& name, const std::string& detail) override { notes.push_back(name); }
  void warning(const std::string& message) override {
    std::lock_guard lock(mu);
    warnings.push_back(message);
  }
  void cache_miss(const kiln::Digest&, const std::string&,
                  const std::vector<std::string>&) override {}
  void finish(bool success) override { finished = success ? "success" : "failure"; }
  void step_failed(const std::string& description,
                   const std::vector<std::string>& last_lines) override {
    failed_step = description;
    failed_lines = last_lines;
  }

  std::mutex mu;
  std::vector<std::string> cached;
  /// The names of the steps that started, once each.
  std::vector<std::string> started;
  std::vector<std::string> notes;
  std::vector<std::string> warnings;
  std::string finished;
  std::string failed_step;
  std::vector<std::string> failed_lines;
};

constexpr const char* kDockerfile =
    "FROM scratch\n"
    "COPY a.txt /a.txt\n"
    "RUN write /b.txt made-by-run\n";

/// A store, a build context holding a.txt and a Dockerfile, and a fake executor.
struct Fixture {
  explicit Fixture(const std::string& text = kDockerfile) : text(text) {
    write_file(context / "a.txt", "from the context");
    write_file(context / "Dockerfile", text);
  }

  /// Builds the Dockerfile with `options` (context and Dockerfile path set here).
  llvm::Expected<kiln::builder::BuildResult> build(RecordedEvents& events,
                                                   kiln::builder::BuildOptions options = {}) {
    auto dockerfile = kiln::frontend::parse_dockerfile(text, "Dockerfile");
    REQUIRE(bool(dockerfile));
    BuildRequest request;
    request.root = root.path();
    request.dockerfile = &*dockerfile;
    request.executor = &executor;
    request.options = std::move(options);
    request.options.context = context.path();
    request.options.dockerfile_path = context / "Dockerfile";
    return kiln::builder::build(request, events);
  }

  std::string text;
  TempDir root{"kiln-builder-root-"};
  TempDir context{"kiln-builder-ctx-"};
  FakeExecutor executor;
};

/// The error as kiln prints a SourceError (its Dockerfile lines), or "not a
/// SourceError: ..." for any other error.
std::string located(llvm::Error err) {
  std::string out;
  llvm::handleAllErrors(
      std::move(err), [&](const kiln::SourceError& e) { out = kiln::format_source_error(e); },
      [&](const llvm::ErrorInfoBase& e) { out = "not a SourceError: " + e.message(); });
  return out;
}

}  // namespace

TEST_CASE("a build runs its steps once, then hits the cache", "[builder]") {
  Fixture f;
  kiln::builder::BuildOptions options;
  options.tags = {"app:1"};
  RecordedEvents events;
  auto built = f.build(events, options);
  REQUIRE(bool(built));
  CHECK(f.executor.runs == 1);
  CHECK(events.finished == "success");
  CHECK(events.cached.empty());
  CHECK(events.notes ==
        std::vector<std::string>{"exporting to image", "naming to docker.io/library/app:1"});

  RecordedEvents again;
  auto rebuilt = f.build(again);
  REQUIRE(bool(rebuilt));
  CHECK(f.executor.runs == 1);
  // The last step hits, so the scheduler does not even look at the ones below it.
  CHECK(again.cached == std::vector<std::string>{"[2/2] RUN write /b.txt made-by-run"});
  CHECK(rebuilt->config_digest == built->config_digest);
  CHECK(rebuilt->manifest_digest == built->manifest_digest);
}

TEST_CASE("a build writes a local output with the files of every step", "[builder]") {
  Fixture f;
  TempDir out("kiln-builder-out-");
  kiln::builder::BuildOptions options;
  options.outputs = {"type=local,dest=" + out / "fs"};
  RecordedEvents events;
  REQUIRE(bool(f.build(events, options)));
  CHECK(read_file(out / "fs/a.txt") == "from the context");
  CHECK(read_file(out / "fs/b.txt") == "made-by-run");
}

TEST_CASE("a failed step reports its last lines and its Dockerfile lines", "[builder]") {
  Fixture f(
      "FROM scratch\n"
      "RUN write /x.txt x\n"
      "RUN fail 3 first-line last-line\n");
  RecordedEvents events;
  auto built = f.build(events);
  REQUIRE(!built);
  CHECK(located(built.takeError()) ==
        "Dockerfile:3\n"
        "--------------------\n"
        "   1 |     FROM scratch\n"
        "   2 |     RUN write /x.txt x\n"
        "   3 | >>> RUN fail 3 first-line last-line\n"
        "--------------------\n"
        "error: failed to solve: process \"/bin/sh -c fail 3 first-line last-line\" did not "
        "complete successfully: exit code: 3\n");
  CHECK(events.finished == "failure");
  CHECK(events.failed_step == "[2/2] RUN fail 3 first-line last-line");
  CHECK(events.failed_lines == std::vector<std::string>{"first-line", "last-line"});
  CHECK(f.executor.runs == 2);
}

TEST_CASE("a bad --output is a usage error", "[builder]") {
  Fixture f;
  kiln::builder::BuildOptions options;
  options.outputs = {"type=floppy,dest=/tmp/x"};
  RecordedEvents events;
  auto built = f.build(events, options);
  REQUIRE(!built);
  CHECK(kiln::error_message(built.takeError()) ==
        "unsupported output type 'floppy' (choose from image, registry, docker, oci, local, tar)");
  CHECK(events.finished == "failure");
}

TEST_CASE("a two-platform build is one solve: build-platform steps run once",
          "[builder][platform]") {
  Fixture f(
      "FROM --platform=$BUILDPLATFORM scratch AS build\n"
      "COPY a.txt /a.txt\n"
      "RUN write /b.txt built-once\n"
      "ARG TARGETARCH\n"
      "RUN write /t.txt per-target\n"
      "FROM scratch\n"
      "COPY --from=build /b.txt /t.txt /\n"
      "RUN write /c.txt final\n");
  RecordedEvents events;
  kiln::builder::BuildOptions options;
  options.platforms = {"linux/amd64,linux/arm64"};
  options.tags = {"app:multi"};
  auto result = f.build(events, options);
  REQUIRE(static_cast<bool>(result));
  CHECK(result->config_digest == result->manifest_digest);  // an index is its own ID
  std::vector<std::string> got = f.executor.processes;
  std::sort(got.begin(), got.end());
  CHECK(got == std::vector<std::string>{
                   // The arm64 image's own step runs as arm64 (through an emulator).
                   "linux/arm64|write /c.txt final|",
                   // Native steps: no platform. The first ran once for both targets.
                   "|write /b.txt built-once|",
                   "|write /c.txt final|",
                   "|write /t.txt per-target|TARGETARCH=amd64",
                   "|write /t.txt per-target|TARGETARCH=arm64",
               });
  auto store = kiln::cache::ImageStore::open(f.root.path());
  REQUIRE(static_cast<bool>(store));
  auto image = (*store)->resolve("app:multi");
  REQUIRE(static_cast<bool>(image));
  auto children = kiln::cache::index_manifests((*store)->content(), image->manifest);
  REQUIRE(static_cast<bool>(children));
  REQUIRE(children->has_value());
  REQUIRE((*children)->size() == 2);
  CHECK((**children)[0].platform.str() == "linux/amd64");
  CHECK((**children)[1].platform.str() == "linux/arm64");
  auto arm_config = (*store)->content().read((**children)[1].config);
  REQUIRE(static_cast<bool>(arm_config));
  CHECK(arm_config->find("\"architecture\":\"arm64\"") != std::string::npos);

  // Again: everything is cached, the index is the same.
  f.executor.processes.clear();
  RecordedEvents again;
  auto second = f.build(again, options);
  REQUIRE(static_cast<bool>(second));
  CHECK(f.executor.processes.empty());
  CHECK(second->manifest_digest == result->manifest_digest);
}

namespace {

/// Two builds, "a" and "b", each its own context and Dockerfile, for build_many().
struct TwoBuilds {
  TwoBuilds(const std::string& a_text, const std::string& b_text) {
    texts[0] = a_text;
    texts[1] = b_text;
    for (int i = 0; i < 2; ++i) {
      // The same file name in both contexts, with different contents.
      write_file(contexts[i] / "f.txt", i == 0 ? "from a" : "from b");
      write_file(contexts[i] / "Dockerfile", texts[i]);
      auto parsed = kiln::frontend::parse_dockerfile(texts[i], "Dockerfile");
      REQUIRE(bool(parsed));
      dockerfiles[i] = std::move(*parsed);
    }
  }

  std::vector<BuildRequest> requests() {
    std::vector<BuildRequest> made;
    for (int i = 0; i < 2; ++i) {
      BuildRequest r;
      r.name = i == 0 ? "a" : "b";
      r.root = root.path();
      r.dockerfile = &dockerfiles[i];
      r.executor = &executor;
      r.options.context = contexts[i].path();
      r.options.dockerfile_path = contexts[i] / "Dockerfile";
      r.options.tags = {"app-" + r.name + ":1"};
      r.options.outputs = {"type=local,dest=" + out / r.name};
      made.push_back(std::move(r));
    }
    return made;
  }

  std::string texts[2];
  kiln::frontend::Dockerfile dockerfiles[2];
  TempDir root{"kiln-builder-root-"};
  TempDir contexts[2] = {TempDir("kiln-builder-ctx-a-"), TempDir("kiln-builder-ctx-b-")};
  TempDir out{"kiln-builder-out-"};
  FakeExecutor executor;
};

}  // namespace

TEST_CASE("two builds in one solve run the step they share once and both images have it",
          "[builder][many]") {
  TwoBuilds f(
      "FROM scratch\n"
      "RUN write /shared.txt shared\n"
      "COPY f.txt /f.txt\n"
      "RUN write /a.txt only-a\n",
      "FROM scratch\n"
      "RUN write /shared.txt shared\n"
      "COPY f.txt /f.txt\n"
      "RUN write /b.txt only-b\n");
  RecordedEvents events;
  auto built = kiln::builder::build_many(f.requests(), events);
  REQUIRE(bool(built));
  REQUIRE(built->size() == 2);
  CHECK((*built)[0].config_digest != (*built)[1].config_digest);
  std::vector<std::string> ran = f.executor.processes;
  std::sort(ran.begin(), ran.end());
  CHECK(ran == std::vector<std::string>{"|write /a.txt only-a|", "|write /b.txt only-b|",
                                        "|write /shared.txt shared|"});
  // Both images have the shared step's file, and each its own context's f.txt.
  CHECK(read_file(f.out / "a/shared.txt") == "shared");
  CHECK(read_file(f.out / "b/shared.txt") == "shared");
  CHECK(read_file(f.out / "a/f.txt") == "from a");
  CHECK(read_file(f.out / "b/f.txt") == "from b");
  CHECK(read_file(f.out / "a/a.txt") == "only-a");
  CHECK(!std::filesystem::exists(f.out / "a/b.txt"));
  CHECK(read_file(f.out / "b/b.txt") == "only-b");
  auto store = kiln::cache::ImageStore::open(f.root.path());
  REQUIRE(bool(store));
  auto a = (*store)->resolve("app-a:1");
  auto b = (*store)->resolve("app-b:1");
  REQUIRE(bool(a));
  REQUIRE(bool(b));
  CHECK(a->manifest == (*built)[0].manifest_digest);
  CHECK(b->manifest == (*built)[1].manifest_digest);
  // One begin and one finish for the solve; each step shows once, named after
  // the builds that need it.
  CHECK(events.finished == "success");
  std::sort(events.started.begin(), events.started.end());
  CHECK(events.started == std::vector<std::string>{
                              "[a 2/3] COPY f.txt /f.txt",
                              "[a 3/3] RUN write /a.txt only-a",
                              "[a internal] load build context",
                              "[a,b 1/3] RUN write /shared.txt shared",
                              "[a,b] scratch",
                              "[b 2/3] COPY f.txt /f.txt",
                              "[b 3/3] RUN write /b.txt only-b",
                              "[b internal] load build context",
                          });
  CHECK(events.notes ==
        std::vector<std::string>{"exporting to image", "naming to docker.io/library/app-a:1",
                                 "exporting to image", "naming to docker.io/library/app-b:1"});

  // Again: nothing runs, the same images.
  f.executor.processes.clear();
  RecordedEvents again;
  auto requests = f.requests();
  for (auto& r : requests) {
    r.options.outputs.clear();
  }
  auto rebuilt = kiln::builder::build_many(requests, again);
  INFO((rebuilt ? std::string() : kiln::error_message(rebuilt.takeError())));
  REQUIRE(bool(rebuilt));
  CHECK(f.executor.processes.empty());
  CHECK((*rebuilt)[0].manifest_digest == (*built)[0].manifest_digest);
  CHECK((*rebuilt)[1].manifest_digest == (*built)[1].manifest_digest);
}

TEST_CASE("a failed step of one build of several names that build and its Dockerfile lines",
          "[builder][many]") {
  TwoBuilds f(
      "FROM scratch\n"
      "RUN write /a.txt a\n",
      "FROM scratch\n"
      "RUN write /b.txt b\n"
      "RUN fail 3 broken-b\n");
  RecordedEvents events;
  auto built = kiln::builder::build_many(f.requests(), events);
  REQUIRE(!built);
  CHECK(located(built.takeError()) ==
        "Dockerfile:3\n"
        "--------------------\n"
        "   1 |     FROM scratch\n"
        "   2 |     RUN write /b.txt b\n"
        "   3 | >>> RUN fail 3 broken-b\n"
        "--------------------\n"
        "error: target 'b': failed to solve: process \"/bin/sh -c fail 3 broken-b\" did not "
        "complete successfully: exit code: 3\n");
  CHECK(events.finished == "failure");
  CHECK(events.failed_step == "[2/2] RUN fail 3 broken-b");
  CHECK(events.failed_lines == std::vector<std::string>{"broken-b"});
  auto store = kiln::cache::ImageStore::open(f.root.path());
  REQUIRE(bool(store));
  auto b = (*store)->resolve("app-b:1");
  CHECK(!b);
  if (!b) {
    llvm::consumeError(b.takeError());
  }
}

TEST_CASE("builds with a cache export cannot share a solve", "[builder][many]") {
  TwoBuilds f("FROM scratch\nRUN write /a.txt a\n", "FROM scratch\nRUN write /b.txt b\n");
  auto requests = f.requests();
  CHECK(kiln::builder::can_share_solve(requests[0], requests[1]));
  requests[1].options.cache.cache_to = {"type=local,dest=" + f.out / "cache"};
  CHECK(!kiln::builder::can_share_solve(requests[0], requests[1]));
  requests[1].options.cache.cache_to.clear();
  requests[1].options.no_cache = true;
  CHECK(!kiln::builder::can_share_solve(requests[0], requests[1]));
  RecordedEvents events;
  auto built = kiln::builder::build_many(requests, events);
  REQUIRE(!built);
  CHECK(kiln::error_message(built.takeError()) ==
        "build 'b' cannot share one solve with 'a' (different solve options, several platforms, "
        "or a cache import or export)");
  CHECK(f.executor.runs == 0);
}
