// Automatic garbage collection on a small file system: the hard cap after every
// build, eviction when a step runs out of space, and prunes beside builds.

#include <thread>

#include <catch2/catch.hpp>

#include "tests/integration/gc_fixture.h"

using kiln::testutil::du_bytes;
using kiln::testutil::GcStore;
using kiln::testutil::Output;
using kiln::testutil::write_file;

namespace {

constexpr int64_t kMiB = 1 << 20;

void require_ok(const Output& o) {
  INFO(o.out << o.err);
  REQUIRE(o.exit_code == 0);
}

}  // namespace

TEST_CASE("a store capped at maxUsedSpace=300MB stays under it through 20 builds of 50MB",
          "[integration][gc][loop]") {
  GcStore s(512);
  write_file(s.root() + "/store.toml", "[gc]\nmaxUsedSpace = \"300MB\"\n");
  for (int i = 0; i < 20; ++i) {
    std::string ctx =
        s.context("ctx", "FROM busybox:local\nARG N\nRUN echo $N > /n && head -c " +
                             std::to_string(50 * 1000 * 1000) + " /dev/urandom > /big\n");
    Output o = s.build(ctx, {"-t", "big:latest", "--build-arg", "N=" + std::to_string(i)});
    INFO("build " << i << ": " << o.err);
    REQUIRE(o.exit_code == 0);
    int64_t used = du_bytes(s.root());
    INFO("build " << i << ": the store uses " << used);
    CHECK(used <= 300 * kMiB);
  }
  Output run = s.kiln({"run", "--rm", "big:latest", "cat", "/n"});
  require_ok(run);
  CHECK(run.out == "19\n");
  Output check = s.kiln({"system", "check"});
  INFO(check.out);
  CHECK(check.exit_code == 0);
}

TEST_CASE("a build on a nearly full file system evicts unused cache and succeeds",
          "[integration][gc][loop]") {
  GcStore s(512);
  write_file(s.root() + "/store.toml", "[gc]\nenabled = false\n");
  require_ok(
      s.build(s.context("old", "FROM busybox:local\nRUN head -c 150000000 /dev/urandom > /old\n"),
              {"-t", "old:1"}));
  require_ok(s.kiln({"rmi", "old:1"}));  // 150 MB of build cache nothing uses
  // Leave about 60 MB free beside the store.
  auto free_bytes = [&] {
    Output df = kiln::testutil::run({"df", "--output=avail", "-B1", s.mnt()});
    return std::stoll(df.out.substr(df.out.find('\n') + 1));
  };
  int64_t fill = free_bytes() - 60 * kMiB;
  REQUIRE(fill > 0);
  require_ok(kiln::testutil::run({"fallocate", "-l", std::to_string(fill), s.mnt() + "/filler"}));
  Output o =
      s.build(s.context("new", "FROM busybox:local\nRUN head -c 80000000 /dev/urandom > /new\n"),
              {"-t", "new:1"});
  require_ok(o);
  CHECK(o.err.find("a step ran out of space in the store at") != std::string::npos);
  require_ok(s.kiln({"run", "--rm", "new:1", "test", "-s", "/new"}));
  // With nothing left to evict, the step fails and says which one and why.
  Output full =
      s.build(s.context("huge", "FROM busybox:local\nRUN head -c 400000000 /dev/urandom > /huge\n"),
              {"-t", "huge:1"});
  INFO(full.err);
  CHECK(full.exit_code == 1);
  CHECK(full.err.find("RUN head -c 400000000 /dev/urandom > /huge'") != std::string::npos);
  CHECK(full.err.find("even after evicting unused build cache") != std::string::npos);
}

TEST_CASE("prunes running beside 5 builds: every build succeeds and system check is clean",
          "[integration][gc]") {
  GcStore s;
  std::atomic<bool> done{false};
  std::thread pruner([&] {
    int i = 0;
    while (!done) {
      kiln::testutil::kiln(s.root(), {"builder", "prune", "-f", "-a"});
      kiln::testutil::kiln(s.root(), {"image", "prune", "-f"});
      if (++i % 3 == 0) {
        kiln::testutil::kiln(s.root(), {"system", "prune", "-f"});
      }
    }
  });
  std::vector<std::thread> builders;
  std::vector<Output> results(5);
  for (int b = 0; b < 5; ++b) {
    builders.emplace_back([&, b] {
      std::string n = std::to_string(b);
      std::string ctx = s.context("ctx" + n,
                                  "FROM busybox:local\nRUN head -c 2000000 /dev/urandom > /a\n"
                                  "COPY Dockerfile /d" +
                                      n + "\nRUN cat /a /d" + n + " > /b\n");
      for (int round = 0; round < 3 && results[b].exit_code <= 0; ++round) {
        results[b] = s.build(ctx, {"-t", "b" + n + ":latest"});
        if (results[b].exit_code != 0) {
          break;
        }
        results[b].exit_code = 0;
      }
    });
  }
  for (auto& t : builders) {
    t.join();
  }
  done = true;
  pruner.join();
  for (int b = 0; b < 5; ++b) {
    INFO("build " << b << ": " << results[b].err);
    CHECK(results[b].exit_code == 0);
    Output run = s.kiln({"run", "--rm", "b" + std::to_string(b) + ":latest", "test", "-s", "/b"});
    INFO(run.err);
    CHECK(run.exit_code == 0);
  }
  Output check = s.kiln({"system", "check"});
  INFO(check.out);
  CHECK(check.exit_code == 0);
}

TEST_CASE("a build beside a longer one ends without waiting for it to collect",
          "[integration][gc]") {
  GcStore s;
  std::atomic<bool> long_done{false};
  std::string slow = s.context("slow", "FROM busybox:local\nRUN sleep 8\n");
  std::string quick = s.context("quick", "FROM busybox:local\nRUN echo quick > /q\n");
  std::thread other([&] {
    Output o = s.build(slow, {"-t", "slow:1"});
    INFO(o.err);
    CHECK(o.exit_code == 0);
    long_done = true;
  });
  std::this_thread::sleep_for(std::chrono::seconds(2));  // the slow build holds the store
  Output o = s.build(quick, {"-t", "quick:1"});
  bool waited = long_done;
  other.join();
  require_ok(o);
  CHECK_FALSE(waited);
}
