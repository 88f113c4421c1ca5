// `kiln pull` and `kiln push`: registry/transfer.h's whole-image transfers
// between a registry and the local image store, with the store's names and
// leases, and docker's lines about them.
#pragma once

#include <functional>
#include <optional>
#include <string>

#include <llvm/Support/Error.h>

#include "cache/image_store.h"
#include "exporter/registry_store.h"
#include "oci/reference.h"
#include "registry/client.h"
#include "registry/transfer.h"
#include "support/digest.h"

namespace kiln::exporter {

/// What pull_to_store() did.
struct StorePull {
  /// The digest `ref` names (docker's "Digest:" line).
  Digest digest;
  /// Nothing was downloaded and `ref` already named the pulled image.
  bool up_to_date = false;
};

/// Pulls `ref` through `client` into `store` (under a shared blob lease, so that
/// no collection deletes blobs meanwhile) and adds the image, named `ref` when it
/// has a tag. Errors are in the context "pull 'REF'" (familiar form).
llvm::Expected<StorePull> pull_to_store(cache::ImageStore& store, registry::Client& client,
                                        const oci::Reference& ref,
                                        const registry::PullOptions& options);

/// docker's line before a pull's layers: "TAG: Pulling from PATH\n" (the digest
/// when `ref` has no tag).
std::string pull_header_text(const oci::Reference& ref);

/// docker's lines after a pull: "Digest: sha256:...\n", then "Status: Downloaded
/// newer image for NAME\n" or "Status: Image is up to date for NAME\n".
std::string pull_summary_text(const oci::Reference& ref, const StorePull& pull);

/// Pushes the stored image `ref` names: resolves it in `store`, makes the client
/// for `flags` (make_registry_client()), calls `on_start` (optional; docker's
/// "The push refers to repository" line goes there), and pushes the image's blobs
/// from the content store and its manifest. A missing image and the push's errors
/// are in the context "push 'REF'" (familiar form).
llvm::Expected<registry::PushResult> push_from_store(cache::ImageStore& store,
                                                     const RegistryFlags& flags,
                                                     const oci::Reference& ref,
                                                     const registry::PushOptions& options,
                                                     const std::function<void()>& on_start);

/// docker's line before a push's layers: "The push refers to repository [NAME]\n".
std::string push_header_text(const oci::Reference& ref);

/// docker's line after a push: "TAG: digest: sha256:... size: N\n" (the digest
/// when `ref` has no tag).
std::string push_summary_text(const oci::Reference& ref, const registry::PushResult& pushed);

/// Which way layers go, for their progress lines.
enum class LayerDirection { pull, push };

/// docker's line for a layer's event, without its newline: "ID: Pulling fs layer",
/// "ID: Already exists", "ID: Pull complete" (a pull); "ID: Preparing", "ID: Layer
/// already exists", "ID: Mounted from REPO" (`mount_from`), "ID: Pushed" (a push),
/// ID the blob's short hex digest. None for the events docker shows no line for
/// (bytes transferred, retries).
std::optional<std::string> layer_progress_line(const registry::BlobProgress& event,
                                               LayerDirection direction,
                                               const std::string& mount_from = {});

}  // namespace kiln::exporter
