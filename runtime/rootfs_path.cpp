#include "runtime/rootfs_path.h"

#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <deque>
#include <set>

#include <llvm/ADT/SmallVector.h>

#include "support/error.h"
#include "support/fs.h"

namespace kiln::runtime {
namespace {

constexpr int kMaxSymlinks = 255;

void push_components(llvm::StringRef path, std::deque<std::string>& out, bool front) {
  llvm::SmallVector<llvm::StringRef, 16> parts;
  path.split(parts, '/', -1, false);
  if (front) {
    for (auto it = parts.rbegin(); it != parts.rend(); ++it) {
      out.push_front(it->str());
    }
  } else {
    for (auto part : parts) {
      out.push_back(part.str());
    }
  }
}

std::string host_path(llvm::StringRef rootfs, const std::vector<std::string>& parts, size_t count) {
  std::string out = rootfs.rtrim('/').str();
  for (size_t i = 0; i < count; ++i) {
    out += "/" + parts[i];
  }
  return out.empty() ? "/" : out;
}

// Resolves `path` inside `rootfs` into real components (no symlinks, no "..").
llvm::Expected<std::vector<std::string>> resolve_components(llvm::StringRef rootfs,
                                                            llvm::StringRef path) {
  std::vector<std::string> done;
  std::deque<std::string> pending;
  push_components(path, pending, false);
  int links = 0;
  bool missing = false;
  while (!pending.empty()) {
    std::string part = std::move(pending.front());
    pending.pop_front();
    if (part == ".") {
      continue;
    }
    if (part == "..") {
      if (!done.empty()) {
        done.pop_back();
      }
      continue;
    }
    done.push_back(part);
    if (missing) {
      continue;
    }
    std::string candidate = host_path(rootfs, done, done.size());
    struct stat st {};
    if (::lstat(candidate.c_str(), &st) != 0) {
      missing = true;
      continue;
    }
    if (!S_ISLNK(st.st_mode)) {
      continue;
    }
    if (++links > kMaxSymlinks) {
      return make_error("resolve " + quote(path) + " in the rootfs: too many symlinks");
    }
    char target[4096];
    ssize_t n = ::readlink(candidate.c_str(), target, sizeof(target) - 1);
    if (n < 0) {
      return make_io_error("read link", candidate, errno);
    }
    done.pop_back();
    llvm::StringRef link(target, static_cast<size_t>(n));
    if (link.startswith("/")) {
      done.clear();
    }
    push_components(link, pending, true);
  }
  return done;
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
