#include "cache/gc_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <mutex>

#include "support/error.h"
#include "support/fs.h"

namespace kiln::cache {
namespace {

llvm::Expected<int> open_lock(llvm::StringRef root, llvm::StringRef name) {
  std::string path = fs::join(root, name);
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) {
    return make_io_error("open lock", path, errno);
  }
  return fd;
}

llvm::Error lock(int fd, int op, llvm::StringRef root, llvm::StringRef name) {
  while (::flock(fd, op) != 0) {
    if (errno != EINTR) {
      return make_io_error("lock", fs::join(root, name), errno);
    }
  }
  return llvm::Error::success();
}

std::mutex in_use_mu;
std::set<Digest>& in_use() {
  static std::set<Digest> chains;
  return chains;
}

}  // namespace

StoreLease& StoreLease::operator=(StoreLease&& other) noexcept {
  if (this != &other) {
    release();
    intent_fd_ = std::exchange(other.intent_fd_, -1);
    lock_fd_ = std::exchange(other.lock_fd_, -1);
  }
  return *this;
}

StoreLease::~StoreLease() { release(); }

void StoreLease::release() {
  if (lock_fd_ >= 0) {
    ::close(lock_fd_);
    lock_fd_ = -1;
  }
  if (intent_fd_ >= 0) {
    ::close(intent_fd_);
    intent_fd_ = -1;
  }
}

llvm::Expected<StoreLease> StoreLease::acquire_shared(llvm::StringRef root) {
  auto intent = open_lock(root, "gc.intent");
  if (!intent) {
    return intent.takeError();
  }
  StoreLease lease(*intent, -1);
  // Wait behind a writer that waits or works, then let the next one in.
  if (auto err = lock(*intent, LOCK_SH, root, "gc.intent")) {
    return err;
  }
  auto fd = open_lock(root, "gc.lock");
  if (!fd) {
    return fd.takeError();
  }
  lease.lock_fd_ = *fd;
  if (auto err = lock(*fd, LOCK_SH, root, "gc.lock")) {
    return err;
  }
  ::close(lease.intent_fd_);
  lease.intent_fd_ = -1;
  return lease;
}

llvm::Expected<StoreLease> StoreLease::acquire_exclusive(llvm::StringRef root) {
  auto intent = open_lock(root, "gc.intent");
  if (!intent) {
    return intent.takeError();
  }
  StoreLease lease(*intent, -1);
  if (auto err = lock(*intent, LOCK_EX, root, "gc.intent")) {
    return err;
  }
  auto fd = open_lock(root, "gc.lock");
  if (!fd) {
    return fd.takeError();
  }
  lease.lock_fd_ = *fd;
  if (auto err = lock(*fd, LOCK_EX, root, "gc.lock")) {
    return err;
  }
  return lease;
}

llvm::Expected<std::optional<StoreLease>> StoreLease::try_exclusive(llvm::StringRef root) {
  auto intent = open_lock(root, "gc.intent");
  if (!intent) {
    return intent.takeError();
  }
  StoreLease lease(*intent, -1);
  if (::flock(*intent, LOCK_EX | LOCK_NB) != 0) {
    return std::nullopt;
  }
  auto fd = open_lock(root, "gc.lock");
  if (!fd) {
    return fd.takeError();
  }
  lease.lock_fd_ = *fd;
  if (::flock(*fd, LOCK_EX | LOCK_NB) != 0) {
    return std::nullopt;
  }
  return std::optional<StoreLease>(std::move(lease));
}

void note_chain_in_use(const Digest& chain) {
  std::lock_guard lock(in_use_mu);
  in_use().insert(chain);
}

std::set<Digest> chains_in_use() {
  std::lock_guard lock(in_use_mu);
  return in_use();
}

void forget_chains_in_use() {
  std::lock_guard lock(in_use_mu);
  in_use().clear();
}

}  // namespace kiln::cache
