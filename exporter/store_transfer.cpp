#include "exporter/store_transfer.h"

#include "exporter/registry_store.h"
#include "support/error.h"

namespace kiln::exporter {
namespace {

// True when `name` already names the image with manifest `manifest`.
bool names_manifest(cache::ImageStore& store, const std::string& name, const Digest& manifest) {
  llvm::Expected<cache::ImageRecord> record = store.resolve(name);
  if (!record) {
    llvm::consumeError(record.takeError());
    return false;
  }
  return record->manifest == manifest;
}

}  // namespace

llvm::Expected<StorePull> pull_to_store(cache::ImageStore& store, registry::Client& client,
                                        const oci::Reference& ref,
                                        const registry::PullOptions& options) {
  std::string context = "pull " + quote(ref.familiar_str());
  llvm::Expected<cache::BlobLease> lease = store.content().lease(cache::LeaseMode::shared);
  if (!lease) {
    return lease.takeError();
  }
  ContentBlobStore blobs(store.content());
  llvm::Expected<registry::PullResult> pulled = registry::pull_image(client, ref, blobs, options);
  if (!pulled) {
    return with_context(pulled.takeError(), context);
  }
  std::string name = ref.str();
  StorePull out{pulled->digest,
                pulled->downloaded == 0 && names_manifest(store, name, pulled->manifest)};
  std::vector<std::string> names;
  if (!ref.tag.empty()) {
    names.push_back(name);
  }
  if (llvm::Expected<cache::ImageRecord> added = store.add(pulled->manifest, names); !added) {
    return with_context(added.takeError(), context);
  }
  return out;
}

}  // namespace kiln::exporter
