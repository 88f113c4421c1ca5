#include "solver/core/cache_key.h"

namespace kiln::solver::core {

CacheKey compute_cache_key(const Digest& op_digest, llvm::ArrayRef<KeyInput> inputs) {
  Sha256 h;
  h.field("kiln.cache-key", kCacheKeyVersion);
  h.field("op", op_digest.str());
  h.field("inputs", static_cast<uint64_t>(inputs.size()));
  for (const KeyInput& in : inputs) {
    h.field(in.kind == KeyInput::Kind::key ? "key" : "content", in.digest.str());
    if (!in.selector.empty()) {
      h.field("selector", in.selector.str());
    }
  }
  return h.finish();
}

}  // namespace kiln::solver::core
