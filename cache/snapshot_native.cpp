// The native snapshotter's file work: merging a chain of overlay-form layers into
// one copy, and turning a changed copy back into an overlay-form diff.
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "cache/snapshot.h"
#include "support/error.h"
#include "support/fs.h"

namespace kiln::cache {
namespace {

constexpr llvm::StringLiteral kOverlayXattrPrefix = "trusted.overlay.";

/// One file of a tree: where it is and its lstat.
struct Node {
  std::string path;
  struct stat st {};
};

/// Relative path ("a/b") -> node. Sorted, so a directory precedes its contents
/// and a subtree ("a/...") is one contiguous range.
using Tree = std::map<std::string, Node>;

void erase_children(Tree& tree, const std::string& rel) {
  std::string prefix = rel + "/";
  auto it = tree.lower_bound(prefix);
  while (it != tree.end() && llvm::StringRef(it->first).startswith(prefix)) {
    it = tree.erase(it);
  }
}

/// Calls `fn(rel, node)` for every entry below `dir`, parents first; `fn` returns
/// whether to descend into a directory.
llvm::Error walk(const std::string& dir, const std::string& rel,
                 const std::function<bool(const std::string&, const Node&)>& fn) {
  std::unique_ptr<DIR, int (*)(DIR*)> d(::opendir(dir.c_str()), ::closedir);
  if (!d) {
    return make_io_error("open directory", dir, errno);
  }
  std::vector<std::string> names;
  while (struct dirent* ent = ::readdir(d.get())) {
    llvm::StringRef name(ent->d_name);
    if (name != "." && name != "..") {
      names.push_back(name.str());
    }
  }
  d.reset();
  std::sort(names.begin(), names.end());
  for (const std::string& name : names) {
    Node node;
    node.path = dir + "/" + name;
    if (::lstat(node.path.c_str(), &node.st) != 0) {
      return make_io_error("stat", node.path, errno);
    }
    std::string child = rel.empty() ? name : rel + "/" + name;
    if (fn(child, node) && S_ISDIR(node.st.st_mode)) {
      if (auto err = walk(node.path, child, fn)) {
        return err;
      }
    }
  }
  return llvm::Error::success();
}

/// The merged view of overlay-form `lowers` (topmost first).
llvm::Expected<Tree> merge_layers(llvm::ArrayRef<std::string> lowers) {
  Tree tree;
  for (auto layer = lowers.rbegin(); layer != lowers.rend(); ++layer) {
    auto err = walk(*layer, "", [&](const std::string& rel, const Node& node) {
      if (is_whiteout(node.st)) {
        erase_children(tree, rel);
        tree.erase(rel);
        return false;
      }
      auto it = tree.find(rel);
      bool dir = S_ISDIR(node.st.st_mode);
      if ((it != tree.end() && !(dir && S_ISDIR(it->second.st.st_mode))) ||
          (dir && is_opaque_dir(node.path))) {
        erase_children(tree, rel);
      }
      tree[rel] = node;
      return true;
    });
    if (err) {
      return err;
    }
  }
  return tree;
}

/// xattrs other than trusted.overlay.*, sorted.
std::map<std::string, std::string> read_xattrs(const std::string& path) {
  std::map<std::string, std::string> out;
  char names[65536];
  ssize_t size = ::llistxattr(path.c_str(), names, sizeof(names));
  for (ssize_t pos = 0; size > 0 && pos < size;) {
    std::string name(names + pos);
    pos += static_cast<ssize_t>(name.size()) + 1;
    if (llvm::StringRef(name).startswith(kOverlayXattrPrefix)) {
      continue;
    }
    std::string value(65536, '\0');
    ssize_t n = ::lgetxattr(path.c_str(), name.c_str(), value.data(), value.size());
    if (n >= 0) {
      value.resize(static_cast<size_t>(n));
      out.emplace(std::move(name), std::move(value));
    }
  }
  return out;
}

std::string read_link(const std::string& path) {
  char buf[4096];
  ssize_t n = ::readlink(path.c_str(), buf, sizeof(buf));
  return n < 0 ? std::string() : std::string(buf, static_cast<size_t>(n));
}

llvm::Error copy_contents(const std::string& from, const std::string& to) {
  int in = ::open(from.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (in < 0) {
    return make_io_error("open", from, errno);
  }
  int out = ::open(to.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (out < 0) {
    int e = errno;
    ::close(in);
    return make_io_error("create", to, e);
  }
  llvm::Error err = llvm::Error::success();
  while (true) {
    ssize_t n = ::copy_file_range(in, nullptr, out, nullptr, 1 << 30, 0);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n < 0) {
      err = make_io_error("copy", from, errno);
    }
    if (n <= 0) {
      break;
    }
  }
  ::close(in);
  ::close(out);
  return err;
}

/// Sets owner, mode, xattrs and (except for directories) times of `to` from `node`.
llvm::Error copy_metadata(const Node& node, const std::string& to) {
  const struct stat& st = node.st;
  if (::lchown(to.c_str(), st.st_uid, st.st_gid) != 0) {
    return make_io_error("chown", to, errno);
  }
  if (!S_ISLNK(st.st_mode) && ::chmod(to.c_str(), st.st_mode & 07777) != 0) {
    return make_io_error("chmod", to, errno);
  }
  for (const auto& [name, value] : read_xattrs(node.path)) {
    if (::lsetxattr(to.c_str(), name.c_str(), value.data(), value.size(), 0) != 0) {
      return make_io_error("set xattr '" + name + "' on", to, errno);
    }
  }
  if (!S_ISDIR(st.st_mode)) {
    struct timespec times[2] = {st.st_atim, st.st_mtim};
    if (::utimensat(AT_FDCWD, to.c_str(), times, AT_SYMLINK_NOFOLLOW) != 0) {
      return make_io_error("set times of", to, errno);
    }
  }
  return llvm::Error::success();
}

/// Creates `to` as a copy of `node` (not its directory contents).
llvm::Error copy_node(const Node& node, const std::string& to) {
  const struct stat& st = node.st;
  int rc = 0;
  if (S_ISDIR(st.st_mode)) {
    rc = ::mkdir(to.c_str(), 0700);
  } else if (S_ISREG(st.st_mode)) {
    if (auto err = copy_contents(node.path, to)) {
      return err;
    }
  } else if (S_ISLNK(st.st_mode)) {
    rc = ::symlink(read_link(node.path).c_str(), to.c_str());
  } else if (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode) || S_ISFIFO(st.st_mode)) {
    rc = ::mknod(to.c_str(), st.st_mode, st.st_rdev);
  } else {
    return llvm::Error::success();  // sockets are not copied
  }
  if (rc != 0) {
    return make_io_error("create", to, errno);
  }
  return copy_metadata(node, to);
}

llvm::Error set_dir_times(const Tree& tree, const std::string& dest) {
  for (auto it = tree.rbegin(); it != tree.rend(); ++it) {
    const struct stat& st = it->second.st;
    if (!S_ISDIR(st.st_mode)) {
      continue;
    }
    std::string to = dest + "/" + it->first;
    struct timespec times[2] = {st.st_atim, st.st_mtim};
    if (::utimensat(AT_FDCWD, to.c_str(), times, AT_SYMLINK_NOFOLLOW) != 0) {
      return make_io_error("set times of", to, errno);
    }
  }
  return llvm::Error::success();
}

/// True when the files `a` and `b` hold the same bytes (read in blocks).
bool same_contents(const std::string& a, const std::string& b) {
  int fa = ::open(a.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  int fb = ::open(b.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  bool same = fa >= 0 && fb >= 0;
  std::vector<char> x(1 << 16), y(1 << 16);
  while (same) {
    ssize_t n = ::read(fa, x.data(), x.size());
    if (n <= 0) {
      same = n == 0 && ::read(fb, y.data(), 1) == 0;
      break;
    }
    ssize_t got = 0;
    while (got < n) {
      ssize_t m = ::read(fb, y.data() + got, static_cast<size_t>(n - got));
      if (m <= 0) {
        break;
      }
      got += m;
    }
    same = got == n && std::memcmp(x.data(), y.data(), static_cast<size_t>(n)) == 0;
  }
  if (fa >= 0) {
    ::close(fa);
  }
  if (fb >= 0) {
    ::close(fb);
  }
  return same;
}

bool changed(const Node& lower, const Node& upper) {
  const struct stat& a = lower.st;
  const struct stat& b = upper.st;
  if (a.st_mode != b.st_mode || a.st_uid != b.st_uid || a.st_gid != b.st_gid) {
    return true;
  }
  if (!S_ISLNK(a.st_mode) &&
      (a.st_mtim.tv_sec != b.st_mtim.tv_sec || a.st_mtim.tv_nsec != b.st_mtim.tv_nsec)) {
    return true;
  }
  if (S_ISREG(a.st_mode)) {
    if (a.st_size != b.st_size) {
      return true;
    }
    // Whole-second mtimes are too coarse to trust: compare the bytes.
    if (b.st_mtim.tv_nsec == 0 && !same_contents(lower.path, upper.path)) {
      return true;
    }
  }
  if (S_ISLNK(a.st_mode) && read_link(lower.path) != read_link(upper.path)) {
    return true;
  }
  if ((S_ISCHR(a.st_mode) || S_ISBLK(a.st_mode)) && a.st_rdev != b.st_rdev) {
    return true;
  }
  return read_xattrs(lower.path) != read_xattrs(upper.path);
}

std::string parent_of(const std::string& rel) {
  size_t slash = rel.rfind('/');
  return slash == std::string::npos ? std::string() : rel.substr(0, slash);
}

}  // namespace

llvm::Error copy_merged(llvm::ArrayRef<std::string> lowers, llvm::StringRef dest,
                        Overwrite overwrite) {
  auto tree = merge_layers(lowers);
  if (!tree) {
    return tree.takeError();
  }
  std::map<std::pair<dev_t, ino_t>, std::string> links;
  for (const auto& [rel, node] : *tree) {
    std::string to = dest.str() + "/" + rel;
    struct stat there {};
    if (overwrite == Overwrite::yes && ::lstat(to.c_str(), &there) == 0) {
      if (S_ISDIR(there.st_mode) && S_ISDIR(node.st.st_mode)) {
        if (auto err = copy_metadata(node, to)) {
          return err;
        }
        continue;
      }
      if (auto err = fs::remove_all(to)) {
        return err;
      }
    }
    if (S_ISREG(node.st.st_mode) && node.st.st_nlink > 1) {
      auto [it, first] = links.try_emplace({node.st.st_dev, node.st.st_ino}, to);
      if (!first) {
        if (::link(it->second.c_str(), to.c_str()) != 0) {
          return make_io_error("link", to, errno);
        }
        continue;
      }
    }
    if (auto err = copy_node(node, to)) {
      return err;
    }
  }
  return set_dir_times(*tree, dest.str());
}

llvm::Error compute_diff(llvm::ArrayRef<std::string> lowers, llvm::StringRef rootfs,
                         llvm::StringRef diff) {
  auto lower = merge_layers(lowers);
  if (!lower) {
    return lower.takeError();
  }
  Tree upper;
  if (auto err = walk(rootfs.str(), "", [&](const std::string& rel, const Node& node) {
        upper[rel] = node;
        return true;
      })) {
    return err;
  }
  std::set<std::string> include;
  std::set<std::string> deleted;
  for (const auto& [rel, node] : upper) {
    auto it = lower->find(rel);
    if (it == lower->end() || changed(it->second, node)) {
      include.insert(rel);
    }
  }
  for (const auto& [rel, node] : *lower) {
    std::string parent = parent_of(rel);
    auto p = upper.find(parent);
    if (upper.count(rel) == 0 &&
        (parent.empty() || (p != upper.end() && S_ISDIR(p->second.st.st_mode)))) {
      deleted.insert(rel);
    }
  }
  for (const std::set<std::string>* set : {&include, &deleted}) {
    for (const std::string& rel : *set) {
      for (std::string p = parent_of(rel); !p.empty(); p = parent_of(p)) {
        if (!include.insert(p).second) {
          break;
        }
      }
    }
  }
  if (auto err = fs::make_dirs(diff)) {
    return err;
  }
  Tree written;
  std::set<std::string> all(include.begin(), include.end());
  all.insert(deleted.begin(), deleted.end());
  for (const std::string& rel : all) {
    std::string to = diff.str() + "/" + rel;
    if (deleted.count(rel) != 0) {
      if (::mknod(to.c_str(), S_IFCHR, makedev(0, 0)) != 0) {
        return make_io_error("create whiteout", to, errno);
      }
      continue;
    }
    const Node& node = upper.at(rel);
    if (S_ISREG(node.st.st_mode)) {
      if (::link(node.path.c_str(), to.c_str()) != 0) {
        return make_io_error("link", to, errno);
      }
      continue;
    }
    if (auto err = copy_node(node, to)) {
      return err;
    }
    written[rel] = node;
  }
  return set_dir_times(written, diff.str());
}

}  // namespace kiln::cache
