// Test helper for the container commands: a store with a busybox image
// (`base:1`), kiln invocations, and a check that no container, mount or
// process of the store is left behind.
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>

#include "tests/testutil/testutil.h"

namespace kiln::testing {

using testutil::Output;

class RunFixture {
 public:
  RunFixture() {
    testutil::make_busybox_rootfs(dir_ / "bb");
    testutil::tar_directory(dir_ / "bb", dir_ / "bb.tar");
    ok({"import", dir_ / "bb.tar", "base:1"});
  }
  ~RunFixture() { clean_up(); }
  RunFixture(const RunFixture&) = delete;
  RunFixture& operator=(const RunFixture&) = delete;

  const std::string& root() const { return root_; }
  std::string path(const std::string& rel) const { return dir_ / rel; }

  Output kiln(const std::vector<std::string>& args, const std::string& input = {}) const {
    return testutil::kiln(root_, args, input);
  }
  /// Runs kiln and requires exit code 0; returns stdout.
  std::string ok(const std::vector<std::string>& args, const std::string& input = {}) const {
    Output o = kiln(args, input);
    INFO("kiln " << join(args) << "\nstderr: " << o.err);
    REQUIRE(o.exit_code == 0);
    return o.out;
  }
  /// Builds `dockerfile` (FROM base:1 ...) as `tag`.
  void build(const std::string& tag, const std::string& dockerfile) const {
    std::string ctx = dir_ / ("ctx-" + std::to_string(counter_++));
    testutil::write_file(ctx + "/Dockerfile", dockerfile);
    ok({"build", "-q", "-t", tag, ctx});
  }

  /// Lines of /proc/mounts that mention the store.
  std::vector<std::string> store_mounts() const {
    std::vector<std::string> out;
    std::ifstream mounts("/proc/mounts");
    std::string line;
    while (std::getline(mounts, line)) {
      if (line.find(root_) != std::string::npos) {
        out.push_back(line);
      }
    }
    return out;
  }
  /// The runtime's containers whose ID is a container of this store.
  std::vector<std::string> runtime_containers(const std::vector<std::string>& ids) const {
    Output list = testutil::run({"runc", "--root", root_ + "/containers/.runc", "list", "-q"});
    std::vector<std::string> out;
    for (const auto& id : ids) {
      if (list.out.find(id) != std::string::npos) {
        out.push_back(id);
      }
    }
    return out;
  }
  /// Full IDs of every container of the store.
  std::vector<std::string> all_ids() const {
    std::vector<std::string> ids;
    std::istringstream lines(kiln({"ps", "-aq", "--no-trunc"}).out);
    std::string id;
    while (lines >> id) {
      ids.push_back(id);
    }
    return ids;
  }
  /// Removes every container and checks that nothing of them is left.
  void check_clean(const std::vector<std::string>& ids) {
    for (const auto& id : all_ids()) {
      kiln({"rm", "-f", id});
    }
    CHECK(all_ids().empty());
    CHECK(store_mounts().empty());
    CHECK(runtime_containers(ids).empty());
    Output monitors = testutil::run({"pgrep", "-f", root_ + " container-monitor"});
    CHECK(monitors.out == "");
  }

  /// Polls `done` every 20 ms for up to `seconds`; returns its last value.
  template <typename F>
  static bool eventually(F done, double seconds = 10) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
    while (!done()) {
      if (std::chrono::steady_clock::now() > deadline) {
        return false;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return true;
  }

  /// A TCP port on 127.0.0.1 that nothing listens on right now.
  static int free_port() {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
    socklen_t len = sizeof(addr);
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
    ::close(fd);
    return ntohs(addr.sin_port);
  }

  static std::string trim(std::string s) {
    while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) {
      s.pop_back();
    }
    return s;
  }

 private:
  static std::string join(const std::vector<std::string>& args) {
    std::string out;
    for (const auto& a : args) {
      out += (out.empty() ? "" : " ") + a;
    }
    return out;
  }
  // Best effort, for a test that failed half-way: nothing may stay mounted under
  // the temp dir when it is deleted.
  void clean_up() {
    for (const auto& id : all_ids()) {
      kiln({"rm", "-f", id});
    }
    for (const auto& line : store_mounts()) {
      std::istringstream fields(line);
      std::string device, target;
      fields >> device >> target;
      testutil::run({"umount", "-l", target});
    }
  }

  testutil::TempDir dir_{"kiln-run-test-"};
  std::string root_ = dir_ / "root";
  mutable int counter_ = 0;
};

}  // namespace kiln::testing
