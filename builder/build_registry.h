// The registry side of `kiln build`: FROM images that are not in the store (or
// every FROM with --pull) are pulled, and --push / --output type=registry
// upload the result.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <llvm/Support/Error.h>

#include "cache/image_store.h"
#include "exporter/registry_store.h"
#include "registry/client.h"

namespace kiln::builder {

using exporter::ContentBlobStore;
using exporter::RegistryFlags;

/// Pulls base images into a store for one build. Thread-safe; each reference is
/// pulled at most once per build.
class BuildPuller {
 public:
  BuildPuller(RegistryFlags flags, bool always) : flags_(std::move(flags)), always_(always) {}

  /// True when `--pull` asks to re-resolve every tag.
  bool always() const { return always_; }

  /// Pulls `ref` (normalized) for `platform` ("" or the host's: named `ref` in the
  /// store; another platform's image is stored without a name, so that `ref` keeps
  /// naming the host's) into `store`; returns the record. The caller serializes
  /// calls that touch `store`.
  llvm::Expected<cache::ImageRecord> pull(cache::ImageStore& store, const std::string& ref,
                                          const std::string& platform = "");

 private:
  llvm::Expected<registry::Client*> client();

  RegistryFlags flags_;
  bool always_;
  std::mutex mu_;
  std::unique_ptr<registry::Client> client_;
  std::map<std::string, cache::ImageRecord> done_;
};

/// What one push uploaded.
struct BuildPushResult {
  std::string name;
  Digest digest;
  int uploaded = 0;
  int existed = 0;
};

/// Pushes the stored image `manifest` under each of `names` (normalized).
llvm::Expected<std::vector<BuildPushResult>> push_built(cache::ImageStore& store,
                                                        const Digest& manifest,
                                                        const std::vector<std::string>& names,
                                                        const RegistryFlags& flags);

}  // namespace kiln::builder
