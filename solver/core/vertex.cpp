#include "solver/core/vertex.h"

#include "solver/core/cache_store.h"

namespace kiln::solver::core {

Result::~Result() = default;
Vertex::~Vertex() = default;
CacheStore::~CacheStore() = default;
StepLock::~StepLock() = default;
StepLocks::~StepLocks() = default;

}  // namespace kiln::solver::core
