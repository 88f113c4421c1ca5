#include "builder/build_registry.h"

#include "oci/reference.h"
#include "registry/transfer.h"
#include "support/error.h"

namespace kiln::builder {

llvm::Expected<registry::Client*> BuildPuller::client() {
  if (!client_) {
    auto made = make_registry_client(flags_);
    if (!made) {
      return made.takeError();
    }
    client_ = std::move(*made);
  }
  return client_.get();
}

llvm::Expected<cache::ImageRecord> BuildPuller::pull(cache::ImageStore& store,
                                                     const std::string& ref_text,
                                                     const std::string& platform_text) {
  std::lock_guard lock(mu_);
  if (auto it = done_.find(ref_text + " " + platform_text); it != done_.end()) {
    return it->second;
  }
  registry::PullOptions options;
  bool host = true;
  if (!platform_text.empty()) {
    auto platform = oci::parse_normalized_platform(platform_text);
    if (!platform) {
      return platform.takeError();
    }
    options.platform = *platform;
    host = oci::platform_matches(oci::normalize_platform(oci::host_platform()), *platform);
  }
  auto ref = oci::parse_reference(ref_text);
  if (!ref) {
    return ref.takeError();
  }
  std::string context = "pull " + quote(ref->familiar_str());
  auto c = client();
  if (!c) {
    return with_context(c.takeError(), context);
  }
  auto lease = store.content().lease(cache::LeaseMode::shared);
  if (!lease) {
    return lease.takeError();
  }
  ContentBlobStore blobs(store.content());
  auto pulled = registry::pull_image(**c, *ref, blobs, options);
  if (!pulled) {
    return with_context(pulled.takeError(), context);
  }
  std::vector<std::string> names;
  if (!ref->tag.empty() && host) {
    names.push_back(ref->str());
  }
  auto added = store.add(pulled->manifest, names);
  if (!added) {
    return with_context(added.takeError(), context);
  }
  done_[ref_text + " " + platform_text] = *added;
  return *added;
}

llvm::Expected<std::vector<BuildPushResult>> push_built(cache::ImageStore& store,
                                                        const Digest& manifest,
                                                        const std::vector<std::string>& names,
                                                        const RegistryFlags& flags) {
  std::vector<BuildPushResult> out;
  if (names.empty()) {
    return llvm::make_error<UsageError>("--push needs a name: add -t NAME");
  }
  auto client = make_registry_client(flags);
  if (!client) {
    return client.takeError();
  }
  ContentBlobStore blobs(store.content());
  for (const auto& name : names) {
    auto ref = oci::parse_reference(name);
    if (!ref) {
      return ref.takeError();
    }
    auto pushed = registry::push_image(**client, *ref, blobs, manifest, {});
    if (!pushed) {
      return with_context(pushed.takeError(), "push " + quote(ref->familiar_str()));
    }
    out.push_back({name, pushed->digest, pushed->uploaded, pushed->existed});
  }
  return out;
}

}  // namespace kiln::builder
