#include "cache/gc_lock.h"

#include <mutex>

#include "support/error.h"
#include "support/fs.h"

namespace kiln::cache {
namespace {

std::mutex in_use_mu;
std::set<Digest>& in_use() {
  static std::set<Digest> chains;
  return chains;
}

}  // namespace

void StoreLease::release() {
  lock_.reset();
  intent_.reset();
}

llvm::Expected<StoreLease> StoreLease::acquire_shared(llvm::StringRef root) {
  StoreLease lease;
  // Wait behind a writer that waits or works, then let the next one in.
  auto intent = FileLock::acquire(fs::join(root, "gc.intent"), LockMode::shared);
  if (!intent) {
    return intent.takeError();
  }
  auto lock = FileLock::acquire(fs::join(root, "gc.lock"), LockMode::shared);
  if (!lock) {
    return lock.takeError();
  }
  lease.lock_ = std::move(*lock);
  return lease;
}

llvm::Expected<StoreLease> StoreLease::acquire_exclusive(llvm::StringRef root) {
  StoreLease lease;
  auto intent = FileLock::acquire(fs::join(root, "gc.intent"), LockMode::exclusive);
  if (!intent) {
    return intent.takeError();
  }
  lease.intent_ = std::move(*intent);
  auto lock = FileLock::acquire(fs::join(root, "gc.lock"), LockMode::exclusive);
  if (!lock) {
    return lock.takeError();
  }
  lease.lock_ = std::move(*lock);
  return lease;
}

llvm::Expected<std::optional<StoreLease>> StoreLease::try_exclusive(llvm::StringRef root) {
  StoreLease lease;
  auto intent = FileLock::try_acquire(fs::join(root, "gc.intent"), LockMode::exclusive);
  if (!intent) {
    return intent.takeError();
  }
  if (!*intent) {
    return std::nullopt;
  }
  lease.intent_ = std::move(**intent);
  auto lock = FileLock::try_acquire(fs::join(root, "gc.lock"), LockMode::exclusive);
  if (!lock) {
    return lock.takeError();
  }
  if (!*lock) {
    return std::nullopt;
  }
  lease.lock_ = std::move(**lock);
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
