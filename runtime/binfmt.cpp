#include "runtime/binfmt.h"

#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <map>

#include <llvm/ADT/SmallVector.h>
#include <llvm/Support/FileSystem.h>
#include <llvm/Support/Path.h>

#include "support/error.h"
#include "support/fs.h"

namespace kiln::runtime {
namespace {

std::string host_arch() {
#if defined(__aarch64__)
  return "arm64";
#elif defined(__arm__)
  return "arm";
#else
  return "amd64";
#endif
}

/// The architecture of "os/arch[/variant]".
llvm::StringRef arch_of(llvm::StringRef platform) {
  return platform.split('/').second.split('/').first;
}

/// One handler's state as /proc/sys/fs/binfmt_misc/NAME shows it.
struct HandlerState {
  bool exists = false;
  bool enabled = false;
  bool fix_binary = false;
};

HandlerState read_handler(llvm::StringRef dir, llvm::StringRef name) {
  HandlerState s;
  auto text = fs::read_file((dir + "/" + name).str());
  if (!text) {
    llvm::consumeError(text.takeError());
    return s;
  }
  s.exists = true;
  llvm::SmallVector<llvm::StringRef, 8> lines;
  llvm::StringRef(*text).split(lines, '\n', -1, false);
  for (llvm::StringRef line : lines) {
    if (line == "enabled") {
      s.enabled = true;
    } else if (line.consume_front("flags: ")) {
      s.fix_binary = line.contains('F');
    }
  }
  return s;
}

bool binfmt_enabled(llvm::StringRef dir) {
  auto status = fs::read_file((dir + "/status").str());
  if (!status) {
    llvm::consumeError(status.takeError());
    return false;
  }
  return llvm::StringRef(*status).trim() == "enabled";
}

/// A binfmt-support definition file: "key value" lines.
std::map<std::string, std::string> read_definition(llvm::StringRef text) {
  std::map<std::string, std::string> out;
  llvm::SmallVector<llvm::StringRef, 16> lines;
  text.split(lines, '\n', -1, false);
  for (llvm::StringRef line : lines) {
    auto [key, value] = line.split(' ');
    out[key.trim().str()] = value.trim().str();
  }
  return out;
}

llvm::Error write_text(llvm::StringRef path, llvm::StringRef text) {
  int fd = ::open(path.str().c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) {
    return make_error("open " + quote(path) + ": " + std::strerror(errno));
  }
  ssize_t n = ::write(fd, text.data(), text.size());
  int saved = errno;
  ::close(fd);
  if (n != static_cast<ssize_t>(text.size())) {
    return make_error("write " + quote(path) + ": " + std::strerror(saved));
  }
  return llvm::Error::success();
}

llvm::Error mount_binfmt(llvm::StringRef dir) {
  if (::access((dir + "/register").str().c_str(), F_OK) == 0) {
    return llvm::Error::success();
  }
  if (::mount("binfmt_misc", dir.str().c_str(), "binfmt_misc", 0, nullptr) != 0) {
    return make_error("mount binfmt_misc on " + quote(dir) + ": " + std::strerror(errno));
  }
  return llvm::Error::success();
}

}  // namespace

std::string qemu_arch(llvm::StringRef arch) {
  static const std::map<std::string, std::string> kNames = {
      {"amd64", "x86_64"},       {"arm64", "aarch64"}, {"arm", "arm"},       {"386", "i386"},
      {"ppc64le", "ppc64le"},    {"ppc64", "ppc64"},   {"s390x", "s390x"},   {"riscv64", "riscv64"},
      {"mips64le", "mips64el"},  {"mips64", "mips64"}, {"mipsle", "mipsel"}, {"mips", "mips"},
      {"loong64", "loongarch64"}};
  auto it = kNames.find(arch.str());
  return it == kNames.end() ? std::string() : it->second;
}

bool runs_natively(llvm::StringRef platform) {
  llvm::StringRef arch = arch_of(platform);
  std::string host = host_arch();
  return arch == host || (host == "amd64" && arch == "386") || (host == "arm64" && arch == "arm");
}

llvm::Error check_platform_runnable(llvm::StringRef platform, llvm::StringRef dir_arg) {
  if (runs_natively(platform)) {
    return llvm::Error::success();
  }
  const char* env = std::getenv("KILN_BINFMT_DIR");
  llvm::StringRef binfmt_dir = !dir_arg.empty() ? dir_arg : env && *env ? env : kBinfmtDir;
  std::string qemu = qemu_arch(arch_of(platform));
  if (qemu.empty()) {
    return make_error("platform " + quote(platform) + ": kiln knows no emulator for it");
  }
  std::string fix = " (run 'kiln setup binfmt' as root to register qemu-user-static's emulators)";
  std::string name = "qemu-" + qemu;
  HandlerState s = read_handler(binfmt_dir, name);
  if (!s.exists || !binfmt_enabled(binfmt_dir)) {
    return make_error("platform " + quote(platform) +
                      " needs an emulator: no binfmt_misc handler " + quote(name) +
                      " is registered in " + quote(binfmt_dir) + fix);
  }
  if (!s.enabled) {
    return make_error("platform " + quote(platform) + " needs an emulator: binfmt_misc handler " +
                      quote(name) + " is disabled" + fix);
  }
  if (!s.fix_binary) {
    return make_error("platform " + quote(platform) + " needs an emulator: binfmt_misc handler " +
                      quote(name) +
                      " lacks the fix-binary flag (F), so it cannot run in a container" + fix);
  }
  return llvm::Error::success();
}

llvm::Expected<std::vector<BinfmtRegistration>> register_emulators(llvm::StringRef binfmt_dir,
                                                                   llvm::StringRef definitions) {
  if (auto err = mount_binfmt(binfmt_dir)) {
    return std::move(err);
  }
  if (!binfmt_enabled(binfmt_dir)) {
    if (auto err = write_text((binfmt_dir + "/status").str(), "1")) {
      return std::move(err);
    }
  }
  std::vector<std::string> files;
  std::error_code ec;
  for (llvm::sys::fs::directory_iterator it(definitions, ec), end; it != end && !ec;
       it.increment(ec)) {
    llvm::StringRef file = llvm::sys::path::filename(it->path());
    if (file.startswith("qemu-")) {
      files.push_back(file.str());
    }
  }
  if (ec || files.empty()) {
    return make_error("no qemu-user-static handlers in " + quote(definitions) +
                      " (install Debian's qemu-user-static)");
  }
  std::sort(files.begin(), files.end());
  std::string host_qemu = qemu_arch(host_arch());
  std::vector<BinfmtRegistration> out;
  for (const std::string& name : files) {
    if (name == "qemu-" + host_qemu) {
      continue;
    }
    std::string path = (definitions + "/" + name).str();
    auto text = fs::read_file(path);
    if (!text) {
      return text.takeError();
    }
    auto def = read_definition(*text);
    if (def["magic"].empty() || def["interpreter"].empty() ||
        ::access(def["interpreter"].c_str(), X_OK) != 0) {
      continue;  // a handler whose emulator is not installed
    }
    HandlerState s = read_handler(binfmt_dir, name);
    if (s.exists && s.fix_binary) {
      if (!s.enabled) {
        if (auto err = write_text((binfmt_dir + "/" + name).str(), "1")) {
          return std::move(err);
        }
        out.push_back({name, "enabled"});
      } else {
        out.push_back({name, "already registered"});
      }
      continue;
    }
    if (s.exists) {
      if (auto err = write_text((binfmt_dir + "/" + name).str(), "-1")) {
        return std::move(err);
      }
    }
    std::string flags = "F";
    if (def["preserve"] == "yes") {
      flags += "P";
    }
    if (def["credentials"] == "yes") {
      flags += "C";
    }
    std::string rule = ":" + name + ":M:" + def["offset"] + ":" + def["magic"] + ":" + def["mask"] +
                       ":" + def["interpreter"] + ":" + flags;
    if (auto err = write_text((binfmt_dir + "/register").str(), rule)) {
      return with_context(std::move(err), "register " + quote(name) + " from " + quote(path));
    }
    out.push_back({name, s.exists ? "re-registered with fix-binary" : "registered"});
  }
  return out;
}

}  // namespace kiln::runtime
