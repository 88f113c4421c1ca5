// Laying a one-layer snapshot over another chain (link layers): the check that
// the result equals writing the layer's entries into the merged file system, and
// the new snapshot that shares the layer's files.
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <set>
#include <string>
#include <vector>

#include <llvm/ADT/SmallVector.h>

#include "cache/snapshot.h"
#include "support/error.h"
#include "support/fs.h"

namespace kiln::cache {

bool is_whiteout(const struct stat& st) {
  return S_ISCHR(st.st_mode) && st.st_rdev == makedev(0, 0);
}

bool is_opaque_dir(const std::string& path) {
  char value = 0;
  return ::lgetxattr(path.c_str(), "trusted.overlay.opaque", &value, 1) == 1 && value == 'y';
}

namespace {

bool has_xattrs(const std::string& path) { return ::llistxattr(path.c_str(), nullptr, 0) > 0; }

/// The names in directory `dir`, without "." and "..".
llvm::Expected<std::vector<std::string>> list_dir(const std::string& dir) {
  DIR* d = ::opendir(dir.c_str());
  if (!d) {
    return make_io_error("read directory", dir, errno);
  }
  std::vector<std::string> names;
  while (dirent* e = ::readdir(d)) {
    llvm::StringRef name(e->d_name);
    if (name != "." && name != "..") {
      names.push_back(name.str());
    }
  }
  ::closedir(d);
  return names;
}

}  // namespace

MergedEntry merged_lookup(llvm::ArrayRef<std::string> lowers, llvm::StringRef rel) {
  llvm::SmallVector<llvm::StringRef, 8> parts;
  rel.split(parts, '/', -1, false);
  if (parts.empty()) {
    return {};
  }
  for (const std::string& layer : lowers) {
    // Component by component, so that no symlink in a layer is followed.
    std::string path = layer;
    bool opaque_above = false;
    for (size_t i = 0; i < parts.size(); ++i) {
      path += "/" + parts[i].str();
      struct stat st {};
      if (::lstat(path.c_str(), &st) != 0) {
        if (opaque_above) {
          return {};  // an opaque directory of this layer hides the layers below
        }
        break;  // not in this layer: look below
      }
      if (is_whiteout(st)) {
        return {};
      }
      if (i + 1 == parts.size()) {
        return {S_ISDIR(st.st_mode) ? MergedKind::dir : MergedKind::other, st, path};
      }
      if (!S_ISDIR(st.st_mode)) {
        return {};  // a file or symlink here hides everything below it
      }
      opaque_above = opaque_above || is_opaque_dir(path);
    }
  }
  return {};
}

bool merged_dir_empty(llvm::ArrayRef<std::string> lowers, llvm::StringRef rel) {
  std::set<std::string> hidden;
  for (const std::string& layer : lowers) {
    std::string path = layer + "/" + rel.str();
    struct stat st {};
    if (::lstat(path.c_str(), &st) != 0) {
      continue;  // merged_lookup() said the ancestors are directories
    }
    if (!S_ISDIR(st.st_mode)) {
      return true;
    }
    auto names = list_dir(path);
    if (!names) {
      llvm::consumeError(names.takeError());
      return false;
    }
    for (const std::string& name : *names) {
      struct stat cst {};
      if (::lstat((path + "/" + name).c_str(), &cst) == 0 && is_whiteout(cst)) {
        hidden.insert(name);
      } else if (!hidden.count(name)) {
        return false;
      }
    }
    if (is_opaque_dir(path)) {
      return true;
    }
  }
  return true;
}

bool lays_over_cleanly(const std::string& layer, llvm::ArrayRef<std::string> lowers,
                       const std::string& rel) {
  std::string dir = rel.empty() ? layer : layer + "/" + rel;
  auto names = list_dir(dir);
  if (!names) {
    llvm::consumeError(names.takeError());
    return false;
  }
  for (const std::string& name : *names) {
    std::string child = rel.empty() ? name : rel + "/" + name;
    MergedEntry below = merged_lookup(lowers, child);
    if (below.kind == MergedKind::absent) {
      continue;  // nothing below it either
    }
    struct stat st {};
    std::string path = layer + "/" + child;
    if (below.kind != MergedKind::dir || ::lstat(path.c_str(), &st) != 0 || !S_ISDIR(st.st_mode) ||
        (st.st_mode & 07777) != (below.st.st_mode & 07777) || st.st_uid != below.st.st_uid ||
        st.st_gid != below.st.st_gid || has_xattrs(below.path) || has_xattrs(path) ||
        !lays_over_cleanly(layer, lowers, child)) {
      return false;
    }
  }
  return true;
}

llvm::Expected<std::vector<std::string>> SnapshotStore::merged_lowers(const Digest& chain) const {
  auto lowers = lower_dirs(chain);
  if (!lowers) {
    return lowers.takeError();
  }
  // overlayfs ignores an opaque lower root: a layer whose root is opaque hides
  // the layers below it (MutableSnapshot leaves them out too).
  for (size_t i = 0; i < lowers->size(); ++i) {
    if (is_opaque_dir((*lowers)[i])) {
      lowers->resize(i + 1);
      break;
    }
  }
  return lowers;
}

namespace {

/// Whether `path` is absent from the merged `lowers` or an empty directory there.
bool absent_or_empty(llvm::ArrayRef<std::string> lowers, llvm::StringRef path) {
  std::string rel = path.trim('/').str();
  if (rel.empty()) {
    return merged_dir_empty(lowers, "");
  }
  MergedEntry e = merged_lookup(lowers, rel);
  return e.kind == MergedKind::absent ||
         (e.kind == MergedKind::dir && merged_dir_empty(lowers, rel));
}

}  // namespace

llvm::Expected<bool> SnapshotStore::absent_or_empty_dir(std::optional<Digest> chain,
                                                        llvm::StringRef path) const {
  if (!chain) {
    return true;
  }
  auto lowers = merged_lowers(*chain);
  if (!lowers) {
    return lowers.takeError();
  }
  return absent_or_empty(*lowers, path);
}

llvm::Expected<std::optional<Digest>> SnapshotStore::lay_over(const Digest& layer,
                                                              std::optional<Digest> parent,
                                                              llvm::StringRef dest) const {
  if (!parent) {
    return std::optional<Digest>(layer);  // over the empty file system: itself
  }
  auto lowers = merged_lowers(*parent);
  if (!lowers) {
    return lowers.takeError();
  }
  if ((!dest.empty() && !absent_or_empty(*lowers, dest)) ||
      !lays_over_cleanly(fs_dir(layer), *lowers, "")) {
    return std::nullopt;
  }
  auto diff = diff_id(layer);
  if (!diff) {
    return diff.takeError();
  }
  Digest id = chain_id(*parent, *diff);
  if (contains(id)) {
    return std::optional<Digest>(id);
  }
  // The new snapshot's fs is a symlink to the layer's: snapshots are immutable
  // and never removed while others use them, so the two can share the files.
  auto tmp = fs::make_temp_dir(root_ + "/tmp", "link-");
  if (!tmp) {
    return tmp.takeError();
  }
  auto added = [&]() -> llvm::Expected<Digest> {
    auto lock =
        FileLock::acquire(*tmp, LockMode::exclusive,
                          LockTarget::directory);  // keeps remove_stale() of other processes off it
    if (!lock) {
      return lock.takeError();
    }
    std::string link = *tmp + "/fs";
    if (::symlink(("../" + layer.hex() + "/fs").c_str(), link.c_str()) != 0) {
      return make_io_error("create symlink", link, errno);
    }
    return add_dir(link, parent, *diff);
  }();
  llvm::consumeError(fs::remove_all(*tmp));
  if (!added) {
    return with_context(added.takeError(),
                        "lay layer " + quote(diff->str()) + " over " + quote(parent->str()));
  }
  return std::optional<Digest>(*added);
}

}  // namespace kiln::cache
