#include "solver/ops/build_cache_store.h"

#include "solver/ops/results.h"

namespace kiln::solver::ops {

llvm::Expected<core::ResultPtr> BuildCacheStore::load(const core::Vertex& vertex,
                                                      const core::CacheKey& key) {
  auto found = local_.load(vertex, key);
  if (!found) {
    return found.takeError();
  }
  bool imported = false;
  if (!*found && imported_) {
    auto step = imported_->load(key, vertex.name());
    if (!step) {
      return step.takeError();
    }
    if (*step) {
      *found = std::make_shared<const SnapshotResult>((*step)->chain);
      imported = true;
    }
  }
  std::lock_guard lock(mu_);
  KeyOutcome& o = outcomes_[key];
  if (auto* snap = dynamic_cast<const SnapshotResult*>(found->get())) {
    o.chain = snap->chain();
    o.hit = true;
    o.imported = o.imported || imported;
  } else if (!*found) {
    o.missed = true;
  }
  return std::move(*found);
}

llvm::Error BuildCacheStore::save(const core::Vertex& vertex, const core::CacheKey& key,
                                  const core::ResultPtr& result) {
  if (auto err = local_.save(vertex, key, result)) {
    return err;
  }
  if (auto* snap = dynamic_cast<const SnapshotResult*>(result.get())) {
    std::lock_guard lock(mu_);
    KeyOutcome& o = outcomes_[key];
    o.chain = snap->chain();
    o.ran = true;
  }
  return llvm::Error::success();
}

std::map<core::CacheKey, KeyOutcome> BuildCacheStore::outcomes() const {
  std::lock_guard lock(mu_);
  return outcomes_;
}

}  // namespace kiln::solver::ops
