// The build-cache side of a build: `--cache-from` imports, `--cache-to` exports
// (which step records each one takes: min or max) and `--explain-cache`, wired
// between the solver (solver/ops) and the exporter's cache import and export.
#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <llvm/Support/Error.h>

#include "builder/build_events.h"
#include "cache/image_store.h"
#include "exporter/registry_store.h"
#include "llb/definition.h"
#include "oci/image_config.h"
#include "solver/core/scheduler.h"
#include "solver/ops/cache_index.h"
#include "solver/ops/op_graph.h"
#include "solver/ops/solve_context.h"

namespace kiln::builder {

using exporter::ContentBlobStore;
using exporter::RegistryFlags;

/// The cache flags of `kiln build`.
struct CacheFlags {
  /// `type=local,dest=DIR[,mode=min|max][,compression=gzip|zstd|uncompressed]
  /// [,cache-mounts=true][,ignore-error=true|false][,tag=NAME]`,
  /// `type=registry,ref=REF[,…]`, `type=inline`.
  std::vector<std::string> cache_to;
  /// `type=local,src=DIR[,tag=NAME]`, `type=registry,ref=REF`, or a plain image
  /// reference (an image with an inline cache, in the store or a registry).
  std::vector<std::string> cache_from;
  /// `--explain-cache`: say why each step that ran missed the cache.
  bool explain = false;
};

/// What a build needs to know about its Dockerfile for the step history.
struct CacheProject {
  std::string context;
  std::string dockerfile;
  /// `--build-arg` names (a changed variable is called a build arg).
  std::set<std::string> build_args;
  /// `--insecure-registry` entries for registry caches.
  RegistryFlags registry;
};

/// One build's cache work, from before the solve to after the image is stored.
class BuildCache {
 public:
  /// Parses the flags (a UsageError names a bad one) and reads the config of
  /// every `--cache-from` (an unreadable one is a warning, unless
  /// ignore-error=false). `images` resolves plain references (the caller's
  /// `images_mu` guards it). Warnings, explanations and notes go to `events`,
  /// which must outlive this.
  static llvm::Expected<std::unique_ptr<BuildCache>> open(
      const CacheFlags& flags, const CacheProject& project, solver::ops::SolveContext& ctx,
      cache::ImageStore& images, std::mutex& images_mu, BuildEvents& events);
  ~BuildCache();

  /// Hooks the solve: sets `opts.store` (the local index `local`, then the
  /// imports) and `opts.on_key`, and the context's cache-mount seeder. Call
  /// before the scheduler is made; `definition` and `graph` must outlive this.
  void attach(solver::core::SchedulerOptions& opts, solver::ops::SnapshotCacheStore& local,
              const llb::Definition& definition, const solver::ops::OpGraph& graph);

  /// After the solve, successful or not: records this build's steps for later
  /// explanations and, with --explain-cache or when the events want them,
  /// explains each step that missed.
  void after_solve();

  /// With `--cache-to type=inline`: adds the cache of the final image's steps
  /// to its config. `final_chain` is the target's file system.
  llvm::Error add_inline(oci::ImageConfig& config, const std::optional<Digest>& final_chain,
                         const cache::PackOptions& pack);

  /// Writes every `--cache-to` other than inline. A failure is a warning
  /// unless that export says ignore-error=false.
  llvm::Error export_all(const std::optional<Digest>& final_chain);

  struct Impl;

 private:
  explicit BuildCache(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace kiln::builder
