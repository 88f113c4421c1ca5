// COPY/ADD on host directories with Docker's semantics: wildcards, directory
// contents, trailing slashes, --chown by name, --chmod, --parents, --exclude,
// symlinks kept as symlinks, hard links kept within one copy.
#include "solver/ops/file_copy.h"

#include <dirent.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <map>
#include <set>

#include <llvm/ADT/SmallVector.h>
#include <llvm/ADT/StringExtras.h>

#include "cache/context_path.h"
#include "runtime/rootfs_path.h"
#include "runtime/user.h"
#include "support/error.h"
#include "support/fs.h"

namespace kiln::solver::ops::detail {
namespace {

using Owner = std::optional<std::pair<uint32_t, uint32_t>>;

bool has_wildcard(llvm::StringRef p) { return p.find_first_of("*?[") != llvm::StringRef::npos; }

}  // namespace

llvm::Expected<Owner> resolve_owner(const std::string& rootfs, const llb::Chown& chown) {
  if (chown.empty()) {
    return Owner();
  }
  uint32_t uid = chown.uid.value_or(0);
  uint32_t gid = chown.gid.value_or(uid);
  if (!chown.user.empty() || !chown.group.empty()) {
    std::string spec = !chown.user.empty() ? chown.user : std::to_string(uid);
    if (!chown.group.empty()) {
      spec += ":" + chown.group;
    } else if (chown.gid) {
      spec += ":" + std::to_string(*chown.gid);
    }
    auto user = runtime::resolve_user_in_rootfs(rootfs, spec);
    if (!user) {
      return user.takeError();
    }
    uid = user->uid;
    gid = user->gid;
  }
  return Owner(std::make_pair(uid, gid));
}

namespace {

/// State of one copy action: hard links seen, owner and mode rules, excludes.
struct Copier {
  const CopySource& src;
  Owner owner;
  std::string chmod;
  cache::PathFilter excludes;
  std::map<std::pair<dev_t, ino_t>, std::string> links;
  CopyReuse* reuse = nullptr;
  std::string rootfs;

  /// The source path (relative to the source root) that --exclude patterns are
  /// relative to: the copied directory, or the directory of a copied file.
  std::string exclude_base;

  /// Left out by the source's own filter (.dockerignore), `rel` from the source root.
  bool filtered(llvm::StringRef rel, bool is_dir) const {
    return src.filter && !src.filter(rel, is_dir);
  }

  /// Left out by the filter or, like BuildKit's copier, by an --exclude pattern
  /// matched below `exclude_base` ("*.mp3" leaves out dir3/a.mp3 of `COPY dir3 /x`).
  bool skipped(llvm::StringRef rel, bool is_dir) const {
    if (filtered(rel, is_dir)) {
      return true;
    }
    llvm::StringRef below = rel;
    if (!exclude_base.empty() && !below.consume_front(exclude_base + "/")) {
      return false;
    }
    return excludes && !excludes(below, is_dir);
  }

  /// The permission bits the copy of `st` gets.
  llvm::Expected<uint32_t> target_mode(const struct stat& st) const {
    uint32_t mode = st.st_mode & 07777;
    return chmod.empty() ? mode : apply_chmod(chmod, mode, S_ISDIR(st.st_mode));
  }

  llvm::Error set_meta(const std::string& dst, const struct stat& st) const {
    uid_t uid = owner ? owner->first : src.keep_owner ? st.st_uid : 0;
    gid_t gid = owner ? owner->second : src.keep_owner ? st.st_gid : 0;
    if (::lchown(dst.c_str(), uid, gid) != 0) {
      return make_io_error("chown", dst, errno);
    }
    if (!S_ISLNK(st.st_mode)) {
      auto mode = target_mode(st);
      if (!mode) {
        return mode.takeError();
      }
      if (::chmod(dst.c_str(), *mode) != 0) {
        return make_io_error("chmod", dst, errno);
      }
    }
    struct timespec times[2] = {st.st_atim, st.st_mtim};
    ::utimensat(AT_FDCWD, dst.c_str(), times, AT_SYMLINK_NOFOLLOW);
    return llvm::Error::success();
  }

  void copy_xattrs(const std::string& from, const std::string& to) const {
    if (!src.keep_owner) {
      return;
    }
    char names[4096];
    ssize_t n = ::llistxattr(from.c_str(), names, sizeof(names));
    for (ssize_t i = 0; i < n;) {
      llvm::StringRef name(names + i);
      i += static_cast<ssize_t>(name.size()) + 1;
      if (name.startswith("trusted.overlay.")) {
        continue;
      }
      char value[4096];
      ssize_t len = ::lgetxattr(from.c_str(), name.data(), value, sizeof(value));
      if (len >= 0) {
        ::lsetxattr(to.c_str(), name.data(), value, static_cast<size_t>(len), 0);
      }
    }
  }

  llvm::Error copy_file_data(const std::string& from, const std::string& to, mode_t mode) const {
    // Read through the source root: a link swapped in since the walk saw a
    // file cannot lead out of it.
    int in = cache::open_in_root(src.root, from, O_RDONLY | O_NOFOLLOW);
    if (in < 0) {
      return make_io_error("open", from, errno);
    }
    int out = ::open(to.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode & 0777);
    if (out < 0) {
      int e = errno;
      ::close(in);
      return make_io_error("create", to, e);
    }
    llvm::Error err = llvm::Error::success();
    while (true) {
      ssize_t n = ::copy_file_range(in, nullptr, out, nullptr, 1 << 30, 0);
      if (n < 0 && (errno == EXDEV || errno == ENOSYS || errno == EINVAL)) {
        n = ::sendfile(out, in, nullptr, 1 << 30);
      }
      if (n < 0) {
        err = make_io_error("copy to", to, errno);
        break;
      }
      if (n == 0) {
        break;
      }
    }
    ::close(in);
    ::close(out);
    return err;
  }

  /// Removes what stands at `dst` when a `src_is_dir` entry is to replace it.
  llvm::Error clear_target(const std::string& dst, bool src_is_dir) const {
    struct stat st {};
    if (::lstat(dst.c_str(), &st) != 0) {
      return llvm::Error::success();
    }
    if (S_ISDIR(st.st_mode)) {
      if (src_is_dir) {
        return llvm::Error::success();  // merge into it
      }
      return make_error("cannot replace directory " + quote(dst) + " with a file");
    }
    if (::unlink(dst.c_str()) != 0) {
      return make_io_error("remove", dst, errno);
    }
    return llvm::Error::success();
  }

  /// Whether the regular file `from` (stat `st`) is now at `dst` as a hard link
  /// to the same file of an earlier layer (see CopyReuse); records its digest.
  bool reused(const std::string& from, const struct stat& st, const std::string& dst) {
    if (!reuse || !reuse->stat_cache || src.keep_owner || owner ||
        !llvm::StringRef(dst).startswith(rootfs + "/")) {
      return false;
    }
    auto digest = reuse->stat_cache->lookup(from, cache::file_identity(st));
    if (!digest) {
      return false;
    }
    std::string in_layer = dst.substr(rootfs.size() + 1);
    reuse->made.emplace_back(in_layer, *digest);
    auto it = reuse->prev.find(in_layer);
    auto mode = target_mode(st);
    if (!mode) {
      llvm::consumeError(mode.takeError());
      return false;
    }
    std::string prev = reuse->prev_root + "/" + in_layer;
    struct stat pst {};
    if (it == reuse->prev.end() || it->second != *digest || ::lstat(prev.c_str(), &pst) != 0 ||
        !S_ISREG(pst.st_mode) || pst.st_size != st.st_size || pst.st_uid != 0 || pst.st_gid != 0 ||
        (pst.st_mode & 07777) != *mode || pst.st_mtim.tv_sec != st.st_mtim.tv_sec ||
        pst.st_mtim.tv_nsec != st.st_mtim.tv_nsec || ::llistxattr(prev.c_str(), nullptr, 0) > 0) {
      return false;
    }
    if (::link(prev.c_str(), dst.c_str()) != 0) {
      return false;
    }
    ++reuse->linked;
    return true;
  }

  /// Copies the entry `from` (relative path `rel` for filters) to `dst`.
  llvm::Error copy_entry(const std::string& from, const std::string& rel, const std::string& dst) {
    struct stat st {};
    if (::lstat(from.c_str(), &st) != 0) {
      return make_io_error("stat", from, errno);
    }
    if (auto err = clear_target(dst, S_ISDIR(st.st_mode))) {
      return err;
    }
    if (S_ISDIR(st.st_mode)) {
      if (::mkdir(dst.c_str(), 0700) != 0 && errno != EEXIST) {
        return make_io_error("create directory", dst, errno);
      }
      if (auto err = copy_children(from, rel, dst)) {
        return err;
      }
    } else if (S_ISLNK(st.st_mode)) {
      llvm::SmallVector<char, 256> target(static_cast<size_t>(st.st_size) + 1);
      ssize_t n = ::readlink(from.c_str(), target.data(), target.size());
      if (n < 0) {
        return make_io_error("read link", from, errno);
      }
      if (::symlink(std::string(target.data(), static_cast<size_t>(n)).c_str(), dst.c_str()) != 0) {
        return make_io_error("create symlink", dst, errno);
      }
    } else if (S_ISREG(st.st_mode)) {
      if (st.st_nlink > 1) {
        auto it = links.find({st.st_dev, st.st_ino});
        if (it != links.end()) {
          if (::link(it->second.c_str(), dst.c_str()) != 0) {
            return make_io_error("link", dst, errno);
          }
          return llvm::Error::success();
        }
        links[{st.st_dev, st.st_ino}] = dst;
      }
      if (reused(from, st, dst)) {
        return llvm::Error::success();
      }
      if (auto err = copy_file_data(from, dst, st.st_mode)) {
        return err;
      }
    } else if (S_ISSOCK(st.st_mode)) {
      // A socket is copied as an empty regular file, as BuildKit's file sync does.
      int fd = ::open(dst.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
      if (fd < 0) {
        return make_io_error("create", dst, errno);
      }
      ::close(fd);
      st.st_mode = S_IFREG | (st.st_mode & 07777);
      st.st_size = 0;
    } else if (::mknod(dst.c_str(), st.st_mode, st.st_rdev) != 0) {
      return make_io_error("create node", dst, errno);
    }
    copy_xattrs(from, dst);
    return set_meta(dst, st);
  }

  llvm::Error copy_children(const std::string& from, const std::string& rel,
                            const std::string& dst) {
    int fd = cache::open_in_root(src.root, from, O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
    DIR* d = fd < 0 ? nullptr : ::fdopendir(fd);
    if (!d) {
      int e = errno;
      if (fd >= 0) {
        ::close(fd);
      }
      return make_io_error("open directory", from, e);
    }
    std::vector<std::pair<std::string, bool>> names;
    while (auto* e = ::readdir(d)) {
      std::string name = e->d_name;
      if (name != "." && name != "..") {
        names.emplace_back(name, e->d_type == DT_DIR);
      }
    }
    ::closedir(d);
    std::sort(names.begin(), names.end());
    for (const auto& [name, is_dir] : names) {
      std::string child_rel = rel.empty() ? name : rel + "/" + name;
      if (skipped(child_rel, is_dir)) {
        continue;
      }
      if (auto err = copy_entry(from + "/" + name, child_rel, dst + "/" + name)) {
        return err;
      }
    }
    return llvm::Error::success();
  }
};

/// Whether the source path `rel` exists below `root`, its symlinks resolved
/// inside `root` (a last one is not followed).
bool exists_in_root(const std::string& root, const std::string& rel) {
  auto host = cache::context_host_path(root, rel, cache::FollowLast::no);
  struct stat st {};
  if (!host) {
    llvm::consumeError(host.takeError());
    return false;
  }
  return ::lstat(host->c_str(), &st) == 0;
}

/// A source of a copy: its path below the source root and, for --parents with a
/// "/./" pivot, how many leading components the destination path leaves out.
struct SourcePath {
  std::string rel;
  size_t pivot = 0;
};

/// `rel` without its first `count` components.
std::string below_pivot(llvm::StringRef rel, size_t count) {
  for (size_t i = 0; i < count && !rel.empty(); ++i) {
    rel = rel.split('/').second;
  }
  return rel.str();
}

/// The subdirectories of ROOT/`prefix` that the source filter keeps, sorted.
std::vector<std::string> subdirs(const std::string& root, const std::string& prefix,
                                 const Copier& c) {
  std::vector<std::string> out;
  DIR* d = ::opendir((root + "/" + prefix).c_str());
  if (!d) {
    return out;
  }
  while (auto* e = ::readdir(d)) {
    std::string name = e->d_name;
    std::string rel = prefix.empty() ? name : prefix + "/" + name;
    struct stat st {};
    if (name != "." && name != ".." && ::lstat((root + "/" + rel).c_str(), &st) == 0 &&
        S_ISDIR(st.st_mode) && !c.filtered(rel, true)) {
      out.push_back(name);
    }
  }
  ::closedir(d);
  std::sort(out.begin(), out.end());
  return out;
}

/// Expands one source (wildcards per path component; "**" for any number of
/// directories) to relative paths.
void glob_into(const std::string& root, const std::vector<std::string>& parts, size_t i,
               const std::string& prefix, const Copier& c, std::vector<std::string>& out) {
  if (i == parts.size()) {
    out.push_back(prefix);
    return;
  }
  auto join = [&](const std::string& name) { return prefix.empty() ? name : prefix + "/" + name; };
  if (parts[i] == "**") {
    glob_into(root, parts, i + 1, prefix, c, out);
    for (const auto& dir : subdirs(root, prefix, c)) {
      glob_into(root, parts, i, join(dir), c, out);
    }
    return;
  }
  if (!has_wildcard(parts[i])) {
    std::string next = join(parts[i]);
    if (exists_in_root(root, next)) {
      glob_into(root, parts, i + 1, next, c, out);
    }
    return;
  }
  auto dir = cache::context_host_path(root, prefix, cache::FollowLast::yes);
  if (!dir) {
    llvm::consumeError(dir.takeError());
    return;
  }
  int fd = cache::open_in_root(root, *dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
  DIR* d = fd < 0 ? nullptr : ::fdopendir(fd);
  if (!d) {
    if (fd >= 0) {
      ::close(fd);
    }
    return;
  }
  std::vector<std::string> names;
  while (auto* e = ::readdir(d)) {
    std::string name = e->d_name;
    if (name != "." && name != ".." && ::fnmatch(parts[i].c_str(), name.c_str(), FNM_PERIOD) == 0 &&
        !c.filtered(join(name), e->d_type == DT_DIR)) {
      names.push_back(name);
    }
  }
  ::closedir(d);
  std::sort(names.begin(), names.end());
  for (const auto& n : names) {
    glob_into(root, parts, i + 1, join(n), c, out);
  }
}

llvm::Expected<std::vector<SourcePath>> expand_sources(const llb::CopyAction& action,
                                                       const Copier& c) {
  std::vector<SourcePath> out;
  for (const auto& p : action.src_paths) {
    // --parents keeps the path below a "/./" pivot (BuildKit's COPY --parents).
    size_t mark = action.parents ? p.find("/./") : std::string::npos;
    size_t pivot = 0;
    std::string pattern = p;
    if (mark != std::string::npos) {
      std::string head = cache::clean_context_path(p.substr(0, mark));
      pivot = head.empty() ? 0 : 1 + std::count(head.begin(), head.end(), '/');
      pattern = p.substr(0, mark) + "/" + p.substr(mark + 3);
    }
    std::string rel = cache::clean_context_path(pattern);
    if (!has_wildcard(rel) || !action.allow_wildcard) {
      if (!rel.empty() && (!exists_in_root(c.src.root, rel) || c.filtered(rel, false))) {
        return make_error("failed to compute cache key: " + quote(rel) + " not found");
      }
      out.push_back({rel, pivot});
      continue;
    }
    llvm::SmallVector<llvm::StringRef, 8> pieces;
    llvm::StringRef(rel).split(pieces, '/', -1, false);
    std::vector<std::string> parts(pieces.begin(), pieces.end());
    std::vector<std::string> matches;
    glob_into(c.src.root, parts, 0, "", c, matches);
    if (matches.empty() && !action.allow_empty_wildcard) {
      return make_error("failed to compute cache key: no files match " + quote(rel));
    }
    std::set<std::string> seen;  // "**" can reach a path twice
    for (auto& m : matches) {
      if (seen.insert(m).second) {
        out.push_back({std::move(m), pivot});
      }
    }
  }
  return out;
}

/// A copy source found in its root.
struct ResolvedSource {
  std::string rel;   ///< relative to the root, without symlinks
  std::string host;  ///< the root joined with `rel`
  struct stat st {};
};

/// Finds the source `rel` in `source.root` as BuildKit does: the root is "/"
/// for every symlink on the way, and only the source itself, when it is a link,
/// is followed (inside the root) with `follow`; a link to a missing path is
/// not found.
llvm::Expected<ResolvedSource> resolve_source(const CopySource& source, const std::string& rel,
                                              bool follow) {
  auto host_of = [&](const std::string& p) {
    return p.empty() ? source.root : source.root + "/" + p;
  };
  ResolvedSource out;
  auto phys = cache::resolve_context_path(source.root, rel, cache::FollowLast::no);
  if (!phys) {
    return phys.takeError();
  }
  out.rel = *phys;
  out.host = host_of(out.rel);
  if (::lstat(out.host.c_str(), &out.st) != 0) {
    return make_io_error("stat", out.host, errno);
  }
  if (!S_ISLNK(out.st.st_mode) || !follow) {
    return out;
  }
  auto resolved = cache::resolve_context_path(source.root, rel, cache::FollowLast::yes);
  if (!resolved) {
    return resolved.takeError();
  }
  struct stat st {};
  if (::lstat(host_of(*resolved).c_str(), &st) != 0) {
    // BuildKit's checksum follows the link and finds nothing.
    return make_error("failed to compute cache key: " + quote(rel) + " not found");
  }
  out.rel = *resolved;
  out.host = host_of(*resolved);
  out.st = st;
  return out;
}

}  // namespace

llvm::Error apply_copy(const CopySource& source, const std::string& rootfs,
                       const llb::CopyAction& action, CopyReuse* reuse) {
  auto owner = resolve_owner(rootfs, action.chown);
  if (!owner) {
    return owner.takeError();
  }
  Copier c{source,
           *owner,
           action.chmod,
           action.exclude_patterns.empty() ? cache::PathFilter()
                                           : cache::exclude_patterns(action.exclude_patterns),
           {},
           reuse,
           rootfs};
  auto sources = expand_sources(action, c);
  if (!sources) {
    return sources.takeError();
  }
  uint32_t uid = *owner ? (*owner)->first : 0;
  uint32_t gid = *owner ? (*owner)->second : 0;
  unsigned long long octal = 0;
  uint32_t parent_mode = 0755;
  if (!action.chmod.empty() && !llvm::StringRef(action.chmod).getAsInteger(8, octal)) {
    parent_mode = static_cast<uint32_t>(octal & 07777);
  }
  for (const auto& [rel, pivot] : *sources) {
    // As BuildKit's copier decides per source: a file goes into the destination
    // only when it ends with '/' or is a directory by now; otherwise it becomes
    // the destination (a wildcard matching one file, `COPY t?o.txt /single`,
    // writes the file /single).
    bool into_dir = llvm::StringRef(action.dest).endswith("/");
    if (!into_dir) {
      auto dest = runtime::resolve_in_rootfs(rootfs, action.dest);
      if (!dest) {
        return dest.takeError();
      }
      struct stat dst_st {};
      into_dir = ::stat(dest->c_str(), &dst_st) == 0 && S_ISDIR(dst_st.st_mode);
    }
    auto src = resolve_source(source, rel, action.follow_symlinks);
    if (!src) {
      return src.takeError();
    }
    const std::string& from = src->host;
    const struct stat& st = src->st;
    size_t slash = rel.rfind('/');
    c.exclude_base = S_ISDIR(st.st_mode)          ? rel
                     : slash == std::string::npos ? ""
                                                  : rel.substr(0, slash);
    llvm::StringRef base = llvm::StringRef(rel).rsplit('/').second.empty()
                               ? llvm::StringRef(rel)
                               : llvm::StringRef(rel).rsplit('/').second;
    std::string target_c = action.dest;
    if (action.parents && !below_pivot(rel, pivot).empty()) {
      target_c = fs::join(action.dest, below_pivot(rel, pivot));
    } else if (!S_ISDIR(st.st_mode) && into_dir) {
      target_c = fs::join(action.dest, base);
    }
    llvm::StringRef parent_c = llvm::StringRef(target_c).rtrim('/').rsplit('/').first;
    if (!parent_c.empty() && action.create_dest_path) {
      // Current BuildKit gives the parents a COPY creates the --chmod mode too.
      if (auto err = runtime::make_dirs_in_rootfs(rootfs, parent_c, uid, gid, parent_mode)) {
        return err;
      }
    }
    auto target = runtime::resolve_in_rootfs(rootfs, llvm::StringRef(target_c).rtrim('/'));
    if (!target) {
      return target.takeError();
    }
    if (S_ISDIR(st.st_mode)) {
      if (auto err = runtime::make_dirs_in_rootfs(rootfs, target_c, uid, gid)) {
        return err;
      }
      if (auto err = c.copy_children(from, src->rel, *target)) {
        return err;
      }
      continue;
    }
    // Only a real archive makes the destination a directory; any other file is
    // copied like COPY would (`ADD a.txt /added` creates the file /added).
    if (action.unpack_archives && S_ISREG(st.st_mode) && is_tar_archive(from)) {
      if (auto err = runtime::make_dirs_in_rootfs(rootfs, action.dest, uid, gid)) {
        return err;
      }
      auto dest_dir = runtime::resolve_in_rootfs(rootfs, action.dest);
      if (!dest_dir) {
        return dest_dir.takeError();
      }
      auto unpacked = unpack_archive(from, *dest_dir, *owner);
      if (!unpacked) {
        return unpacked.takeError();
      }
      if (*unpacked) {
        continue;
      }
    }
    if (auto err = c.copy_entry(from, src->rel, *target)) {
      return err;
    }
  }
  return llvm::Error::success();
}

}  // namespace kiln::solver::ops::detail
