#include "cache/tree_size.h"

#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <memory>

namespace kiln::cache::detail {

void add_entry(const struct stat& st, TreeSize& out) {
  int64_t bytes = static_cast<int64_t>(st.st_blocks) * 512;
  if (!S_ISDIR(st.st_mode) && st.st_nlink > 1) {
    out.shared.emplace_back(static_cast<uint64_t>(st.st_ino), bytes);
  } else {
    out.unique += bytes;
  }
}

static void walk_dir(int dirfd, dev_t dev, TreeSize& out) {
  DIR* d = ::fdopendir(dirfd);
  if (d == nullptr) {
    ::close(dirfd);
    return;
  }
  std::unique_ptr<DIR, int (*)(DIR*)> guard(d, ::closedir);
  while (dirent* e = ::readdir(d)) {
    llvm::StringRef name(e->d_name);
    if (name == "." || name == "..") {
      continue;
    }
    struct stat st {};
    if (::fstatat(::dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 || st.st_dev != dev) {
      continue;
    }
    add_entry(st, out);
    if (S_ISDIR(st.st_mode)) {
      int fd = ::openat(::dirfd(d), e->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (fd >= 0) {
        walk_dir(fd, dev, out);
      }
    }
  }
}

/// The tree at `path` (a file or a directory) on device `dev`.
TreeSize tree_size(const std::string& path, dev_t dev) {
  TreeSize out;
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0 || st.st_dev != dev) {
    return out;
  }
  add_entry(st, out);
  if (S_ISDIR(st.st_mode)) {
    int fd = ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd >= 0) {
      walk_dir(fd, dev, out);
    }
  }
  return out;
}

/// The entry at `path` alone (a directory without its contents).
TreeSize tree_size_top(const std::string& path, dev_t dev) {
  TreeSize out;
  struct stat st {};
  if (::lstat(path.c_str(), &st) == 0 && st.st_dev == dev) {
    add_entry(st, out);
  }
  return out;
}

/// The bytes of `tree` not counted yet, marking its shared inodes seen.
int64_t charge(const TreeSize& tree, dev_t dev, Seen& seen) {
  int64_t bytes = tree.unique;
  for (const auto& [ino, size] : tree.shared) {
    if (seen.insert({static_cast<uint64_t>(dev), ino}).second) {
      bytes += size;
    }
  }
  return bytes;
}

std::string encode_shared(const SharedInodes& shared) {
  std::string out;
  for (const auto& [ino, size] : shared) {
    out += std::to_string(ino) + ":" + std::to_string(size) + ",";
  }
  return out;
}

SharedInodes decode_shared(llvm::StringRef text) {
  SharedInodes out;
  while (!text.empty()) {
    auto [item, rest] = text.split(',');
    text = rest;
    auto [ino, size] = item.split(':');
    uint64_t i = 0;
    int64_t s = 0;
    if (!ino.getAsInteger(10, i) && !size.getAsInteger(10, s)) {
      out.emplace_back(i, s);
    }
  }
  return out;
}

/// Entries of `dir` with their inode numbers (d_ino).
std::vector<std::pair<std::string, uint64_t>> list_dir(const std::string& dir) {
  std::vector<std::pair<std::string, uint64_t>> out;
  std::unique_ptr<DIR, int (*)(DIR*)> d(::opendir(dir.c_str()), ::closedir);
  if (!d) {
    return out;
  }
  while (dirent* e = ::readdir(d.get())) {
    llvm::StringRef name(e->d_name);
    if (name != "." && name != "..") {
      out.emplace_back(name.str(), static_cast<uint64_t>(e->d_ino));
    }
  }
  return out;
}

bool is_hex64(llvm::StringRef s) {
  return s.size() == 64 && s.find_first_not_of("0123456789abcdef") == llvm::StringRef::npos;
}

}  // namespace kiln::cache::detail
