#include "runtime/rootfs_path.h"

#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include "support/error.h"
#include "support/fs.h"
#include "tests/runtime/busybox_rootfs.h"

using kiln::runtime::testing::BusyboxRootfs;
namespace rt = kiln::runtime;

namespace {

std::string resolved(const std::string& rootfs, llvm::StringRef path) {
  auto out = rt::resolve_in_rootfs(rootfs, path);
  REQUIRE(static_cast<bool>(out));
  return *out;
}

}  // namespace

TEST_CASE("symlinks resolve inside the rootfs", "[runtime][rootfs]") {
  BusyboxRootfs root;
  const std::string& r = root.path();
  REQUIRE(::symlink("../../../..", (r + "/up").c_str()) == 0);
  REQUIRE(::symlink("/etc", (r + "/abs").c_str()) == 0);
  REQUIRE(::symlink("loop2", (r + "/loop1").c_str()) == 0);
  REQUIRE(::symlink("loop1", (r + "/loop2").c_str()) == 0);
  CHECK(resolved(r, "/up/etc/passwd") == r + "/etc/passwd");
  CHECK(resolved(r, "/abs/group") == r + "/etc/group");
  CHECK(resolved(r, "/../../tmp/x/../y") == r + "/tmp/y");
  CHECK(resolved(r, "/") == r);
  auto loop = rt::resolve_in_rootfs(r, "/loop1/x");
  REQUIRE(!loop);
  CHECK(kiln::error_message(loop.takeError()) ==
        "resolve '/loop1/x' in the rootfs: too many symlinks");
}

TEST_CASE("working directories are created owned by the user", "[runtime][rootfs]") {
  BusyboxRootfs root;
  REQUIRE(::symlink("/srv", (root.path() + "/work").c_str()) == 0);
  REQUIRE(!rt::make_dirs_in_rootfs(root.path(), "/work/a/b", 1001, 1002));
  struct stat st {};
  REQUIRE(::lstat((root.path() + "/srv/a/b").c_str(), &st) == 0);
  CHECK(S_ISDIR(st.st_mode));
  CHECK(st.st_uid == 1001);
  CHECK(st.st_gid == 1002);
  REQUIRE(::lstat((root.path() + "/srv").c_str(), &st) == 0);
  CHECK(st.st_uid == 1001);
  REQUIRE(::lstat((root.path() + "/etc").c_str(), &st) == 0);
  CHECK(st.st_uid == 0);  // existing directories keep their owner
  auto not_dir = rt::make_dirs_in_rootfs(root.path(), "/etc/passwd/x", 0, 0);
  CHECK(kiln::error_message(std::move(not_dir)) ==
        "create directory '" + root.path() + "/etc/passwd': Not a directory");
}

TEST_CASE("empty mount stubs are removed, written ones kept", "[runtime][rootfs]") {
  BusyboxRootfs root;
  const std::string& r = root.path();
  auto stubs = rt::missing_mount_stubs(
      r, {"/proc", "/dev", "/dev/pts", "/etc/hosts", "/etc/passwd", "/mnt/data", "/opt/x"});
  CHECK(stubs == std::vector<std::string>{r + "/dev", r + "/etc/hosts", r + "/mnt", r + "/opt",
                                          r + "/proc"});
  for (const char* dir : {"/dev", "/dev/pts", "/proc", "/mnt", "/mnt/data", "/opt", "/opt/x"}) {
    REQUIRE(::mkdir((r + dir).c_str(), 0755) == 0);
  }
  REQUIRE(!kiln::write_file_atomic(r + "/etc/hosts", ""));
  REQUIRE(!kiln::write_file_atomic(r + "/opt/x/kept", "data"));
  rt::remove_mount_stubs(stubs);
  CHECK(!kiln::fs::exists(r + "/dev"));
  CHECK(!kiln::fs::exists(r + "/proc"));
  CHECK(!kiln::fs::exists(r + "/mnt"));
  CHECK(!kiln::fs::exists(r + "/etc/hosts"));
  CHECK(kiln::fs::exists(r + "/opt/x/kept"));
  CHECK(kiln::fs::exists(r + "/etc/passwd"));
}
