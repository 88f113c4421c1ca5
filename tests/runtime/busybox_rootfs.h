// Test helper: a throw-away busybox rootfs (Debian's static /bin/busybox plus applet
// symlinks, /etc/passwd and /etc/group with a user) in a temp dir.
#pragma once

#include <sys/stat.h>
#include <unistd.h>

#include <string>

#include "support/atomic_file.h"
#include "support/error.h"
#include "support/fs.h"

namespace kiln::runtime::testing {

inline constexpr const char* kPasswd =
    "root:x:0:0:root:/root:/bin/sh\n"
    "app:x:1001:1002:app user:/home/app:/bin/sh\n"
    "nobody:x:65534:65534:nobody:/nonexistent:/bin/false\n";
inline constexpr const char* kGroup =
    "root:x:0:\n"
    "grp:x:1002:\n"
    "extra:x:1003:app,other\n"
    "nogroup:x:65534:\n";

/// A busybox rootfs under /tmp, removed on destruction.
class BusyboxRootfs {
 public:
  BusyboxRootfs() {
    auto dir = fs::make_temp_dir("/tmp", "kiln-rt-test-");
    REQUIRE(static_cast<bool>(dir));
    dir_ = *dir;
    rootfs_ = fs::join(dir_, "rootfs");
    for (const char* sub : {"", "/bin", "/etc", "/root", "/tmp"}) {
      REQUIRE(::mkdir((rootfs_ + sub).c_str(), 0755) == 0);
    }
    ::chmod((rootfs_ + "/tmp").c_str(), 01777);
    auto busybox = fs::read_file("/bin/busybox");
    REQUIRE(static_cast<bool>(busybox));
    std::string target = rootfs_ + "/bin/busybox";
    REQUIRE(!write_file_atomic(target, *busybox, 0755));
    for (const char* applet : {"sh", "id", "pwd", "env", "ls", "ip", "mount", "echo", "cat", "true",
                               "sleep", "yes", "head", "kill", "hostname", "stat", "tty"}) {
      REQUIRE(::symlink("busybox", (rootfs_ + "/bin/" + applet).c_str()) == 0);
    }
    REQUIRE(!write_file_atomic(rootfs_ + "/etc/passwd", kPasswd));
    REQUIRE(!write_file_atomic(rootfs_ + "/etc/group", kGroup));
  }
  ~BusyboxRootfs() { llvm::consumeError(fs::remove_all(dir_)); }
  BusyboxRootfs(const BusyboxRootfs&) = delete;
  BusyboxRootfs& operator=(const BusyboxRootfs&) = delete;

  /// The rootfs directory.
  const std::string& path() const { return rootfs_; }
  /// A scratch directory next to the rootfs (for state dirs, markers).
  const std::string& dir() const { return dir_; }

 private:
  std::string dir_;
  std::string rootfs_;
};

}  // namespace kiln::runtime::testing
