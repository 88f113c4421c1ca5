// The results the LLB ops produce: file systems (snapshot chains) and local
// directories. Immutable once made; shared across threads by the scheduler.
#pragma once

#include <functional>
#include <optional>
#include <string>

#include <llvm/ADT/StringRef.h>

#include "cache/context_hash.h"
#include "cache/gc_lock.h"
#include "solver/core/vertex.h"
#include "support/digest.h"

namespace kiln::solver::ops {

/// A file system: the immutable snapshot chain `chain` (nullopt: the empty file
/// system of `scratch`).
class SnapshotResult : public core::Result {
 public:
  /// Notes `chain` as used by this process (cache::note_chain_in_use()), so that
  /// a collection this process runs keeps it.
  explicit SnapshotResult(std::optional<Digest> chain) : chain_(std::move(chain)) {
    if (chain_) {
      cache::note_chain_in_use(*chain_);
    }
  }
  const std::optional<Digest>& chain() const { return chain_; }

 private:
  std::optional<Digest> chain_;
};

/// A local directory given to the build (the context or a named context), read
/// in place: `name` keys SolveContext::locals.
class LocalResult : public core::Result {
 public:
  explicit LocalResult(std::string name) : name_(std::move(name)) {}
  const std::string& name() const { return name_; }

 private:
  std::string name_;
};

}  // namespace kiln::solver::ops
