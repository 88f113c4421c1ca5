#include "support/file_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <thread>
#include <utility>

#include "support/error.h"

namespace kiln {
namespace {

int flock_op(LockMode mode) { return mode == LockMode::shared ? LOCK_SH : LOCK_EX; }

}  // namespace

llvm::Error lock_fd(int fd, LockMode mode, llvm::StringRef path) {
  while (::flock(fd, flock_op(mode)) != 0) {
    if (errno != EINTR) {
      return make_io_error("lock", path, errno);
    }
  }
  return llvm::Error::success();
}

llvm::Expected<bool> try_lock_fd(int fd, LockMode mode, llvm::StringRef path) {
  while (::flock(fd, flock_op(mode) | LOCK_NB) != 0) {
    if (errno == EWOULDBLOCK) {
      return false;
    }
    if (errno != EINTR) {
      return make_io_error("lock", path, errno);
    }
  }
  return true;
}

llvm::Expected<FileLock> FileLock::open(llvm::StringRef path, LockTarget target) {
  std::string p = path.str();
  int fd = -1;
  if (target == LockTarget::directory) {
    fd = ::open(p.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  } else {
    fd = ::open(p.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0 && (errno == EROFS || errno == EACCES || errno == ENOSPC)) {
      fd = ::open(p.c_str(), O_RDONLY | O_CLOEXEC);  // an existing lock file
    }
  }
  if (fd < 0) {
    return make_io_error(target == LockTarget::directory ? "open" : "open lock", path, errno);
  }
  return FileLock(fd, std::move(p));
}

llvm::Expected<FileLock> FileLock::acquire(llvm::StringRef path, LockMode mode, LockTarget target) {
  auto lock = open(path, target);
  if (!lock) {
    return lock.takeError();
  }
  if (auto err = lock_fd(lock->fd_, mode, path)) {
    return std::move(err);
  }
  return lock;
}

llvm::Expected<std::optional<FileLock>> FileLock::try_acquire(llvm::StringRef path, LockMode mode,
                                                              LockTarget target) {
  auto lock = open(path, target);
  if (!lock) {
    return lock.takeError();
  }
  auto taken = try_lock_fd(lock->fd_, mode, path);
  if (!taken) {
    return taken.takeError();
  }
  if (!*taken) {
    return std::nullopt;
  }
  return std::optional<FileLock>(std::move(*lock));
}

llvm::Expected<FileLock> FileLock::acquire(llvm::StringRef path, LockMode mode,
                                           const CancelToken& cancel) {
  auto lock = open(path, LockTarget::file);
  if (!lock) {
    return lock.takeError();
  }
  while (true) {
    auto taken = try_lock_fd(lock->fd_, mode, path);
    if (!taken) {
      return taken.takeError();
    }
    if (*taken) {
      return lock;
    }
    if (cancel.cancelled()) {
      return llvm::make_error<CancelledError>();
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

llvm::Error FileLock::change_mode(LockMode mode) { return lock_fd(fd_, mode, path_); }

FileLock::FileLock(FileLock&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)), path_(std::move(other.path_)) {}

FileLock& FileLock::operator=(FileLock&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) {
      ::close(fd_);
    }
    fd_ = std::exchange(other.fd_, -1);
    path_ = std::move(other.path_);
  }
  return *this;
}

FileLock::~FileLock() {
  if (fd_ >= 0) {
    ::close(fd_);
  }
}

}  // namespace kiln
