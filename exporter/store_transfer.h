// `kiln pull`: registry/transfer.h's whole-image pull into the local image
// store, with the store's names and leases.
#pragma once

#include <llvm/Support/Error.h>

#include "cache/image_store.h"
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

}  // namespace kiln::exporter
