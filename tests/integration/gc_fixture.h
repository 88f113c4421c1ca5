// Helpers for the garbage collection tests: a store with busybox imported
// (optionally on a small loop-mounted ext4 file system, unmounted and
// detached by the destructor), du of the store, and docker's human sizes.
#pragma once

#include <sys/mount.h>

#include <cmath>
#include <cstdint>
#include <map>
#include <string>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "tests/testutil/testutil.h"

namespace kiln::testutil {

/// du -sx --block-size=1 of `path`.
inline int64_t du_bytes(const std::string& path) {
  Output o = run({"du", "-sx", "--block-size=1", path});
  REQUIRE(o.exit_code == 0);
  return std::stoll(o.out);
}

/// go-units HumanSize text ("4.047MB", "0B", "12.29kB") as bytes.
inline int64_t parse_human(const std::string& text) {
  static const std::map<std::string, double> kUnits = {
      {"B", 1}, {"kB", 1e3}, {"MB", 1e6}, {"GB", 1e9}, {"TB", 1e12}};
  size_t unit = text.find_first_not_of("0123456789.");
  REQUIRE(unit != std::string::npos);
  auto it = kUnits.find(text.substr(unit));
  REQUIRE(it != kUnits.end());
  return static_cast<int64_t>(std::llround(std::stod(text.substr(0, unit)) * it->second));
}

/// The number after "Total reclaimed space: " in a prune's output.
inline int64_t reclaimed(const std::string& out) {
  auto at = out.find("Total reclaimed space: ");
  REQUIRE(at != std::string::npos);
  std::string rest = out.substr(at + 23);
  return parse_human(rest.substr(0, rest.find('\n')));
}

/// `kiln system df --format json`: type -> size in bytes.
inline std::map<std::string, int64_t> df_sizes(const std::string& root) {
  Output o = kiln(root, {"system", "df", "--format", "json"});
  INFO(o.err);
  REQUIRE(o.exit_code == 0);
  std::map<std::string, int64_t> out;
  size_t start = 0;
  while (start < o.out.size()) {
    size_t end = o.out.find('\n', start);
    auto j = nlohmann::json::parse(o.out.substr(start, end - start));
    out[j["Type"].get<std::string>()] = parse_human(j["Size"].get<std::string>());
    start = end == std::string::npos ? o.out.size() : end + 1;
  }
  return out;
}

/// A store with busybox:local imported; with `loop_mb`, on an ext4 file system
/// of that size loop-mounted at DIR/mnt.
class GcStore {
 public:
  explicit GcStore(int loop_mb = 0) {
    if (loop_mb > 0) {
      std::string img = dir_ / "fs.img";
      REQUIRE(run({"truncate", "-s", std::to_string(loop_mb) + "M", img}).exit_code == 0);
      REQUIRE(run({"mkfs.ext4", "-q", "-F", img}).exit_code == 0);
      REQUIRE(run({"mkdir", "-p", mnt()}).exit_code == 0);
      Output m = run({"mount", "-o", "loop", img, mnt()});
      INFO(m.err);
      REQUIRE(m.exit_code == 0);
      mounted_ = true;
      root_ = mnt() + "/root";
    } else {
      root_ = dir_ / "root";
    }
    make_busybox_rootfs(dir_ / "bb");
    tar_directory(dir_ / "bb", dir_ / "bb.tar");
    Output o = testutil::kiln(root_, {"import", dir_ / "bb.tar", "busybox:local"});
    INFO(o.err);
    REQUIRE(o.exit_code == 0);
  }
  ~GcStore() {
    if (mounted_) {
      std::string img = dir_ / "fs.img";
      if (::umount2(mnt().c_str(), 0) != 0) {
        ::umount2(mnt().c_str(), MNT_DETACH);
      }
      // mount -o loop sets autoclear; detach whatever is left anyway.
      Output left = run({"losetup", "-j", img});
      for (size_t at = 0; at < left.out.size();) {
        size_t colon = left.out.find(':', at);
        if (colon == std::string::npos) {
          break;
        }
        run({"losetup", "-d", left.out.substr(at, colon - at)});
        size_t nl = left.out.find('\n', colon);
        at = nl == std::string::npos ? left.out.size() : nl + 1;
      }
    }
  }
  GcStore(const GcStore&) = delete;
  GcStore& operator=(const GcStore&) = delete;

  const std::string& root() const { return root_; }
  std::string mnt() const { return dir_ / "mnt"; }
  std::string path(const std::string& rel) const { return dir_ / rel; }
  /// Writes DIR/<ctx>/Dockerfile.
  std::string context(const std::string& name, const std::string& dockerfile) const {
    write_file(dir_ / (name + "/Dockerfile"), dockerfile);
    return dir_ / name;
  }
  Output kiln(std::vector<std::string> args) const { return testutil::kiln(root_, args); }
  Output build(const std::string& ctx, std::vector<std::string> args = {}) const {
    std::vector<std::string> argv = {KILN_BINARY, "--root", root_, "build", "--progress=plain"};
    argv.insert(argv.end(), args.begin(), args.end());
    argv.push_back(ctx);
    return run(argv);
  }

 private:
  TempDir dir_{"kiln-gc-test-"};
  bool mounted_ = false;
  std::string root_;
};

}  // namespace kiln::testutil
