// The vertex interface the scheduler runs: identity, inputs, cache map and exec.
// solver/core knows nothing of what a vertex does (DESIGN.md).
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <llvm/ADT/StringRef.h>
#include <llvm/Support/Error.h>

#include "solver/core/cancel.h"
#include "support/digest.h"

namespace kiln::solver::core {

/// A cache key: sha256 over the tagged recipe in cache_key.h.
using CacheKey = Digest;

/// The output of a vertex (a snapshot, an image config...). Implementations
/// derive from it; the scheduler only moves ResultPtrs around. Shared across
/// threads and requests, hence immutable once made.
class Result {
 public:
  virtual ~Result();
};

/// Results are shared cache objects: the scheduler, the cache store and the
/// dependents that use them all hold references.
using ResultPtr = std::shared_ptr<const Result>;

/// Computes a content digest from an input's result (e.g. the checksum of the
/// paths a COPY reads). Called on a worker thread; may fail.
using ContentDigestFn = std::function<llvm::Expected<Digest>(const ResultPtr& input)>;

/// How one input enters the cache key.
struct CacheDep {
  /// Optional: a digest of what the vertex selects from the input (e.g. the
  /// source paths). Entered into the key when non-empty.
  Digest selector;
  /// Optional: when set, the key uses this digest of the input's result instead
  /// of the input's cache key, so an input rebuilt into the same content does
  /// not invalidate the vertex. It may run after the vertex that made it is
  /// gone (another request's equal vertex carries on): capture what it needs
  /// (the selected paths) by value, never the vertex.
  ContentDigestFn content;
};

/// What a vertex's cache key is made of. `deps` is empty (every input enters by
/// its key) or has exactly one entry per input, in input order.
struct CacheMap {
  /// The digest of the operation itself, without its inputs.
  Digest op_digest;
  std::vector<CacheDep> deps;
};

/// Which limit a vertex's exec counts against. `container` work (RUN steps) is
/// bounded by the scheduler's `jobs`; `cpu` work runs on the shared task pool.
enum class ResourceClass { cpu, container };

/// What a running exec may use: its cancel token and a log sink.
class ExecContext {
 public:
  ExecContext(CancelToken cancel, std::function<void(llvm::StringRef)> log)
      : cancel_(std::move(cancel)), log_(std::move(log)) {}
  /// Cancelled when no request wants this vertex any more (a sibling failed,
  /// Ctrl-C). Register a callback to stop a process.
  const CancelToken& cancel() const { return cancel_; }
  /// Streams one line of output as a progress log event. Thread-safe.
  void log(llvm::StringRef line) const { log_(line); }

 private:
  CancelToken cancel_;
  std::function<void(llvm::StringRef)> log_;
};

/// One step of a build graph. The graph owns its vertices; inputs are borrowed
/// pointers. All methods must be thread-safe (const, or internally locked):
/// two vertices with the same digest may be asked from different threads.
class Vertex {
 public:
  virtual ~Vertex();

  /// The vertex's identity: op bytes plus its inputs' digests. Two vertices
  /// with the same digest are the same step and run once.
  virtual Digest digest() const = 0;
  /// A short human name for progress ("[2/5] RUN make"). Never hashed.
  virtual std::string name() const = 0;
  /// The inputs, in order; borrowed from the graph.
  virtual std::vector<const Vertex*> inputs() const = 0;
  /// Which job limit exec() counts against.
  virtual ResourceClass resource_class() const { return ResourceClass::cpu; }
  /// True when the step must run even if the cache has it (`--no-cache-filter`);
  /// its result is still saved.
  virtual bool ignore_cache() const { return false; }
  /// A vertex whose result may make exec() cheaper (e.g. a copy's layer made
  /// apart from its base, which depends on fewer inputs), or null. It is not an
  /// input: it does not enter the cache key, its failure fails nothing (exec()
  /// then gets a null result for it) and it shows no progress. exec() gets its
  /// result after the inputs'. With SchedulerOptions::speculate it starts as
  /// soon as this vertex is wanted, so it can run while the inputs are built.
  virtual const Vertex* helper() const { return nullptr; }
  /// The cache map; computed once per scheduler node.
  virtual llvm::Expected<CacheMap> cache_map() const = 0;
  /// Runs the step on its inputs' results (same order as inputs()). Should
  /// return CancelledError promptly once `ctx.cancel()` fires.
  virtual llvm::Expected<ResultPtr> exec(const ExecContext& ctx,
                                         const std::vector<ResultPtr>& inputs) const = 0;
};

}  // namespace kiln::solver::core
