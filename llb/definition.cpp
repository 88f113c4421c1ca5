// Definition and DefinitionBuilder: dedup by digest, pruning to the roots.

#include "llb/definition.h"

#include <unordered_set>

namespace kiln::llb {

const Vertex* Definition::find(const Digest& digest) const {
  auto it = by_digest_.find(digest);
  return it == by_digest_.end() ? nullptr : it->second;
}

const Vertex* DefinitionBuilder::add(Op op, std::vector<const Vertex*> inputs,
                                     VertexMetadata metadata) {
  std::vector<Digest> input_digests;
  input_digests.reserve(inputs.size());
  for (const Vertex* in : inputs) {
    assert(in && def_.find(in->digest()) == in && "input from another builder");
    input_digests.push_back(in->digest());
  }
  Digest digest = vertex_digest(op, input_digests);
  if (const Vertex* existing = def_.find(digest)) {
    return existing;
  }
  auto vertex =
      std::make_unique<Vertex>(std::move(op), std::move(inputs), std::move(metadata), digest);
  const Vertex* ptr = vertex.get();
  def_.vertices_.push_back(std::move(vertex));
  def_.by_digest_.emplace(digest, ptr);
  return ptr;
}

Definition DefinitionBuilder::finish(std::vector<Definition::Root> roots) {
  std::unordered_set<const Vertex*> reachable;
  std::vector<const Vertex*> stack;
  for (const auto& root : roots) {
    stack.push_back(root.vertex);
  }
  while (!stack.empty()) {
    const Vertex* v = stack.back();
    stack.pop_back();
    if (!reachable.insert(v).second) {
      continue;
    }
    for (const Vertex* in : v->inputs()) {
      stack.push_back(in);
    }
  }
  Definition out;
  for (auto& v : def_.vertices_) {
    if (reachable.count(v.get())) {
      out.by_digest_.emplace(v->digest(), v.get());
      out.vertices_.push_back(std::move(v));
    }
  }
  out.roots_ = std::move(roots);
  def_ = Definition();
  return out;
}

}  // namespace kiln::llb
