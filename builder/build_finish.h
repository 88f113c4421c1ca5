// The end of a build shared by build.cpp and the multi-platform path: the names to
// give and push, --iidfile/--metadata-file, and a multi-platform build's index,
// outputs and push. Internal to builder/.
#pragma once

#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <llvm/Support/Error.h>

#include "builder/build.h"
#include "builder/build_cache.h"
#include "cache/build_db.h"
#include "cache/image_store.h"
#include "cache/snapshot.h"
#include "frontend/lower.h"
#include "solver/core/scheduler.h"
#include "support/digest.h"

namespace kiln::builder {

/// The -t names, normalized; sets `err` (and returns nothing) for a bad one or one
/// with a digest.
std::vector<std::string> normalized_tags(const std::vector<std::string>& tags, llvm::Error& err);

/// The names to push: every -t name with --push, and the `name=` of each
/// `type=image,push=true` or `type=registry` output. Sets `err` for a bad name.
std::vector<std::string> push_names(const BuildOptions& flags, const std::vector<std::string>& tags,
                                    llvm::Error& err);

/// The image's ID and its manifest (or index) descriptor, for --iidfile and
/// --metadata-file.
struct WrittenImage {
  Digest id;
  std::string media_type;
  Digest digest;
  size_t size = 0;
};

/// Writes --iidfile and --metadata-file when asked.
llvm::Error write_metadata(const BuildOptions& flags, const WrittenImage& built,
                           const std::vector<std::string>& names);

/// What the end of a build works with, shared by the images of one solve.
struct FinishContext {
  const std::string& root;
  cache::ImageStore& store;
  /// Guards `store` (shared with the solve's image resolver).
  std::mutex& store_mu;
  cache::SnapshotStore& snapshots;
  cache::BuildDb& db;
  BuildCache& build_cache;
  std::optional<int64_t> epoch;
  BuildEvents& events;
};

/// The end of a one-platform build of `flags`: the image of file system `chain`
/// with `config` (plus the --label values) stored under `names`, its outputs,
/// the cache export, the push, the metadata, each a note to `events`. Does not
/// call events.finish().
llvm::Expected<BuildResult> finish_image(const FinishContext& fc, const BuildOptions& flags,
                                         const std::optional<Digest>& chain,
                                         oci::ImageConfig config,
                                         const std::vector<std::string>& names);

/// The end of a multi-platform build: the index stored under `names`, the outputs
/// (a local output gets a directory per platform, "linux_arm64"), the cache export,
/// the push, the metadata; events.finish() is called.
llvm::Expected<BuildResult> finish_platforms(
    const BuildRequest& request, const frontend::MultiLowerResult& lowered,
    const std::vector<solver::core::Solved>& solved, cache::ImageStore& store, std::mutex& store_mu,
    cache::SnapshotStore& snapshots, cache::BuildDb& db, BuildCache& build_cache,
    std::optional<int64_t> epoch, const std::vector<std::string>& names, BuildEvents& events);

}  // namespace kiln::builder
