// The outputs of a build beside the local image store (`kiln build --output`):
// a local directory, a rootfs tar, a docker or OCI archive.
#pragma once

#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <llvm/ADT/StringRef.h>
#include <llvm/Support/Error.h>

#include "cache/image_store.h"
#include "cache/snapshot.h"
#include "exporter/image_commit.h"

namespace kiln::exporter {

/// Splits "k=v,k2=v2" into a map; a bare word becomes {"type": word} when first.
std::map<std::string, std::string> parse_csv_kv(llvm::StringRef text);

/// Writes one `--output` spec (`type=local|tar|docker|oci,dest=PATH` or a bare
/// directory; "-" is stdout) of the stored `image`, whose file system is `chain`,
/// named `names`. type=image and type=registry write nothing here. `root` is the
/// kiln root (for temp dirs); `images_mu` guards `images`. A UsageError names a
/// bad spec.
llvm::Error write_output(const std::string& spec, cache::ImageStore& images, std::mutex& images_mu,
                         const cache::SnapshotStore& snapshots, const std::string& root,
                         const AssembledImage& image, const std::optional<Digest>& chain,
                         const std::vector<std::string>& names);

/// One platform's file system in a multi-platform output.
struct PlatformTree {
  /// The directory it goes in: the platform with '/' as '_' ("linux_arm64").
  std::string dir;
  /// Its file system; unset for an empty one.
  std::optional<Digest> chain;
};

/// `--output type=tar,dest=PATH` of several platforms: one tar ("-" is stdout) with
/// each platform's file system under its own directory, as BuildKit writes it.
/// `root` is the kiln root (for temp dirs).
llvm::Error write_platforms_tar(const cache::SnapshotStore& snapshots, const std::string& root,
                                const std::vector<PlatformTree>& trees, const std::string& dest);

}  // namespace kiln::exporter
