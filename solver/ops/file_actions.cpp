// The file actions besides COPY: mkdir, mkfile, rm, symlink; --chmod parsing; and
// ADD's unpacking of local archives.
#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <glob.h>
#include <sys/stat.h>
#include <unistd.h>

#include <llvm/ADT/SmallVector.h>

#include "cache/layer_unpack.h"
#include "runtime/rootfs_path.h"
#include "runtime/user.h"
#include "solver/ops/file_copy.h"
#include "support/atomic_file.h"
#include "support/error.h"
#include "support/fs.h"

namespace kiln::solver::ops::detail {
namespace {

llvm::Expected<std::pair<uint32_t, uint32_t>> owner_of(const std::string& rootfs,
                                                       const llb::Chown& chown) {
  auto owner = resolve_owner(rootfs, chown);
  if (!owner) {
    return owner.takeError();
  }
  return owner->value_or(std::make_pair(0u, 0u));
}

}  // namespace

llvm::Error apply_mkdir(const std::string& rootfs, const llb::MkdirAction& action) {
  auto owner = owner_of(rootfs, action.chown);
  if (!owner) {
    return owner.takeError();
  }
  auto host = runtime::resolve_in_rootfs(rootfs, action.path);
  if (!host) {
    return host.takeError();
  }
  if (fs::exists(*host)) {
    return llvm::Error::success();
  }
  llvm::StringRef parent = llvm::StringRef(action.path).rtrim('/').rsplit('/').first;
  if (!parent.empty()) {
    if (!action.make_parents) {
      auto hp = runtime::resolve_in_rootfs(rootfs, parent);
      if (!hp || !fs::exists(*hp)) {
        if (!hp) {
          llvm::consumeError(hp.takeError());
        }
        return make_error("mkdir " + quote(action.path) + ": parent directory does not exist");
      }
    } else if (auto err =
                   runtime::make_dirs_in_rootfs(rootfs, parent, owner->first, owner->second)) {
      return err;
    }
  }
  if (::mkdir(host->c_str(), action.mode) != 0 && errno != EEXIST) {
    return make_io_error("mkdir", action.path, errno);
  }
  ::chmod(host->c_str(), action.mode);
  if (::lchown(host->c_str(), owner->first, owner->second) != 0) {
    return make_io_error("chown", action.path, errno);
  }
  return llvm::Error::success();
}

llvm::Error apply_mkfile(const std::string& rootfs, const llb::MkfileAction& action) {
  auto owner = owner_of(rootfs, action.chown);
  if (!owner) {
    return owner.takeError();
  }
  llvm::StringRef parent = llvm::StringRef(action.path).rsplit('/').first;
  if (!parent.empty()) {
    if (auto err = runtime::make_dirs_in_rootfs(rootfs, parent, 0, 0)) {
      return err;
    }
  }
  auto host = runtime::resolve_in_rootfs(rootfs, action.path);
  if (!host) {
    return host.takeError();
  }
  ::unlink(host->c_str());
  if (auto err = write_file_atomic(*host, action.data, action.mode)) {
    return err;
  }
  ::chmod(host->c_str(), action.mode);
  if (::lchown(host->c_str(), owner->first, owner->second) != 0) {
    return make_io_error("chown", action.path, errno);
  }
  return llvm::Error::success();
}

llvm::Error apply_rm(const std::string& rootfs, const llb::RmAction& action) {
  std::vector<std::string> targets;
  if (action.allow_wildcard) {
    glob_t g{};
    std::string pattern = rootfs + "/" + llvm::StringRef(action.path).ltrim('/').str();
    if (::glob(pattern.c_str(), GLOB_NOSORT, nullptr, &g) == 0) {
      for (size_t i = 0; i < g.gl_pathc; ++i) {
        targets.emplace_back(g.gl_pathv[i]);
      }
    }
    globfree(&g);
  } else {
    llvm::StringRef parent = llvm::StringRef(action.path).rtrim('/').rsplit('/').first;
    llvm::StringRef name = llvm::StringRef(action.path).rtrim('/').rsplit('/').second;
    auto host_parent = runtime::resolve_in_rootfs(rootfs, parent.empty() ? "/" : parent);
    if (!host_parent) {
      return host_parent.takeError();
    }
    std::string host = fs::join(*host_parent, name);
    if (fs::exists(host)) {
      targets.push_back(host);
    }
  }
  if (targets.empty() && !action.allow_not_found) {
    return make_error("rm " + quote(action.path) + ": no such file or directory");
  }
  for (const auto& t : targets) {
    if (auto err = fs::remove_all(t)) {
      return err;
    }
  }
  return llvm::Error::success();
}

llvm::Error apply_symlink(const std::string& rootfs, const llb::SymlinkAction& action) {
  llvm::StringRef parent = llvm::StringRef(action.path).rsplit('/').first;
  if (!parent.empty()) {
    if (auto err = runtime::make_dirs_in_rootfs(rootfs, parent, 0, 0)) {
      return err;
    }
  }
  auto host_parent = runtime::resolve_in_rootfs(rootfs, parent.empty() ? "/" : parent);
  if (!host_parent) {
    return host_parent.takeError();
  }
  std::string host = fs::join(*host_parent, llvm::StringRef(action.path).rsplit('/').second);
  ::unlink(host.c_str());
  if (::symlink(action.target.c_str(), host.c_str()) != 0) {
    return make_io_error("symlink", action.path, errno);
  }
  return llvm::Error::success();
}

namespace {

/// Applies one symbolic clause ("u+x", "go-w", "a=rX") to `mode`.
llvm::Expected<uint32_t> apply_clause(llvm::StringRef clause, uint32_t mode, bool is_dir,
                                      llvm::StringRef spec) {
  size_t op_pos = clause.find_first_of("+-=");
  if (op_pos == llvm::StringRef::npos) {
    return make_error("invalid chmod " + quote(spec));
  }
  llvm::StringRef who = clause.take_front(op_pos);
  char op = clause[op_pos];
  llvm::StringRef perms = clause.drop_front(op_pos + 1);
  uint32_t mask = 0;
  if (who.empty() || who.contains('a')) {
    mask = 07777;
  }
  for (char w : who) {
    switch (w) {
      case 'u':
        mask |= 04700;
        break;
      case 'g':
        mask |= 02070;
        break;
      case 'o':
        mask |= 01007;
        break;
      case 'a':
        break;
      default:
        return make_error("invalid chmod " + quote(spec));
    }
  }
  uint32_t bits = 0;
  for (char p : perms) {
    switch (p) {
      case 'r':
        bits |= 0444;
        break;
      case 'w':
        bits |= 0222;
        break;
      case 'x':
        bits |= 0111;
        break;
      case 'X':
        if (is_dir || (mode & 0111)) {
          bits |= 0111;
        }
        break;
      case 's':
        bits |= 06000;
        break;
      case 't':
        bits |= 01000;
        break;
      default:
        return make_error("invalid chmod " + quote(spec));
    }
  }
  bits &= mask;
  if (op == '+') {
    return mode | bits;
  }
  if (op == '-') {
    return mode & ~bits;
  }
  return (mode & ~mask) | bits;
}

}  // namespace

llvm::Expected<uint32_t> apply_chmod(llvm::StringRef spec, uint32_t mode, bool is_dir) {
  if (!spec.empty() && spec.find_first_not_of("01234567") == llvm::StringRef::npos) {
    uint32_t value = 0;
    if (spec.getAsInteger(8, value) || value > 07777) {
      return make_error("invalid chmod " + quote(spec));
    }
    return value;
  }
  llvm::SmallVector<llvm::StringRef, 4> clauses;
  spec.split(clauses, ',');
  for (llvm::StringRef c : clauses) {
    auto m = apply_clause(c, mode, is_dir, spec);
    if (!m) {
      return m.takeError();
    }
    mode = *m;
  }
  return mode;
}

struct archive* open_tar_reader(const std::string& path) {
  struct archive* a = archive_read_new();
  archive_read_support_filter_gzip(a);
  archive_read_support_filter_bzip2(a);
  archive_read_support_filter_xz(a);
  archive_read_support_filter_none(a);
  archive_read_support_format_tar(a);
  if (archive_read_open_filename(a, path.c_str(), 1 << 16) != ARCHIVE_OK) {
    archive_read_free(a);
    return nullptr;
  }
  return a;
}

bool is_tar_archive(const std::string& path) {
  struct archive* a = open_tar_reader(path);
  if (a == nullptr) {
    return false;
  }
  struct archive_entry* entry = nullptr;
  bool ok = archive_read_next_header(a, &entry) == ARCHIVE_OK;
  archive_read_free(a);
  return ok;
}

namespace {

// As containerd's Apply (BuildKit's unpacker): the parent directory of entry
// `name` (and a hard link's target) is resolved inside `dest`, so an absolute
// symlink of the base ("/a -> /real") leads to "/real" under `dest`, never out of it.
llvm::Error place_entry(struct archive_entry* entry, const std::string& dest,
                        const std::string& name) {
  auto [parent, base] = llvm::StringRef(name).rtrim('/').rsplit('/');
  if (base.empty()) {
    std::swap(parent, base);
  }
  auto resolved = runtime::resolve_in_rootfs(dest, parent.empty() ? "/" : parent);
  if (!resolved) {
    return resolved.takeError();
  }
  archive_entry_set_pathname(entry, fs::join(*resolved, base).c_str());
  if (const char* hl = archive_entry_hardlink(entry)) {
    auto target = runtime::resolve_in_rootfs(dest, hl);
    if (!target) {
      return target.takeError();
    }
    archive_entry_set_hardlink(entry, target->c_str());
  }
  return llvm::Error::success();
}

}  // namespace

llvm::Expected<bool> unpack_archive(const std::string& archive, const std::string& dest,
                                    std::optional<std::pair<uint32_t, uint32_t>> owner) {
  struct archive* a = open_tar_reader(archive);
  if (a == nullptr) {
    return false;
  }
  struct archive_entry* entry = nullptr;
  int rc = archive_read_next_header(a, &entry);
  if (rc != ARCHIVE_OK) {
    archive_read_free(a);
    return false;  // not a tar: ADD copies the file as it is
  }
  struct archive* disk = archive_write_disk_new();
  archive_write_disk_set_options(disk, ARCHIVE_EXTRACT_PERM | ARCHIVE_EXTRACT_TIME |
                                           ARCHIVE_EXTRACT_OWNER | ARCHIVE_EXTRACT_XATTR |
                                           ARCHIVE_EXTRACT_SECURE_SYMLINKS |
                                           ARCHIVE_EXTRACT_SECURE_NODOTDOT);
  llvm::Error err = llvm::Error::success();
  for (; rc == ARCHIVE_OK; rc = archive_read_next_header(a, &entry)) {
    std::string name = llvm::StringRef(archive_entry_pathname(entry)).ltrim('/').str();
    if (name == ".." || llvm::StringRef(name).startswith("../") ||
        llvm::StringRef(name).contains("/../") || llvm::StringRef(name).endswith("/..")) {
      err = make_error("ADD " + quote(archive) + ": entry " + quote(name) +
                       ": path escapes the destination");
      break;
    }
    if (auto placed = place_entry(entry, dest, name)) {
      err = std::move(placed);
      break;
    }
    if (owner) {
      archive_entry_set_uid(entry, owner->first);
      archive_entry_set_gid(entry, owner->second);
    }
    if (archive_write_header(disk, entry) != ARCHIVE_OK) {
      err = make_error("ADD " + quote(archive) + ": entry " + quote(name) + ": " +
                       archive_error_string(disk));
      break;
    }
    const void* buf = nullptr;
    size_t size = 0;
    la_int64_t offset = 0;
    while (archive_read_data_block(a, &buf, &size, &offset) == ARCHIVE_OK) {
      archive_write_data_block(disk, buf, size, offset);
    }
    archive_write_finish_entry(disk);
  }
  if (!err && rc != ARCHIVE_EOF) {
    err = make_error("ADD " + quote(archive) + ": " + archive_error_string(a));
  }
  archive_write_free(disk);
  archive_read_free(a);
  cache::restore_process_umask();  // libarchive's disk writer may leave it 0
  if (err) {
    return err;
  }
  return true;
}

}  // namespace kiln::solver::ops::detail
