#include "solver/ops/scoped_mounts.h"

#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cache/context_path.h"
#include "support/atomic_file.h"
#include "support/error.h"
#include "support/file_lock.h"
#include "support/fs.h"

namespace kiln::solver::ops::detail {

ScopedMounts::~ScopedMounts() {
  relays_.clear();
  for (const auto& target : staged_) {
    ::umount2(target.c_str(), MNT_DETACH);
  }
  for (auto& s : snapshots_) {
    llvm::consumeError(s.drop());
  }
  locks_.clear();
  for (auto it = temp_dirs_.rbegin(); it != temp_dirs_.rend(); ++it) {
    llvm::consumeError(fs::remove_all(*it));
  }
}

llvm::Expected<std::string> ScopedMounts::stage_in_root(llvm::StringRef root,
                                                        llvm::StringRef path) {
  std::string shown = (root.rtrim('/') + "/" + path.ltrim('/')).str();
  int fd = cache::open_in_root(root, path, O_PATH);
  if (fd < 0) {
    return make_io_error("open", shown, errno);
  }
  struct stat st {};
  auto dir = ::fstat(fd, &st) == 0
                 ? temp_dir("bind-src-")
                 : llvm::Expected<std::string>(make_io_error("stat", shown, errno));
  std::string target = dir ? (S_ISDIR(st.st_mode) ? *dir : *dir + "/file") : "";
  if (dir && !S_ISDIR(st.st_mode)) {
    int f = ::open(target.c_str(), O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
    if (f >= 0) {
      ::close(f);
    }
  }
  // The descriptor resolves in our mount namespace; the runtime's new one
  // could not bind it (EINVAL), so the staging dir is bound here instead.
  std::string fd_path = "/proc/self/fd/" + std::to_string(fd);
  int rc = dir ? ::mount(fd_path.c_str(), target.c_str(), nullptr, MS_BIND | MS_REC, nullptr) : -1;
  int e = errno;
  ::close(fd);
  if (!dir) {
    return dir.takeError();
  }
  if (rc != 0) {
    return make_io_error("bind-mount", shown, e);
  }
  staged_.push_back(target);
  return target;
}

llvm::Expected<std::string> ScopedMounts::temp_dir(llvm::StringRef prefix) {
  auto d = fs::make_temp_dir(fs::join(ctx_.root, "tmp"), prefix);
  if (d) {
    temp_dirs_.push_back(*d);
  }
  return d;
}

llvm::Expected<cache::MutableSnapshot> ScopedMounts::mount_step_rootfs(const SnapshotResult& base,
                                                                       std::string& rootfs) {
  auto snap = ctx_.snapshots.create_mutable(base.chain());
  if (!snap) {
    return snap.takeError();
  }
  auto dir = temp_dir("rootfs-");
  if (!dir) {
    return dir.takeError();
  }
  if (auto err = snap->mount(*dir)) {
    return std::move(err);
  }
  rootfs = *dir;
  return snap;
}

llvm::Expected<std::string> ScopedMounts::mount_snapshot(const SnapshotResult& fs) {
  std::string dir;
  auto snap = mount_step_rootfs(fs, dir);
  if (!snap) {
    return snap.takeError();
  }
  snapshots_.push_back(std::move(*snap));  // dropped (unmounted) with this object
  return dir;
}

namespace {
void set_owner(const std::string& path, const llb::Mount& m) {
  (void)::chown(path.c_str(), m.uid, m.gid);
  ::chmod(path.c_str(), m.mode);
}
}  // namespace

llvm::Expected<std::string> ScopedMounts::cache_dir(const llb::Mount& m, Fresh fresh) {
  std::string base = fs::join(ctx_.root, "cache-mounts");
  std::string dir = fs::join(base, Digest::of(m.cache_id).hex());
  if (auto err = fs::make_dirs(base, 0700)) {
    return err;
  }
  if (m.sharing != llb::CacheSharing::shared) {
    // locked: wait for the other user; private: another one gets a fresh dir.
    auto lock = m.sharing == llb::CacheSharing::locked
                    ? llvm::Expected<std::optional<FileLock>>(FileLock::acquire(dir + ".lock"))
                    : FileLock::try_acquire(dir + ".lock");
    if (!lock) {
      return lock.takeError();
    }
    if (!*lock) {
      auto fresh = temp_dir("cache-");
      if (fresh) {
        set_owner(*fresh, m);
      }
      return fresh;
    }
    locks_.push_back(std::move(**lock));
  }
  if (fresh == Fresh::yes && fs::exists(dir)) {
    // Like BuildKit, a step run with --no-cache starts from an empty cache mount,
    // which then is the cache mount the next builds see.
    auto old = fs::make_temp_dir(base, "old-");
    if (!old) {
      return old.takeError();
    }
    if (::rename(dir.c_str(), (*old + "/dir").c_str()) != 0 && errno != ENOENT) {
      return make_io_error("move away cache mount", dir, errno);
    }
    llvm::consumeError(fs::remove_all(*old));
  }
  if (!fs::exists(dir)) {
    auto tmp = fs::make_temp_dir(base, "new-");
    if (!tmp) {
      return tmp.takeError();
    }
    set_owner(*tmp, m);
    if (ctx_.seed_cache_mount && fresh == Fresh::no) {
      auto seeded = ctx_.seed_cache_mount(m.cache_id, *tmp);
      if (!seeded) {
        llvm::consumeError(fs::remove_all(*tmp));
        return seeded.takeError();
      }
    }
    if (::rename(tmp->c_str(), dir.c_str()) != 0) {
      llvm::consumeError(fs::remove_all(*tmp));  // another build made it first
    }
  }
  return dir;
}

llvm::Expected<std::string> ScopedMounts::secret_file(const llb::Mount& m) {
  auto it = ctx_.secrets.find(m.secret_id);
  if (it == ctx_.secrets.end()) {
    if (m.required) {
      return make_error("secret " + quote(m.secret_id) + " not found (--secret id=" + m.secret_id +
                        ",src=FILE)");
    }
    return std::string();
  }
  auto dir = temp_dir("secret-");
  if (!dir) {
    return dir.takeError();
  }
  std::string path = *dir + "/secret";
  if (auto err = write_file_atomic(path, it->second.data, 0600)) {
    return err;
  }
  (void)::chown(path.c_str(), m.uid, m.gid);
  ::chmod(path.c_str(), m.mode);
  return path;
}

llvm::Expected<std::string> ScopedMounts::ssh_socket(const llb::Mount& m) {
  auto it = ctx_.ssh_agents.find(m.secret_id);
  if (it == ctx_.ssh_agents.end()) {
    if (!m.required) {
      return std::string();
    }
    // BuildKit's words: no agent forwarded at all, or not this id.
    if (ctx_.ssh_agents.empty()) {
      return make_error("no SSH key \"" + m.secret_id + "\" forwarded from the client");
    }
    return make_error("unset ssh forward key " + m.secret_id);
  }
  auto dir = temp_dir("ssh-");
  if (!dir) {
    return dir.takeError();
  }
  std::string path = *dir + "/ssh_auth_sock";
  auto relay = SshRelay::start(path, it->second, m.uid, m.gid, m.mode);
  if (!relay) {
    return relay.takeError();
  }
  relays_.push_back(std::move(*relay));
  return path;
}

}  // namespace kiln::solver::ops::detail
