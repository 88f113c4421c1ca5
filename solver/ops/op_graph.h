// The LLB graph seen by the scheduler: one core::Vertex per llb::Vertex, whose
// cache map and exec are the op implementations of solver/ops.
#pragma once

#include <memory>
#include <unordered_map>

#include "llb/definition.h"
#include "solver/core/vertex.h"
#include "solver/ops/solve_context.h"

namespace kiln::solver::ops {

/// Wraps every vertex of a Definition. Borrows the Definition and the context:
/// both must outlive the graph. Immutable after construction; thread-safe.
class OpGraph {
 public:
  OpGraph(const llb::Definition& definition, const SolveContext& context);
  ~OpGraph();
  OpGraph(const OpGraph&) = delete;
  OpGraph& operator=(const OpGraph&) = delete;

  /// The scheduler vertex of `vertex` (which must belong to the Definition).
  const core::Vertex& vertex(const llb::Vertex* vertex) const;

 private:
  std::unordered_map<const llb::Vertex*, std::unique_ptr<core::Vertex>> vertices_;
};

}  // namespace kiln::solver::ops
