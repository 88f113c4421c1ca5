#include "runtime/rootfs_path.h"

#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <set>

#include "support/error.h"
#include "support/fs.h"
#include "support/root_path.h"

namespace kiln::runtime {
namespace {

std::string host_path(llvm::StringRef rootfs, const std::vector<std::string>& parts, size_t count) {
  std::string out = rootfs.rtrim('/').str();
  if (count > 0) {
    out += "/" + join_path_parts(parts, count);
  }
  return out.empty() ? "/" : out;
}

// Resolves `path` inside `rootfs` into real components (no symlinks, no "..").
llvm::Expected<std::vector<std::string>> resolve_components(llvm::StringRef rootfs,
                                                            llvm::StringRef path) {
  return resolve_below_root(rootfs, path, true, "the rootfs");
}

bool is_empty_stub(const std::string& path) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) {
    return false;
  }
  if (S_ISREG(st.st_mode)) {
    return st.st_size == 0;
  }
  if (!S_ISDIR(st.st_mode)) {
    return false;
  }
  DIR* dir = ::opendir(path.c_str());
  if (!dir) {
    return false;
  }
  bool empty = true;
  while (dirent* entry = ::readdir(dir)) {
    llvm::StringRef name(entry->d_name);
    if (name != "." && name != ".." && !is_empty_stub(path + "/" + name.str())) {
      empty = false;
      break;
    }
  }
  ::closedir(dir);
  return empty;
}

}  // namespace

llvm::Expected<std::string> resolve_in_rootfs(llvm::StringRef rootfs, llvm::StringRef path) {
  auto parts = resolve_components(rootfs, path);
  if (!parts) {
    return parts.takeError();
  }
  return host_path(rootfs, *parts, parts->size());
}

llvm::Error make_dirs_in_rootfs(llvm::StringRef rootfs, llvm::StringRef path, uint32_t uid,
                                uint32_t gid, uint32_t mode) {
  auto parts = resolve_components(rootfs, path);
  if (!parts) {
    return parts.takeError();
  }
  for (size_t i = 1; i <= parts->size(); ++i) {
    std::string dir = host_path(rootfs, *parts, i);
    struct stat st {};
    if (::lstat(dir.c_str(), &st) == 0) {
      if (!S_ISDIR(st.st_mode)) {
        return make_io_error("create directory", dir, ENOTDIR);
      }
      continue;
    }
    if (::mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST) {
      return make_io_error("create directory", dir, errno);
    }
    if (::lchown(dir.c_str(), uid, gid) != 0) {
      return make_io_error("change owner of", dir, errno);
    }
    if (mode != 0755 && ::chmod(dir.c_str(), mode) != 0) {
      return make_io_error("change mode of", dir, errno);
    }
  }
  return llvm::Error::success();
}

std::vector<std::string> missing_mount_stubs(llvm::StringRef rootfs,
                                             const std::vector<std::string>& destinations) {
  std::set<std::string> stubs;
  for (const auto& dest : destinations) {
    auto parts = resolve_components(rootfs, dest);
    if (!parts) {
      llvm::consumeError(parts.takeError());
      continue;
    }
    for (size_t i = 1; i <= parts->size(); ++i) {
      std::string candidate = host_path(rootfs, *parts, i);
      if (!fs::exists(candidate)) {
        stubs.insert(candidate);
        break;
      }
    }
  }
  return {stubs.begin(), stubs.end()};
}

void remove_mount_stubs(const std::vector<std::string>& stubs) {
  for (const auto& stub : stubs) {
    if (is_empty_stub(stub)) {
      llvm::consumeError(fs::remove_all(stub));
    }
  }
}

}  // namespace kiln::runtime
