#include "cache/snapshot.h"

#include <fcntl.h>
#include <ftw.h>
#include <stdlib.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <string>
#include <utility>

#include <tbb/parallel_for.h>

#include "cache/layer_unpack.h"
#include "cache/store_lock.h"
#include "support/atomic_file.h"
#include "support/error.h"
#include "support/fs.h"

namespace kiln::cache {
namespace {

/// Mount data is limited to one page; stay below it with room for the NUL.
constexpr size_t kMaxMountData = 4000;

llvm::Expected<std::string> real_path(llvm::StringRef path) {
  char* real = ::realpath(path.str().c_str(), nullptr);
  if (real == nullptr) {
    return make_io_error("resolve", path, errno);
  }
  std::string out = real;
  ::free(real);
  return out;
}

/// Renames the directory `from` to `to`; an existing `to` wins and `from` is removed.
llvm::Error rename_or_drop(const std::string& from, const std::string& to) {
  if (::rename(from.c_str(), to.c_str()) == 0) {
    return llvm::Error::success();
  }
  if (errno == EEXIST || errno == ENOTEMPTY) {
    return fs::remove_all(from);
  }
  return make_io_error("rename '" + from + "' to", to, errno);
}

std::string overlay_options(llvm::ArrayRef<std::string> lowers, const std::string& upper,
                            const std::string& work) {
  std::string out = "lowerdir=";
  for (size_t i = 0; i < lowers.size(); ++i) {
    out += (i ? ":" : "") + lowers[i];
  }
  out += ",upperdir=" + upper + ",workdir=" + work;
  // Changes must land in the upper dir as plain copies and whiteouts, which is
  // all a layer tar can express: no redirect xattrs, no metadata-only copy-ups.
  out += ",index=off,redirect_dir=off,metacopy=off";
  return out;
}

/// Mounts overlayfs from a child process that first changes into `cwd`, so that
/// `options` may use paths relative to it (the parent's cwd is left alone).
int mount_in_dir(const std::string& cwd, const std::string& target, const std::string& options) {
  pid_t pid = ::fork();
  if (pid < 0) {
    return errno;
  }
  if (pid == 0) {
    if (::chdir(cwd.c_str()) != 0) {
      ::_exit(errno);
    }
    ::_exit(::mount("overlay", target.c_str(), "overlay", 0, options.c_str()) == 0 ? 0 : errno);
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) {
      return errno;
    }
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : EINTR;
}

/// Removes the overlayfs bookkeeping xattrs (origin, impure, nlink, ...) that a
/// copy-up leaves in an upper dir; only trusted.overlay.opaque means something to
/// a lower dir.
int strip_overlay_xattrs(const char* path, const struct stat*, int, struct FTW*) {
  char names[4096];
  ssize_t size = ::llistxattr(path, names, sizeof(names));
  for (ssize_t pos = 0; size > 0 && pos < size;) {
    llvm::StringRef name(names + pos);
    pos += static_cast<ssize_t>(name.size()) + 1;
    if (name.startswith("trusted.overlay.") && name != "trusted.overlay.opaque" &&
        ::lremovexattr(path, name.data()) != 0) {
      return -1;
    }
  }
  return 0;
}

}  // namespace

Digest chain_id(const Digest& parent_chain_id, const Digest& diff_id) {
  return Digest::of(parent_chain_id.str() + " " + diff_id.str());
}

std::vector<Digest> chain_ids(llvm::ArrayRef<Digest> diff_ids) {
  std::vector<Digest> out;
  for (const Digest& d : diff_ids) {
    out.push_back(out.empty() ? d : chain_id(out.back(), d));
  }
  return out;
}

Snapshotter default_snapshotter() {
  const char* env = std::getenv("KILN_SNAPSHOTTER");
  if (env != nullptr && llvm::StringRef(env) == "native") {
    return Snapshotter::native;
  }
  auto filesystems = fs::read_file("/proc/filesystems");
  if (!filesystems) {
    llvm::consumeError(filesystems.takeError());
    return Snapshotter::native;
  }
  return llvm::StringRef(*filesystems).contains("\toverlay\n") ? Snapshotter::overlay
                                                               : Snapshotter::native;
}

llvm::Expected<SnapshotStore> SnapshotStore::open(llvm::StringRef root, Snapshotter snapshotter) {
  for (const char* sub : {"snapshots", "tmp"}) {
    if (auto err = fs::make_dirs(fs::join(root, sub), 0700)) {
      return with_context(std::move(err), "open snapshot store");
    }
  }
  auto real = real_path(root);
  if (!real) {
    return real.takeError();
  }
  if (auto err = use_store(*real)) {
    return with_context(std::move(err), "open snapshot store");
  }
  if (llvm::StringRef(*real).find_first_of(":,") != llvm::StringRef::npos) {
    return make_error("open snapshot store: root " + quote(*real) +
                      " contains ':' or ',', which overlayfs options cannot express");
  }
  return SnapshotStore(std::move(*real), snapshotter);
}

std::string SnapshotStore::snapshot_dir(const Digest& chain_id) const {
  return root_ + "/snapshots/" + chain_id.hex();
}

std::string SnapshotStore::fs_dir(const Digest& chain_id) const {
  return snapshot_dir(chain_id) + "/fs";
}

bool SnapshotStore::contains(const Digest& chain_id) const {
  return fs::exists(snapshot_dir(chain_id));
}

llvm::Expected<std::optional<Digest>> SnapshotStore::parent(const Digest& chain_id) const {
  auto text = fs::read_file(snapshot_dir(chain_id) + "/parent");
  if (!text) {
    return with_context(text.takeError(), "snapshot " + quote(chain_id.str()));
  }
  llvm::StringRef t = llvm::StringRef(*text).trim();
  if (t.empty()) {
    return std::nullopt;
  }
  auto d = Digest::parse(t);
  if (!d) {
    return with_context(d.takeError(), "snapshot " + quote(chain_id.str()));
  }
  return std::optional<Digest>(*d);
}

llvm::Expected<Digest> SnapshotStore::diff_id(const Digest& chain_id) const {
  auto text = fs::read_file(snapshot_dir(chain_id) + "/diff_id");
  if (!text) {
    return with_context(text.takeError(), "snapshot " + quote(chain_id.str()));
  }
  return with_context(Digest::parse(llvm::StringRef(*text).trim()),
                      "snapshot " + quote(chain_id.str()));
}

llvm::Expected<std::pair<int64_t, int64_t>> SnapshotStore::created(const Digest& chain_id) const {
  std::string path = snapshot_dir(chain_id) + "/diff_id";
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    return with_context(make_io_error("stat", path, errno), "snapshot " + quote(chain_id.str()));
  }
  return std::make_pair(static_cast<int64_t>(st.st_mtim.tv_sec),
                        static_cast<int64_t>(st.st_mtim.tv_nsec));
}

llvm::Expected<std::vector<std::string>> SnapshotStore::lower_dirs(const Digest& chain_id) const {
  std::vector<std::string> out;
  std::optional<Digest> cur = chain_id;
  while (cur) {
    out.push_back(fs_dir(*cur));
    auto p = parent(*cur);
    if (!p) {
      return p.takeError();
    }
    cur = *p;
  }
  return out;
}

llvm::Expected<Digest> SnapshotStore::add_dir(llvm::StringRef dir, std::optional<Digest> parent,
                                              const Digest& diff_id) const {
  Digest id = parent ? chain_id(*parent, diff_id) : diff_id;
  auto tmp = fs::make_temp_dir(root_ + "/tmp", "snapshot-");
  if (!tmp) {
    return tmp.takeError();
  }
  auto lock = FileLock::acquire(*tmp, LockMode::exclusive, LockTarget::directory);
  llvm::Error err = lock ? llvm::Error::success() : lock.takeError();
  if (!err && ::rename(dir.str().c_str(), (*tmp + "/fs").c_str()) != 0) {
    err = make_io_error("move snapshot dir", dir, errno);
  }
  if (!err) {
    err = write_file_atomic(*tmp + "/diff_id", diff_id.str() + "\n");
  }
  if (!err) {
    err = write_file_atomic(*tmp + "/parent", parent ? parent->str() + "\n" : "");
  }
  if (!err) {
    err = rename_or_drop(*tmp, snapshot_dir(id));
  }
  if (err) {
    llvm::consumeError(fs::remove_all(*tmp));
    return with_context(std::move(err), "add snapshot " + quote(id.str()));
  }
  return id;
}

llvm::Expected<std::vector<Digest>> SnapshotStore::unpack_chain(
    llvm::ArrayRef<LayerBlob> layers) const {
  std::vector<Digest> diff_ids;
  for (const LayerBlob& l : layers) {
    diff_ids.push_back(l.diff_id);
  }
  std::vector<Digest> ids = chain_ids(diff_ids);
  std::vector<std::string> errors(layers.size());
  tbb::parallel_for(size_t{0}, layers.size(), [&](size_t i) {
    if (contains(ids[i])) {
      return;
    }
    std::optional<Digest> parent = i == 0 ? std::nullopt : std::optional<Digest>(ids[i - 1]);
    auto tmp = fs::make_temp_dir(root_ + "/tmp", "unpack-");
    if (!tmp) {
      errors[i] = error_message(tmp.takeError());
      return;
    }
    auto lock = FileLock::acquire(*tmp, LockMode::exclusive, LockTarget::directory);
    llvm::Error err = lock ? fs::make_dirs(*tmp + "/fs") : lock.takeError();
    if (!err) {
      auto got = unpack_layer(layers[i].path, *tmp + "/fs", layers[i].diff_id);
      err = got ? llvm::Error::success() : got.takeError();
    }
    if (!err) {
      auto added = add_dir(*tmp + "/fs", parent, layers[i].diff_id);
      err = added ? llvm::Error::success() : added.takeError();
    }
    llvm::consumeError(fs::remove_all(*tmp));
    if (err) {
      errors[i] = error_message(std::move(err));
    }
  });
  for (const std::string& e : errors) {
    if (!e.empty()) {
      return make_error(e);
    }
  }
  return ids;
}

llvm::Error SnapshotStore::remove(const Digest& chain_id) const {
  auto tmp = fs::make_temp_dir(root_ + "/tmp", "remove-");
  if (!tmp) {
    return tmp.takeError();
  }
  std::string dir = snapshot_dir(chain_id);
  if (::rename(dir.c_str(), (*tmp + "/snapshot").c_str()) != 0 && errno != ENOENT) {
    llvm::consumeError(fs::remove_all(*tmp));
    return make_io_error("remove snapshot", dir, errno);
  }
  return fs::remove_all(*tmp);
}

namespace {

/// The overlay lower dirs of a mutable snapshot at `dir` over `parent`, topmost
/// first; without a parent, the empty dir `dir`/empty (created).
llvm::Error mutable_lowers(const SnapshotStore& store, const std::optional<Digest>& parent,
                           const std::string& dir, std::vector<std::string>& lowers) {
  if (!parent) {
    lowers.push_back(dir + "/empty");
    return fs::make_dirs(lowers.back());
  }
  auto l = store.merged_lowers(*parent);
  if (!l) {
    return l.takeError();
  }
  lowers = std::move(*l);
  return llvm::Error::success();
}

}  // namespace

llvm::Expected<MutableSnapshot> SnapshotStore::create_mutable(std::optional<Digest> parent) const {
  auto dir = fs::make_temp_dir(root_ + "/snapshots", "tmp-");
  if (!dir) {
    return dir.takeError();
  }
  auto lock = FileLock::acquire(*dir, LockMode::exclusive, LockTarget::directory);
  if (!lock) {
    llvm::consumeError(fs::remove_all(*dir));
    return lock.takeError();
  }
  std::vector<std::string> lowers;
  llvm::Error err = mutable_lowers(*this, parent, *dir, lowers);
  const char* subdirs[] = {"upper", "work"};
  if (snapshotter_ == Snapshotter::native) {
    subdirs[0] = "rootfs";
    subdirs[1] = "rootfs";
  }
  for (const char* sub : subdirs) {
    if (!err) {
      err = fs::make_dirs(*dir + "/" + sub);
    }
  }
  if (!err && snapshotter_ == Snapshotter::native) {
    err = copy_merged(lowers, *dir + "/rootfs");
  }
  if (err) {
    llvm::consumeError(fs::remove_all(*dir));
    return with_context(std::move(err), "create mutable snapshot");
  }
  return MutableSnapshot(*this, parent, std::move(*dir), std::move(lowers), snapshotter_,
                         std::move(*lock));
}

MutableSnapshot::MutableSnapshot(MutableSnapshot&& other) noexcept
    : store_(other.store_),
      parent_(other.parent_),
      dir_(std::exchange(other.dir_, {})),
      lowers_(std::move(other.lowers_)),
      snapshotter_(other.snapshotter_),
      target_(std::exchange(other.target_, {})),
      lock_(std::exchange(other.lock_, std::nullopt)),
      durability_(other.durability_) {}

MutableSnapshot& MutableSnapshot::operator=(MutableSnapshot&& other) noexcept {
  if (this != &other) {
    llvm::consumeError(drop());
    store_ = other.store_;
    parent_ = other.parent_;
    dir_ = std::exchange(other.dir_, {});
    lowers_ = std::move(other.lowers_);
    snapshotter_ = other.snapshotter_;
    target_ = std::exchange(other.target_, {});
    lock_ = std::exchange(other.lock_, std::nullopt);
    durability_ = other.durability_;
  }
  return *this;
}

MutableSnapshot::~MutableSnapshot() { llvm::consumeError(drop()); }

std::string MutableSnapshot::upper_dir() const {
  return snapshotter_ == Snapshotter::overlay ? dir_ + "/upper" : "";
}

std::string MutableSnapshot::work_dir() const {
  return snapshotter_ == Snapshotter::overlay ? dir_ + "/work" : "";
}

llvm::Error MutableSnapshot::mount_overlay(const std::string& target) {
  // A volatile mount leaves work/work/incompat/volatile behind, and overlayfs
  // refuses to mount over it again (its changes may not have reached the disk).
  std::string volatile_option;
  if (durability_ == Durability::volatile_) {
    volatile_option = ",volatile";
    if (auto err = fs::remove_all(work_dir() + "/work/incompat")) {
      return err;
    }
  }
  std::string options = overlay_options(lowers_, upper_dir(), work_dir()) + volatile_option;
  if (options.size() <= kMaxMountData) {
    if (::mount("overlay", target.c_str(), "overlay", 0, options.c_str()) != 0) {
      return make_io_error("mount overlay on", target, errno);
    }
    return llvm::Error::success();
  }
  // Too long for one page: as Docker's overlay2 does, name each lower dir by a
  // short symlink (DIR/l/<n>) and mount from DIR with relative paths
  // "l/0:l/1:...", which the kernel resolves at mount time.
  std::string links = dir_ + "/l";
  llvm::consumeError(fs::remove_all(links));
  if (auto err = fs::make_dirs(links)) {
    return err;
  }
  std::vector<std::string> relative;
  for (size_t i = 0; i < lowers_.size(); ++i) {
    relative.push_back("l/" + std::to_string(i));
    if (::symlink(lowers_[i].c_str(), (dir_ + "/" + relative.back()).c_str()) != 0) {
      return make_io_error("link lower dir", dir_ + "/" + relative.back(), errno);
    }
  }
  options = overlay_options(relative, upper_dir(), work_dir()) + volatile_option;
  if (options.size() > kMaxMountData) {
    return make_error("mount overlay on " + quote(target) + ": " + std::to_string(lowers_.size()) +
                      " layers do not fit in the mount options");
  }
  if (int e = mount_in_dir(dir_, target, options)) {
    return make_io_error("mount overlay on", target, e);
  }
  return llvm::Error::success();
}

llvm::Error MutableSnapshot::mount(llvm::StringRef target) {
  if (dir_.empty()) {
    return make_error("mount " + quote(target) + ": the snapshot was committed or dropped");
  }
  if (!target_.empty()) {
    return make_error("mount " + quote(target) + ": already mounted on " + quote(target_));
  }
  auto real = real_path(target);
  if (!real) {
    return real.takeError();
  }
  if (snapshotter_ == Snapshotter::overlay) {
    if (auto err = mount_overlay(*real)) {
      return err;
    }
  } else if (::mount((dir_ + "/rootfs").c_str(), real->c_str(), nullptr, MS_BIND | MS_REC,
                     nullptr) != 0) {
    return make_io_error("bind mount snapshot on", *real, errno);
  }
  target_ = std::move(*real);
  return llvm::Error::success();
}

llvm::Error MutableSnapshot::unmount() {
  if (target_.empty()) {
    return llvm::Error::success();
  }
  if (::umount2(target_.c_str(), 0) != 0 && errno != EINVAL) {
    if (errno != EBUSY || ::umount2(target_.c_str(), MNT_DETACH) != 0) {
      return make_io_error("unmount", target_, errno);
    }
  }
  target_.clear();
  return llvm::Error::success();
}

llvm::Expected<std::string> MutableSnapshot::diff_dir() {
  if (dir_.empty()) {
    return make_error("diff: the snapshot was committed or dropped");
  }
  if (snapshotter_ == Snapshotter::overlay) {
    return upper_dir();
  }
  std::string diff = dir_ + "/diff";
  if (!fs::exists(diff)) {
    std::string partial = dir_ + "/diff.partial";
    llvm::consumeError(fs::remove_all(partial));
    if (auto err = compute_diff(lowers_, dir_ + "/rootfs", partial)) {
      return err;
    }
    if (::rename(partial.c_str(), diff.c_str()) != 0) {
      return make_io_error("rename", partial, errno);
    }
  }
  return diff;
}

llvm::Expected<Digest> MutableSnapshot::commit(const Digest& diff_id) {
  if (auto err = unmount()) {
    return err;
  }
  auto diff = diff_dir();
  if (!diff) {
    return diff.takeError();
  }
  if (::nftw(diff->c_str(), strip_overlay_xattrs, 64, FTW_PHYS | FTW_MOUNT) != 0) {
    return make_io_error("clean overlay xattrs in", *diff, errno);
  }
  auto id = store_.add_dir(*diff, parent_, diff_id);
  if (!id) {
    return id.takeError();
  }
  if (auto err = drop()) {
    return err;
  }
  return id;
}

llvm::Error MutableSnapshot::drop() {
  if (auto err = unmount()) {
    return err;
  }
  if (dir_.empty()) {
    return llvm::Error::success();
  }
  if (auto err = fs::remove_all(dir_)) {
    return err;
  }
  dir_.clear();
  lock_.reset();
  return llvm::Error::success();
}

namespace {

/// Writes `bytes` to the new file `path` (replacing it), without fsync.
llvm::Error write_file_unsynced(const std::string& path, llvm::StringRef bytes) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    return make_io_error("create", path, errno);
  }
  ssize_t n = ::write(fd, bytes.data(), bytes.size());
  int e = errno;
  ::close(fd);
  if (n != static_cast<ssize_t>(bytes.size())) {
    return make_io_error("write", path, n < 0 ? e : EIO);
  }
  return llvm::Error::success();
}

}  // namespace

llvm::Error MutableSnapshot::persist(llvm::StringRef dir) {
  if (dir_.empty()) {
    return make_error("persist snapshot: it was committed or dropped");
  }
  if (auto err = unmount()) {
    return err;
  }
  std::string record = snapshotter_ == Snapshotter::native ? "native\n" : "overlay\n";
  record += parent_ ? parent_->str() + "\n" : "\n";
  // No fsync: a mutable snapshot does not survive a host crash anyway.
  std::string record_path = dir_ + "/mutable";
  if (auto err = write_file_unsynced(record_path, record)) {
    return with_context(std::move(err), "persist snapshot");
  }
  if (::rename(dir_.c_str(), dir.str().c_str()) != 0) {
    return make_io_error("persist snapshot: move '" + dir_ + "' to", dir, errno);
  }
  dir_.clear();
  lock_.reset();
  return llvm::Error::success();
}

llvm::Expected<MutableSnapshot> SnapshotStore::open_mutable(llvm::StringRef dir) const {
  auto record = fs::read_file(fs::join(dir, "mutable"));
  if (!record) {
    return with_context(record.takeError(), "open snapshot");
  }
  auto [kind, rest] = llvm::StringRef(*record).split('\n');
  llvm::StringRef parent_text = rest.split('\n').first.trim();
  std::optional<Digest> parent;
  if (!parent_text.empty()) {
    auto d = Digest::parse(parent_text);
    if (!d) {
      return with_context(d.takeError(), "open snapshot " + quote(dir));
    }
    parent = *d;
  }
  Snapshotter snapshotter = kind == "native" ? Snapshotter::native : Snapshotter::overlay;
  std::vector<std::string> lowers;
  if (auto err = mutable_lowers(*this, parent, dir.str(), lowers)) {
    return with_context(std::move(err), "open snapshot " + quote(dir));
  }
  // A diff computed by an earlier process may be stale.
  if (auto err = fs::remove_all(fs::join(dir, "diff"))) {
    return err;
  }
  return MutableSnapshot(*this, parent, dir.str(), std::move(lowers), snapshotter, std::nullopt);
}

}  // namespace kiln::cache
