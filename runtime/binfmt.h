// Running binaries of other architectures: the kernel's binfmt_misc handlers for
// Debian's qemu-user-static. kiln checks for a handler before a RUN step of
// another platform (refusing rather than running the wrong binary) and registers
// them with the fix-binary flag for `kiln setup binfmt`.
#pragma once

#include <string>
#include <vector>

#include <llvm/ADT/StringRef.h>
#include <llvm/Support/Error.h>

namespace kiln::runtime {

/// Where binfmt_misc is mounted.
inline constexpr const char* kBinfmtDir = "/proc/sys/fs/binfmt_misc";
/// Where qemu-user-static (binfmt-support's format) describes its handlers.
inline constexpr const char* kBinfmtDefinitions = "/usr/share/binfmts";

/// qemu's name for the GOARCH `arch` ("arm64" -> "aarch64", "amd64" -> "x86_64");
/// "" when kiln does not know it.
std::string qemu_arch(llvm::StringRef arch);

/// Whether this machine runs binaries of `platform` ("linux/arm64") without help:
/// the host's own architecture (and 386 on amd64, arm on arm64).
bool runs_natively(llvm::StringRef platform);

/// Succeeds when binaries of `platform` can run: natively, or through an enabled
/// binfmt_misc handler `qemu-<arch>` in `binfmt_dir` with the fix-binary flag (F),
/// which a container needs (its root has no emulator). Otherwise an error that
/// names the platform and says to run `kiln setup binfmt`. An empty `binfmt_dir`
/// is `$KILN_BINFMT_DIR` when set (tests point it at a directory of their own), else
/// kBinfmtDir.
llvm::Error check_platform_runnable(llvm::StringRef platform, llvm::StringRef binfmt_dir = "");

/// What `register_emulators` did for one handler.
struct BinfmtRegistration {
  /// "qemu-aarch64".
  std::string name;
  /// "registered", "already registered", "enabled" (was registered but disabled) or
  /// "re-registered with fix-binary".
  std::string action;
};

/// Mounts binfmt_misc at `binfmt_dir` when it is not mounted, then registers every
/// qemu-user-static handler described in `definitions` (except the host's own
/// architecture) with the fix-binary flag. Idempotent: a handler already registered
/// with F is kept (enabled if it was disabled); one without F is replaced. Needs root. Fails naming
/// the handler and the file when the kernel refuses.
llvm::Expected<std::vector<BinfmtRegistration>> register_emulators(
    llvm::StringRef binfmt_dir = kBinfmtDir, llvm::StringRef definitions = kBinfmtDefinitions);

}  // namespace kiln::runtime
