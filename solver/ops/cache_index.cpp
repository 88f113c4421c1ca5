#include "solver/ops/cache_index.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <chrono>
#include <thread>

#include "solver/ops/results.h"
#include "support/error.h"
#include "support/fs.h"

namespace kiln::solver::ops {

llvm::Expected<core::ResultPtr> SnapshotCacheStore::load(const core::Vertex&,
                                                         const core::CacheKey& key) {
  auto step = db_.load_key(key);
  if (!step) {
    return step.takeError();
  }
  if (!*step) {
    return nullptr;
  }
  const auto& chain = (*step)->chain;
  if (chain && !snapshots_.contains(*chain)) {
    return nullptr;  // pruned: build it again
  }
  return std::make_shared<const SnapshotResult>(chain);
}

llvm::Error SnapshotCacheStore::save(const core::Vertex&, const core::CacheKey& key,
                                     const core::ResultPtr& result) {
  // Only file systems are kept; local directories are read anew by every build.
  if (auto* snap = dynamic_cast<const SnapshotResult*>(result.get())) {
    return db_.save_key(key, {snap->chain()});
  }
  return llvm::Error::success();
}

namespace {

class FileStepLock : public core::StepLock {
 public:
  explicit FileStepLock(int fd) : fd_(fd) {}
  ~FileStepLock() override { ::close(fd_); }

 private:
  int fd_;
};

}  // namespace

llvm::Expected<std::unique_ptr<core::StepLock>> FileStepLocks::acquire(
    const core::CacheKey& key, const core::CancelToken& cancel) {
  if (auto err = fs::make_dirs(dir_, 0700)) {
    return err;
  }
  std::string path = dir_ + "/" + key.hex();
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) {
    return make_io_error("open step lock", path, errno);
  }
  while (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    if (errno != EWOULDBLOCK && errno != EINTR) {
      int e = errno;
      ::close(fd);
      return make_io_error("lock", path, e);
    }
    if (cancel.cancelled()) {
      ::close(fd);
      return llvm::make_error<CancelledError>();
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return std::make_unique<FileStepLock>(fd);
}

}  // namespace kiln::solver::ops
