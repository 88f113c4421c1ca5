// The cache-key recipe. Bump kCacheKeyVersion whenever it changes.
#pragma once

#include <cstdint>

#include <llvm/ADT/ArrayRef.h>

#include "solver/core/vertex.h"

namespace kiln::solver::core {

/// The version of the recipe below; part of every key.
inline constexpr uint64_t kCacheKeyVersion = 1;

/// One input as it enters a key.
struct KeyInput {
  enum class Kind { key, content };
  /// `key`: `digest` is the input's cache key; `content`: a content digest of
  /// the input's result.
  Kind kind = Kind::key;
  Digest digest;
  /// Entered when non-empty (see CacheDep::selector).
  Digest selector;
};

/// sha256 of tagged fields: ("kiln.cache-key", kCacheKeyVersion), ("op", op
/// digest "sha256:…"), ("inputs", count), then per input ("key"|"content",
/// digest "sha256:…") and, when non-empty, ("selector", "sha256:…").
/// Descriptions and progress data never enter it. Pure; thread-safe.
CacheKey compute_cache_key(const Digest& op_digest, llvm::ArrayRef<KeyInput> inputs);

}  // namespace kiln::solver::core
