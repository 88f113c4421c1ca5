// Whole-image transfers: pull an image (or one platform of a multi-platform index)
// into a BlobStore, push an image from one. Blobs move in parallel; what the
// destination already has is skipped.
#pragma once

#include <cstdint>
#include <string>

#include <llvm/Support/Error.h>

#include "oci/reference.h"
#include "oci/types.h"
#include "registry/blob_store.h"
#include "registry/client.h"
#include "support/digest.h"

namespace kiln::registry {

struct PullOptions {
  /// The platform chosen from an index.
  oci::Platform platform = oci::Platform{"amd64", "linux", "", {}, ""};
  /// Parallel blob downloads (docker's max-concurrent-downloads is 3).
  int jobs = 3;
  /// Called from the download threads.
  ProgressFn progress;
};

struct PullResult {
  /// The digest of what `ref` names: the index for a multi-platform image, else the
  /// manifest (docker's "Digest:" line).
  Digest digest;
  /// The image manifest pulled (the chosen platform's), stored in the BlobStore.
  Digest manifest;
  oci::Manifest parsed;
  /// Blobs fetched; 0 when the store had everything.
  int downloaded = 0;
};

/// Pulls `ref` (tag or digest) into `store`: the index (when there is one), the
/// manifest for `options.platform`, its config and layers, all verified. Manifests
/// are stored last, so a stored manifest implies its blobs. Errors carry no
/// "pull 'REF'" prefix (the caller adds it).
llvm::Expected<PullResult> pull_image(Client& client, const oci::Reference& ref, BlobStore& store,
                                      const PullOptions& options = {});

struct PushOptions {
  /// Parallel blob uploads (docker's max-concurrent-uploads is 5).
  int jobs = 5;
  /// A repository on the same registry to mount blobs from ("" for none).
  std::string mount_from;
  /// Called from the upload threads.
  ProgressFn progress;
};

struct PushResult {
  /// The digest and size of the pushed manifest (or index).
  Digest digest;
  int64_t size = 0;
  int uploaded = 0;  // blobs sent
  int existed = 0;   // blobs the registry had
  int mounted = 0;   // blobs mounted from `mount_from`
};

/// Pushes the manifest or index `manifest` from `store` with its blobs (children
/// first) and tags it `ref`'s tag (or puts it by digest when `ref` has none).
llvm::Expected<PushResult> push_image(Client& client, const oci::Reference& ref,
                                      const BlobStore& store, const Digest& manifest,
                                      const PushOptions& options = {});

/// Runs `body(i)` for i in [0, count) on up to `jobs` threads. Stops starting new
/// items after the first failure and returns it (later failures are dropped).
llvm::Error parallel_for(size_t count, int jobs, const std::function<llvm::Error(size_t)>& body);

}  // namespace kiln::registry
