#include "solver/ops/cache_index.h"

#include "solver/ops/results.h"
#include "support/error.h"
#include "support/file_lock.h"
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
  explicit FileStepLock(FileLock lock) : lock_(std::move(lock)) {}

 private:
  FileLock lock_;
};

}  // namespace

llvm::Expected<std::unique_ptr<core::StepLock>> FileStepLocks::acquire(
    const core::CacheKey& key, const core::CancelToken& cancel) {
  if (auto err = fs::make_dirs(dir_, 0700)) {
    return err;
  }
  std::string path = dir_ + "/" + key.hex();
  auto lock = FileLock::acquire(path, LockMode::exclusive, cancel);
  if (!lock) {
    return lock.takeError();
  }
  return std::make_unique<FileStepLock>(std::move(*lock));
}

}  // namespace kiln::solver::ops
