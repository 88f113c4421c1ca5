// Multi-platform builds (`kiln build --platform linux/amd64,linux/arm64`): the
// target platforms, one solve of every platform's target, and the image index
// made of the platforms' images.
#pragma once

#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <llvm/Support/Error.h>

#include "builder/build_events.h"
#include "cache/build_db.h"
#include "cache/image_store.h"
#include "cache/layer_pack.h"
#include "cache/snapshot.h"
#include "frontend/lower.h"
#include "oci/image_config.h"
#include "oci/types.h"
#include "solver/core/scheduler.h"
#include "support/cancel.h"

namespace kiln::builder {

/// The normalized, deduplicated platforms of the `--platform` values (each may be a
/// comma-separated list; "local" is the host's), in the order given. Fails with a
/// UsageError naming a bad one.
llvm::Expected<std::vector<std::string>> target_platforms(const std::vector<std::string>& flags);

/// Lowers for `platforms`: one platform (or none: the host's) is a plain lower()
/// with that target platform; several share one graph (frontend::lower_platforms).
llvm::Expected<frontend::MultiLowerResult> lower_for_platforms(
    const frontend::Dockerfile& dockerfile, const frontend::LowerOptions& options,
    const std::vector<std::string>& platforms);

/// Solves every root at once on `scheduler` (one thread per root; identical vertices
/// run once, and their events reach `progress` once). The first failure cancels
/// the others (through `cancel`) and is returned; `progress` is called from
/// several threads, serialized here.
llvm::Expected<std::vector<solver::core::Solved>> solve_roots(
    solver::core::Scheduler& scheduler, const std::vector<const solver::core::Vertex*>& roots,
    const solver::core::ProgressCallback& progress, CancelToken& cancel);

/// The images of a multi-platform build, assembled and stored.
struct PlatformsExport {
  cache::ImageStore& store;
  /// Guards `store` (shared with the solve's image resolver).
  std::mutex& store_mu;
  const cache::SnapshotStore& snapshots;
  cache::BuildDb& db;
  cache::PackOptions pack;
  bool exact_compression = false;
  std::optional<int64_t> source_date_epoch;
  /// --label values ("k=v").
  std::vector<std::string> labels;
  /// Full names to give the index.
  std::vector<std::string> names;
  /// `--cache-to type=inline`: adds a platform's cache to its config (called before
  /// `store_mu` is taken); may be empty.
  std::function<llvm::Error(oci::ImageConfig&, const std::optional<Digest>&,
                            const cache::PackOptions&)>
      add_inline;
};

/// The stored index.
struct BuiltIndex {
  Digest digest;
  std::string json;
  /// The platforms' manifest digests, in the index's order.
  std::vector<Digest> manifests;
};

/// Assembles each platform's image (OCI media types, the stage's config with its
/// platform), writes an OCI image index listing them with their platforms, and
/// records it in the store under `input.names`.
llvm::Expected<BuiltIndex> store_platform_images(const PlatformsExport& input,
                                                 const frontend::MultiLowerResult& lowered,
                                                 const std::vector<solver::core::Solved>& solved);

}  // namespace kiln::builder
