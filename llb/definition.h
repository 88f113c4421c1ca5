// The build graph: vertices (an op plus its input edges) with content digests, and
// the immutable Definition that owns them.
#pragma once

#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "llb/ops.h"
#include "support/digest.h"
#include "support/error.h"

namespace kiln::llb {

/// Version of the canonical op encoding; bump when the byte layout changes (it
/// changes every vertex digest and so every cache key).
constexpr uint64_t kEncodingVersion = 1;

/// Data about a vertex that never enters its digest.
struct VertexMetadata {
  /// What progress shows, e.g. "[build 3/5] RUN make".
  std::string description;
  /// Dockerfile lines the vertex comes from.
  std::vector<SourceRange> ranges;
  /// Vertices of one stage share a group ("stage-0").
  std::string progress_group;
  /// Never take this vertex from the cache (--no-cache-filter).
  bool ignore_cache = false;
};

/// A node of the graph. Owned by its Definition (or builder); edges are borrowed
/// pointers into the same owner. Immutable after creation; thread-safe to read.
class Vertex {
 public:
  Vertex(Op op, std::vector<const Vertex*> inputs, VertexMetadata metadata, Digest digest)
      : op_(std::move(op)),
        inputs_(std::move(inputs)),
        metadata_(std::move(metadata)),
        digest_(digest) {}

  const Op& op() const { return op_; }
  /// Inputs in order; the order is part of the digest.
  const std::vector<const Vertex*>& inputs() const { return inputs_; }
  const VertexMetadata& metadata() const { return metadata_; }
  /// sha256 of the canonical op bytes followed by the inputs' digests.
  const Digest& digest() const { return digest_; }

 private:
  Op op_;
  std::vector<const Vertex*> inputs_;
  VertexMetadata metadata_;
  Digest digest_;
};

/// The canonical, versioned bytes of `op` alone (tagged, length-prefixed fields,
/// maps sorted; proxy env excluded). Stable across runs and machines.
std::string encode_op(const Op& op);

/// The digest of a vertex with `op` and inputs of digests `inputs`.
Digest vertex_digest(const Op& op, const std::vector<Digest>& inputs);

/// An immutable graph: vertices in dependency order (every input before its users)
/// plus named roots. Move-only; vertex pointers stay valid for its lifetime.
class Definition {
 public:
  struct Root {
    std::string name;
    const Vertex* vertex;
  };

  Definition() = default;
  Definition(Definition&&) = default;
  Definition& operator=(Definition&&) = default;

  /// All vertices, inputs before users.
  const std::vector<std::unique_ptr<Vertex>>& vertices() const { return vertices_; }
  /// The named outputs, in the order they were given to finish().
  const std::vector<Root>& roots() const { return roots_; }
  /// The vertex with `digest`, or null.
  const Vertex* find(const Digest& digest) const;
  /// A stable JSON dump (2-space indent): version, roots, and each vertex with its
  /// digest, op, input digests and metadata. Used by --dump-llb and golden tests.
  std::string to_json() const;

 private:
  friend class DefinitionBuilder;
  std::vector<std::unique_ptr<Vertex>> vertices_;
  std::vector<Root> roots_;
  std::unordered_map<Digest, const Vertex*> by_digest_;
};

/// Builds a Definition. Identical ops with identical inputs give one vertex (the
/// first one's metadata is kept). Not thread-safe.
class DefinitionBuilder {
 public:
  /// Adds (or finds) the vertex for `op` over `inputs`, which must come from this
  /// builder. Returns a pointer owned by the builder, then by the Definition.
  const Vertex* add(Op op, std::vector<const Vertex*> inputs, VertexMetadata metadata = {});
  /// Number of distinct vertices so far.
  size_t size() const { return def_.vertices_.size(); }
  /// Ends building: keeps only vertices reachable from `roots`, in dependency order.
  /// The builder is empty afterwards.
  Definition finish(std::vector<Definition::Root> roots);

 private:
  Definition def_;
};

}  // namespace kiln::llb
