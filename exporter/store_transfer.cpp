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

std::string pull_header_text(const oci::Reference& ref) {
  return (ref.digest.empty() ? ref.tag : ref.digest) + ": Pulling from " + ref.path + "\n";
}

std::string pull_summary_text(const oci::Reference& ref, const StorePull& pull) {
  return "Digest: " + pull.digest.str() + "\nStatus: " +
         (pull.up_to_date ? "Image is up to date for " : "Downloaded newer image for ") +
         ref.familiar_str() + "\n";
}

llvm::Expected<registry::PushResult> push_from_store(cache::ImageStore& store,
                                                     const RegistryFlags& flags,
                                                     const oci::Reference& ref,
                                                     const registry::PushOptions& options,
                                                     const std::function<void()>& on_start) {
  std::string context = "push " + quote(ref.familiar_str());
  llvm::Expected<cache::ImageRecord> image = store.resolve(ref.str());
  if (!image) {
    return with_context(image.takeError(), context);
  }
  llvm::Expected<std::unique_ptr<registry::Client>> client = make_registry_client(flags);
  if (!client) {
    return client.takeError();
  }
  if (on_start) {
    on_start();
  }
  ContentBlobStore blobs(store.content());
  llvm::Expected<registry::PushResult> pushed =
      registry::push_image(**client, ref, blobs, image->manifest, options);
  if (!pushed) {
    return with_context(pushed.takeError(), context);
  }
  return pushed;
}

std::string push_header_text(const oci::Reference& ref) {
  return "The push refers to repository [" + ref.name() + "]\n";
}

std::string push_summary_text(const oci::Reference& ref, const registry::PushResult& pushed) {
  return (ref.tag.empty() ? ref.digest : ref.tag) + ": digest: " + pushed.digest.str() +
         " size: " + std::to_string(pushed.size) + "\n";
}

std::optional<std::string> layer_progress_line(const registry::BlobProgress& event,
                                               LayerDirection direction,
                                               const std::string& mount_from) {
  using Phase = registry::BlobProgress::Phase;
  bool pull = direction == LayerDirection::pull;
  std::string text;
  switch (event.phase) {
    case Phase::started:
      text = pull ? "Pulling fs layer" : "Preparing";
      break;
    case Phase::exists:
      text = pull ? "Already exists" : "Layer already exists";
      break;
    case Phase::mounted:
      text = "Mounted from " + mount_from;
      break;
    case Phase::complete:
      text = pull ? "Pull complete" : "Pushed";
      break;
    case Phase::transferring:
    case Phase::retrying:
      return std::nullopt;
  }
  return event.digest.short_hex() + ": " + text;
}

}  // namespace kiln::exporter
