// A store for multi-platform builds: qemu-user-static's emulators registered
// (`kiln setup binfmt`), and `base:multi`, an image index of busybox for
// linux/amd64 (the host's /bin/busybox) and linux/arm64 (Debian's busybox-static
// for arm64, which scripts/test-bases puts in $KILN_TEST_CACHE, default
// /var/cache/kiln-test), built by kiln itself from the context (which keeps
// rootfs-amd64, rootfs-arm64 and rootfs-arm, .dockerignored after).
#pragma once

#include <sys/stat.h>

#include <cstdlib>
#include <sstream>
#include <string>

#include <catch2/catch.hpp>

#include "tests/integration/build_fixture.h"

namespace kiln::testutil {

/// Where scripts/test-bases put the foreign busybox binaries.
inline std::string test_cache_dir() {
  const char* dir = std::getenv("KILN_TEST_CACHE");
  return dir && *dir ? dir : "/var/cache/kiln-test";
}

/// A busybox rootfs at `dir` with the busybox binary `binary` (the applet links
/// come from the host's busybox, the same Debian version).
inline void make_busybox_rootfs_from(const std::string& dir, const std::string& binary) {
  run({"mkdir", "-p", dir + "/bin", dir + "/etc", dir + "/root", dir + "/tmp"});
  ::chmod((dir + "/tmp").c_str(), 01777);
  run({"cp", binary, dir + "/bin/busybox"});
  Output list = run({"/bin/busybox", "--list"});
  std::istringstream names(list.out);
  std::string name;
  while (names >> name) {
    if (name != "busybox") {
      run({"ln", "-s", "busybox", dir + "/bin/" + name});
    }
  }
  write_file(dir + "/etc/passwd", "root:x:0:0:root:/root:/bin/sh\n");
  write_file(dir + "/etc/group", "root:x:0:\n");
}

/// Registers the emulators; a machine where that fails cannot run these tests,
/// and they fail (never skip) saying so.
inline void require_binfmt() {
  Output o = run({KILN_BINARY, "setup", "binfmt"});
  INFO("kiln setup binfmt: " << o.out << o.err);
  REQUIRE(o.exit_code == 0);
  REQUIRE(read_file("/proc/sys/fs/binfmt_misc/qemu-aarch64").find("enabled") == 0);
}

class MultiPlatformFixture : public BuildFixture {
 public:
  MultiPlatformFixture() {
    require_binfmt();
    std::string arm64 = test_cache_dir() + "/busybox-arm64/bin/busybox";
    INFO("no arm64 busybox at " << arm64 << ": run scripts/test-bases");
    REQUIRE(::access(arm64.c_str(), X_OK) == 0);
    make_busybox_rootfs_from(ctx() + "/rootfs-amd64", "/bin/busybox");
    make_busybox_rootfs_from(ctx() + "/rootfs-arm64", arm64);
    std::string armhf = test_cache_dir() + "/busybox-armhf/bin/busybox";
    REQUIRE(::access(armhf.c_str(), X_OK) == 0);
    make_busybox_rootfs_from(ctx() + "/rootfs-arm", armhf);  // TARGETARCH of linux/arm/v7
    file("Dockerfile", "FROM scratch\nARG TARGETARCH\nCOPY rootfs-${TARGETARCH}/ /\n");
    build_ok({"--platform", "linux/amd64,linux/arm64", "-t", "base:multi"});
    write_file(ctx() + "/.dockerignore", "rootfs-*\n");
  }
};

}  // namespace kiln::testutil
