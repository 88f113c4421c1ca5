// builder::build end to end with a fake executor (no runc): the Dockerfile is
// lowered, solved over a real store (snapshots, kiln.db, cache keys) and
// exported; only the RUN processes are fakes.
#include <catch2/catch.hpp>

#include <atomic>
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
  std::string located;
  llvm::handleAllErrors(
      built.takeError(),
      [&](const kiln::SourceError& e) { located = kiln::format_source_error(e); },
      [&](const llvm::ErrorInfoBase& e) { located = "not a SourceError: " + e.message(); });
  CHECK(located ==
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
