// Build cache export and import (`--cache-to`, `--cache-from`) between fresh
// stores, the way CI machines use it: a local directory, a registry on
// 127.0.0.1, an inline cache; min and max modes; lazy import; incremental
// export; cache mounts; fallbacks with warnings; --explain-cache. RUN steps are
// counted by a loopback server they call (tests/integration/build_fixture.h).

#include <dirent.h>
#include <sys/stat.h>

#include <fstream>
#include <set>
#include <sstream>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "tests/integration/build_fixture.h"
#include "tests/registry/registry_fixture.h"

using kiln::testutil::Output;
using kiln::testutil::run;
using kiln::testutil::StepCounter;

namespace {

constexpr const char* kEpoch = "SOURCE_DATE_EPOCH=1700000000";

/// Stores that share one busybox base (loaded from the same archive, so every
/// store has the same base image and so the same cache keys), one context and
/// one step counter.
class CacheFixture {
 public:
  CacheFixture() {
    kiln::testutil::make_busybox_rootfs(dir_ / "bb");
    kiln::testutil::tar_directory(dir_ / "bb", dir_ / "bb.tar");
    REQUIRE(kiln::testutil::kiln(root("seed"), {"import", dir_ / "bb.tar", "busybox:local"})
                .exit_code == 0);
    REQUIRE(kiln::testutil::kiln(root("seed"), {"save", "-o", dir_ / "base.tar", "busybox:local"})
                .exit_code == 0);
    write("src/a.txt", "a\n");
    write("src/b.txt", "b\n");
    write("app.txt", "app\n");
    write("Dockerfile",
          "FROM busybox:local AS builder\n"
          "COPY src /src\n"
          "RUN " +
              counter.hit("builder") +
              " && cat /src/*.txt > /built\n"
              "FROM busybox:local\n"
              "COPY --from=builder /built /app/built\n"
              "COPY app.txt /app/\n"
              "RUN " +
              counter.hit("final") + " && cat /app/app.txt > /app/out\n");
  }

  StepCounter counter;

  /// A store named `name`, created with the base on first use.
  std::string root(const std::string& name) {
    std::string r = dir_ / ("store-" + name);
    if (name != "seed" && !made_.count(name)) {
      made_.insert(name);
      Output o = kiln::testutil::kiln(r, {"load", "-i", dir_ / "base.tar"});
      INFO(o.err);
      REQUIRE(o.exit_code == 0);
    }
    return r;
  }
  std::string path(const std::string& rel) const { return dir_ / rel; }
  std::string ctx() const { return dir_ / "ctx"; }
  void write(const std::string& rel, const std::string& text) const {
    kiln::testutil::write_file(ctx() + "/" + rel, text);
  }

  /// `kiln build` in store `store` with SOURCE_DATE_EPOCH, writing the image ID
  /// to `store`.iid.
  Output build(const std::string& store, std::vector<std::string> args) {
    std::vector<std::string> argv = {KILN_BINARY,        "--root",    root(store),         "build",
                                     "--progress=plain", "--iidfile", path(store + ".iid")};
    argv.insert(argv.end(), args.begin(), args.end());
    argv.push_back(ctx());
    return run(argv, "", {kEpoch});
  }
  Output build_ok(const std::string& store, std::vector<std::string> args) {
    Output o = build(store, std::move(args));
    INFO(o.err);
    REQUIRE(o.exit_code == 0);
    return o;
  }
  std::string iid(const std::string& store) const {
    return kiln::testutil::read_file(path(store + ".iid"));
  }

 private:
  kiln::testutil::TempDir dir_{"kiln-cache-test-"};
  std::set<std::string> made_;
};

/// The blob files of an OCI layout or store directory `dir`/blobs/sha256.
std::set<std::string> blob_files(const std::string& dir) {
  std::set<std::string> out;
  DIR* d = ::opendir((dir + "/blobs/sha256").c_str());
  if (!d) {
    return out;
  }
  while (struct dirent* e = ::readdir(d)) {
    std::string n = e->d_name;
    if (n.size() == 64) {
      out.insert(n);
    }
  }
  ::closedir(d);
  return out;
}

/// The "wrote N blobs" count of the cache export line in `err`.
int blobs_written(const std::string& err) {
  auto at = err.find("wrote ");
  REQUIRE(at != std::string::npos);
  return std::stoi(err.substr(at + 6));
}

/// The layer digests (hex) of the image `iid` in store `root`: its manifest is
/// found by the config digest among the store's blobs.
std::vector<std::string> image_layers(const std::string& root, const std::string& iid) {
  for (const auto& hex : blob_files(root)) {
    std::string text = kiln::testutil::read_file(root + "/blobs/sha256/" + hex);
    if (text.find(iid) == std::string::npos || text.find("\"layers\"") == std::string::npos) {
      continue;
    }
    auto j = nlohmann::json::parse(text, nullptr, false);
    if (j.is_discarded() || j["config"]["digest"] != iid) {
      continue;
    }
    std::vector<std::string> out;
    for (const auto& l : j["layers"]) {
      out.push_back(l["digest"].get<std::string>().substr(7));
    }
    return out;
  }
  FAIL("no manifest for " << iid << " in " << root);
  return {};
}

bool has_line(const std::string& text, const std::string& needle) {
  return text.find(needle) != std::string::npos;
}

}  // namespace

TEST_CASE("CI scenario: a local cache dir makes a fresh store run nothing",
          "[integration][build][cache]") {
  CacheFixture f;
  std::string cache = f.path("cache");
  Output a = f.build_ok("A", {"--cache-to", "type=local,dest=" + cache + ",mode=max"});
  CHECK(f.counter.count("builder") == 1);
  CHECK(f.counter.count("final") == 1);
  CHECK(has_line(a.err, "exporting cache to local directory '" + cache + "'"));
  CHECK(kiln::testutil::read_file(cache + "/oci-layout") == R"({"imageLayoutVersion":"1.0.0"})");

  // A fresh store: every step is a hit, no RUN executes, and the image is A's.
  Output b = f.build_ok("B", {"--cache-from", "type=local,src=" + cache});
  CHECK(f.counter.count("builder") == 1);
  CHECK(f.counter.count("final") == 1);
  CHECK(has_line(b.err,
                 "] RUN wget -q -O /dev/null http://127.0.0.1:" + std::to_string(f.counter.port()) +
                     "/final && cat /app/app.txt > "
                     "/app/out\n#3 CACHED"));
  CHECK(f.iid("B") == f.iid("A"));
  CHECK(image_layers(f.root("B"), f.iid("B")) == image_layers(f.root("A"), f.iid("A")));

  // Re-exporting the unchanged cache writes nothing.
  Output again = f.build_ok("B", {"--cache-from", "type=local,src=" + cache, "--cache-to",
                                  "type=local,dest=" + cache + ",mode=max"});
  CHECK(blobs_written(again.err) == 0);
  CHECK(f.counter.count("final") == 1);
}

TEST_CASE(
    "after a one-file edit only dependent steps run, only missed blobs are fetched, "
    "and the export writes only new blobs",
    "[integration][build][cache]") {
  CacheFixture f;
  std::string cache = f.path("cache");
  f.build_ok("A", {"--cache-to", "type=local,dest=" + cache + ",mode=max"});
  std::vector<std::string> a_layers = image_layers(f.root("A"), f.iid("A"));
  REQUIRE(a_layers.size() == 4);  // base, COPY --from, COPY app.txt, RUN
  std::set<std::string> before = blob_files(cache);

  f.write("app.txt", "app v2\n");
  Output c = f.build_ok("C", {"--explain-cache", "--cache-from", "type=local,src=" + cache,
                              "--cache-to", "type=local,dest=" + cache + ",mode=max"});
  CHECK(f.counter.count("builder") == 1);  // the builder stage is a hit
  CHECK(f.counter.count("final") == 2);    // the step after the edited file ran
  CHECK(has_line(c.err, "cache miss: context files changed: 'app.txt' (modified)"));
  CHECK(has_line(c.err, "cache miss: its input '[stage-1 3/4] COPY app.txt /app/' changed"));

  // Lazy import: the blobs of the steps that missed were never fetched.
  std::set<std::string> c_blobs = blob_files(f.root("C"));
  CHECK(c_blobs.count(a_layers[1]) == 1);  // COPY --from: a hit whose result was needed
  CHECK(c_blobs.count(a_layers[2]) == 0);  // COPY app.txt: missed
  CHECK(c_blobs.count(a_layers[3]) == 0);  // RUN: missed

  // The export wrote exactly the new blobs: two layers, the context file list of
  // the COPY, the cache config and manifest; the replaced ones were removed.
  std::set<std::string> after = blob_files(cache);
  std::set<std::string> added;
  for (const auto& b : after) {
    if (!before.count(b)) {
      added.insert(b);
    }
  }
  CHECK(blobs_written(c.err) == static_cast<int>(added.size()));
  CHECK(added.size() == 5);
  std::vector<std::string> c_layers = image_layers(f.root("C"), f.iid("C"));
  REQUIRE(c_layers.size() == 4);
  CHECK(added.count(c_layers[2]) == 1);
  CHECK(added.count(c_layers[3]) == 1);
  CHECK(added.count(c_layers[0]) == 0);
  CHECK(after.count(a_layers[3]) == 0);  // pruned: nothing refers to it any more
}

TEST_CASE("mode=min exports only the final stage's steps, mode=max every stage's",
          "[integration][build][cache]") {
  CacheFixture f;
  f.build_ok("A", {"--cache-to", "type=local,dest=" + f.path("min"), "--cache-to",
                   "type=local,dest=" + f.path("max") + ",mode=max"});
  REQUIRE(f.counter.count("builder") == 1);

  f.build_ok("B", {"--cache-from", "type=local,src=" + f.path("min")});
  CHECK(f.counter.count("builder") == 2);  // the intermediate stage ran again
  CHECK(f.counter.count("final") == 1);    // the final stage's steps hit
  CHECK(f.iid("B") == f.iid("A"));

  Output c = f.build_ok("C", {"--cache-from", "type=local,src=" + f.path("max")});
  CHECK(f.counter.count("builder") == 2);
  CHECK(f.counter.count("final") == 1);
  CHECK(f.iid("C") == f.iid("A"));
}

TEST_CASE("a corrupt or missing cache blob, or an unreachable registry, only warns",
          "[integration][build][cache]") {
  CacheFixture f;
  std::string cache = f.path("cache");
  f.build_ok("A", {"--cache-to", "type=local,dest=" + cache + ",mode=max"});
  std::vector<std::string> layers = image_layers(f.root("A"), f.iid("A"));
  REQUIRE(layers.size() == 4);

  SECTION("corrupt") {
    std::string blob = cache + "/blobs/sha256/" + layers[3];
    ::unlink(blob.c_str());  // a hard link into A's store: never write through it
    kiln::testutil::write_file(blob, "not a layer");
    Output b = f.build_ok("B", {"--explain-cache", "--cache-from", "type=local,src=" + cache});
    CHECK(has_line(b.err,
                   "cache miss: an imported cache has its result, but it could not be "
                   "used (see the warning)"));
    CHECK(has_line(
        b.err, "WARNING: importing cache from local cache '" + cache + "' for '[stage-1 4/4] RUN"));
    CHECK(has_line(b.err, "(running the step instead)"));
    CHECK(f.counter.count("final") == 2);
    CHECK(f.counter.count("builder") == 1);
    CHECK(f.iid("B") == f.iid("A"));
    // Exporting to that directory repairs it, even a corruption of the same size.
    std::string good = f.root("A") + "/blobs/sha256/" + layers[3];
    ::unlink(blob.c_str());
    kiln::testutil::write_file(blob, std::string(kiln::testutil::read_file(good).size(), 'x'));
    f.build_ok("C", {"--cache-from", "type=local,src=" + cache, "--cache-to",
                     "type=local,dest=" + cache + ",mode=max"});
    CHECK(f.counter.count("final") == 3);
    f.build_ok("D", {"--cache-from", "type=local,src=" + cache});
    CHECK(f.counter.count("final") == 3);
  }
  SECTION("missing") {
    REQUIRE(::unlink((cache + "/blobs/sha256/" + layers[3]).c_str()) == 0);
    Output b = f.build_ok("B", {"--cache-from", "type=local,src=" + cache});
    CHECK(has_line(b.err, "WARNING: importing cache from local cache"));
    CHECK(f.counter.count("final") == 2);
    CHECK(f.iid("B") == f.iid("A"));
  }
  SECTION("missing, with ignore-error=false") {
    REQUIRE(::unlink((cache + "/blobs/sha256/" + layers[3]).c_str()) == 0);
    Output b = f.build("B", {"--cache-from", "type=local,src=" + cache + ",ignore-error=false"});
    CHECK(b.exit_code == 1);
    CHECK(has_line(b.err, "error: failed to solve: importing cache from local cache"));
  }
  SECTION("unreachable registry and missing directory") {
    Output b = f.build_ok("B", {"--cache-from", "type=registry,ref=127.0.0.1:9/none/cache:1",
                                "--cache-from", "type=local,src=" + f.path("nowhere")});
    CHECK(
        has_line(b.err, "WARNING: importing cache from registry cache '127.0.0.1:9/none/cache:1'"));
    CHECK(has_line(b.err, "WARNING: importing cache from local cache '" + f.path("nowhere") + "'"));
    CHECK(f.counter.count("final") == 2);
    Output fails = f.build(
        "B", {"--cache-from", "type=local,src=" + f.path("nowhere") + ",ignore-error=false"});
    CHECK(fails.exit_code == 1);
  }
  SECTION("an export that fails") {
    kiln::testutil::write_file(f.path("file"), "x");
    Output b = f.build_ok("B", {"--cache-to", "type=local,dest=" + f.path("file") + "/sub"});
    CHECK(has_line(b.err, "WARNING: exporting cache to local directory"));
    Output fails = f.build(
        "B", {"--cache-to", "type=local,dest=" + f.path("file") + "/sub,ignore-error=false"});
    CHECK(fails.exit_code == 1);
  }
}

TEST_CASE("a registry cache and an inline cache make a fresh store run nothing",
          "[integration][build][cache]") {
  kiln::testing::LocalRegistry registry;
  CacheFixture f;
  std::string ref = registry.domain() + "/ci/app:buildcache";
  Output a = f.build_ok("A", {"--cache-to", "type=registry,ref=" + ref + ",mode=max"});
  CHECK(has_line(a.err, "exporting cache to registry '" + ref + "'"));

  Output b = f.build_ok("B", {"--cache-from", "type=registry,ref=" + ref, "--cache-to",
                              "type=registry,ref=" + ref + ",mode=max"});
  CHECK(f.counter.count("builder") == 1);
  CHECK(f.counter.count("final") == 1);
  CHECK(f.iid("B") == f.iid("A"));
  CHECK(has_line(b.err, "wrote 0 blobs"));  // the registry has exactly this cache

  // Inline: the cache rides in the pushed image's config.
  std::string image = registry.domain() + "/ci/app:1";
  f.build_ok("C", {"-t", image, "--cache-to", "type=inline"});
  CHECK(f.counter.count("final") == 2);
  Output pushed = kiln::testutil::kiln(f.root("C"), {"push", image});
  INFO(pushed.err);
  REQUIRE(pushed.exit_code == 0);
  f.build_ok("D", {"-t", image, "--cache-from", image, "--cache-to", "type=inline"});
  CHECK(f.counter.count("final") == 2);    // the final stage hit
  CHECK(f.counter.count("builder") == 3);  // inline holds only the image's own steps
  CHECK(f.iid("D") == f.iid("C"));
}

TEST_CASE("RUN --mount=type=cache contents travel with cache-mounts=true",
          "[integration][build][cache]") {
  CacheFixture f;
  f.write("Dockerfile",
          "FROM busybox:local\n"
          "COPY app.txt /app.txt\n"
          "RUN --mount=type=cache,id=ccache,target=/cache "
          "echo run >> /cache/log && wc -l < /cache/log > /runs\n");
  std::string cache = f.path("cache");
  f.build_ok("A", {"--cache-to", "type=local,dest=" + cache + ",mode=max,cache-mounts=true"});
  f.write("app.txt", "edited\n");
  f.build_ok(
      "B", {"--cache-from", "type=local,src=" + cache, "-o", "type=local,dest=" + f.path("out-b")});
  CHECK(kiln::testutil::read_file(f.path("out-b/runs")) == "2\n");  // A's run, then B's
  f.build_ok("C", {"-o", "type=local,dest=" + f.path("out-c")});
  CHECK(kiln::testutil::read_file(f.path("out-c/runs")) == "1\n");  // no import: empty cache

  // An export of an unchanged cache mount reuses its blob.
  Output again =
      f.build_ok("A", {"--cache-to", "type=local,dest=" + cache + ",mode=max,cache-mounts=true"});
  f.build_ok("A", {});
  Output third =
      f.build_ok("A", {"--cache-to", "type=local,dest=" + cache + ",mode=max,cache-mounts=true"});
  CHECK(blobs_written(third.err) == 0);
}

TEST_CASE("kiln build --explain-cache and rawjson say which input of a missed step changed",
          "[integration][build][cache]") {
  CacheFixture f;
  f.write("Dockerfile",
          "FROM busybox:local\n"
          "ARG V=1\n"
          "COPY src /src\n"
          "RUN echo $V > /v\n");
  f.build_ok("A", {"--build-arg", "V=1"});
  f.write("src/b.txt", "b2\n");
  f.write("src/new.txt", "new\n");
  Output o = f.build_ok("A", {"--explain-cache", "--build-arg", "V=2"});
  CHECK(has_line(o.err,
                 "cache miss: context files changed: 'src/b.txt' (modified), "
                 "'src/new.txt' (added)"));
  CHECK(has_line(o.err, "cache miss: build arg 'V' changed: '1' → '2'"));

  f.write("Dockerfile",
          "FROM busybox:local\n"
          "ARG V=1\n"
          "COPY src /src\n"
          "RUN echo $V > /v && echo more\n");
  Output json = run({KILN_BINARY, "--root", f.root("A"), "build", "--progress=rawjson",
                     "--build-arg", "V=2", f.ctx()},
                    "", {kEpoch});
  REQUIRE(json.exit_code == 0);
  bool found = false;
  std::istringstream lines(json.err);
  for (std::string line; std::getline(lines, line);) {
    auto j = nlohmann::json::parse(line, nullptr, false);
    if (!j.is_discarded() && j.value("kind", "") == "explain") {
      found = true;
      CHECK(j["name"] == "[3/3] RUN echo $V > /v && echo more");
      CHECK(j["reasons"][0] ==
            "instruction changed: 'RUN echo $V > /v' → 'RUN echo $V > /v && echo more'");
    }
  }
  CHECK(found);
  // Without the flag, plain progress says nothing about misses.
  f.write("src/a.txt", "a2\n");
  Output quiet = f.build_ok("A", {"--build-arg", "V=2"});
  CHECK(!has_line(quiet.err, "cache miss:"));
}

TEST_CASE("bad cache flags are usage errors that say what is wrong",
          "[integration][build][cache]") {
  CacheFixture f;
  auto err = [&](std::vector<std::string> args) {
    Output o = f.build("A", std::move(args));
    CHECK(o.exit_code == 1);
    return o.err;
  };
  CHECK(has_line(err({"--cache-to", "type=foo"}),
                 "invalid --cache-to 'type=foo': type must be local, registry or inline"));
  CHECK(has_line(err({"--cache-to", "type=local"}),
                 "invalid --cache-to 'type=local': type=local needs dest=DIR"));
  CHECK(has_line(err({"--cache-to", "type=local,dest=x,mode=all"}),
                 "invalid --cache-to 'type=local,dest=x,mode=all': mode must be min or max"));
  CHECK(has_line(err({"--cache-to", "type=inline,mode=max"}),
                 "an inline cache holds only the image's steps (mode=min)"));
  CHECK(has_line(err({"--cache-to", "type=local,dest=x,colour=red"}), "unknown option 'colour'"));
  CHECK(has_line(err({"--cache-from", "type=local"}),
                 "invalid --cache-from 'type=local': type=local needs src=DIR"));
  CHECK(f.counter.count("final") == 0);
}

TEST_CASE("the inline cache of a multi-platform image makes a fresh store run nothing",
          "[integration][build][cache][multiplatform]") {
  // BuildKit testCacheMultiPlatformImportExport: each platform's image config
  // holds its own steps' inline cache; importing the index takes them all. (Unlike
  // BuildKit's Dockerfile, the RUN is in the final stage: kiln's min-mode inline
  // cache holds the image's own steps, and a COPY --from's key needs its source.)
  kiln::testing::LocalRegistry registry;
  CacheFixture f;
  f.write(
      "Dockerfile",
      "FROM --platform=$BUILDPLATFORM busybox:local\n"
      "ARG TARGETARCH\n"
      "RUN " +
          f.counter.hit("run-$TARGETARCH") +
          " && echo -n $TARGETARCH > /arch && head -c 100 /dev/urandom | sha256sum > /unique\n");
  const std::string platforms = "linux/amd64,linux/arm/v7,linux/arm64";
  std::string image = registry.domain() + "/ci/multi:1";
  f.build_ok("A", {"--platform", platforms, "-t", image, "--cache-to", "type=inline"});
  for (const char* arch : {"amd64", "arm", "arm64"}) {
    CHECK(f.counter.count(std::string("run-") + arch) == 1);
  }
  Output pushed = kiln::testutil::kiln(f.root("A"), {"push", image});
  INFO(pushed.err);
  REQUIRE(pushed.exit_code == 0);

  Output b = f.build_ok("B", {"--platform", platforms, "-t", image, "--cache-from", image,
                              "--cache-to", "type=inline"});
  INFO(b.err);
  for (const char* arch : {"amd64", "arm", "arm64"}) {
    INFO(arch);
    CHECK(f.counter.count(std::string("run-") + arch) == 1);  // every platform hit
  }
  CHECK(f.iid("B") == f.iid("A"));  // the same index, random bytes and all
}
