// The emulator check before RUN steps and containers of other platforms, against
// a fake binfmt_misc directory.

#include <catch2/catch.hpp>

#include "runtime/binfmt.h"
#include "support/error.h"
#include "tests/testutil/testutil.h"

using namespace kiln;
using kiln::testutil::TempDir;
using kiln::testutil::write_file;

namespace {

bool runnable(const std::string& platform, const std::string& dir) {
  return !error_message(runtime::check_platform_runnable(platform, dir)).size();
}

}  // namespace

TEST_CASE("qemu names of GOARCH values", "[binfmt]") {
  CHECK(runtime::qemu_arch("arm64") == "aarch64");
  CHECK(runtime::qemu_arch("amd64") == "x86_64");
  CHECK(runtime::qemu_arch("arm") == "arm");
  CHECK(runtime::qemu_arch("riscv64") == "riscv64");
  CHECK(runtime::qemu_arch("mips64le") == "mips64el");
  CHECK(runtime::qemu_arch("nonsense").empty());
}

#if defined(__x86_64__)
TEST_CASE("a platform without a registered emulator is refused with the fix", "[binfmt]") {
  TempDir dir;
  write_file(dir.path() + "/status", "enabled\n");
  CHECK(runnable("linux/amd64", dir.path()));
  CHECK(runnable("linux/386", dir.path()));

  llvm::Error err = runtime::check_platform_runnable("linux/arm64", dir.path());
  REQUIRE(static_cast<bool>(err));
  CHECK(error_message(std::move(err)) ==
        "platform 'linux/arm64' needs an emulator: no binfmt_misc handler 'qemu-aarch64' is "
        "registered in '" +
            dir.path() +
            "' (run 'kiln setup binfmt' as root to register qemu-user-static's emulators)");

  // Registered without fix-binary: the interpreter is not in the container's root.
  write_file(dir.path() + "/qemu-aarch64",
             "enabled\ninterpreter /usr/libexec/qemu-binfmt/aarch64-binfmt-P\nflags: P\n"
             "offset 0\nmagic 7f454c46\n");
  err = runtime::check_platform_runnable("linux/arm64", dir.path());
  REQUIRE(static_cast<bool>(err));
  CHECK(error_message(std::move(err)).find("lacks the fix-binary flag (F)") != std::string::npos);

  write_file(dir.path() + "/qemu-aarch64",
             "disabled\ninterpreter /usr/libexec/qemu-binfmt/aarch64-binfmt-P\nflags: PF\n");
  err = runtime::check_platform_runnable("linux/arm64", dir.path());
  REQUIRE(static_cast<bool>(err));
  CHECK(error_message(std::move(err)).find("is disabled") != std::string::npos);

  write_file(dir.path() + "/qemu-aarch64",
             "enabled\ninterpreter /usr/libexec/qemu-binfmt/aarch64-binfmt-P\nflags: PF\n");
  CHECK(runnable("linux/arm64", dir.path()));

  // binfmt_misc itself turned off.
  write_file(dir.path() + "/status", "disabled\n");
  CHECK(!runnable("linux/arm64", dir.path()));

  err = runtime::check_platform_runnable("linux/sparc", dir.path());
  REQUIRE(static_cast<bool>(err));
  CHECK(error_message(std::move(err)) == "platform 'linux/sparc': kiln knows no emulator for it");
}
#endif
