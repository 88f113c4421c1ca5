// Pulls through registry mirrors: each reachable mirror first, then the origin.

#include "registry/client.h"
#include "registry/client_impl.h"
#include "support/error.h"

namespace kiln::registry {

namespace {

bool serves(const Mirror& mirror, Client::Impl::PullKind kind) {
  using Kind = Client::Impl::PullKind;
  switch (mirror.pull_from) {
    case Mirror::PullFrom::all:
      return true;
    case Mirror::PullFrom::digest_only:
      return kind != Kind::manifest_by_tag;
    case Mirror::PullFrom::tag_only:
      return kind != Kind::manifest_by_digest;
  }
  return true;
}

Client::Impl::PullKind manifest_kind(llvm::StringRef reference) {
  return reference.contains(':') ? Client::Impl::PullKind::manifest_by_digest
                                 : Client::Impl::PullKind::manifest_by_tag;
}

}  // namespace

std::vector<oci::Reference> Client::Impl::pull_sources(const oci::Reference& repo, PullKind kind) {
  std::vector<oci::Reference> sources;
  auto it = options.mirrors.find(repo.domain);
  for (size_t i = 0; it != options.mirrors.end() && i < it->second.size(); ++i) {
    const Mirror& mirror = it->second[i];
    if (!serves(mirror, kind)) {
      continue;
    }
    std::optional<bool> known;
    {
      std::lock_guard<std::mutex> guard(mutex);
      if (auto found = mirror_reachable.find(mirror.domain); found != mirror_reachable.end()) {
        known = found->second;
      }
    }
    if (!known) {
      // One GET /v2/ without retries: any HTTP answer (401 too) means it is up.
      llvm::Expected<std::string> base = base_url(mirror.domain);
      bool up = false;
      if (base) {
        HttpRequest probe;
        probe.url = *base + "/v2/";
        llvm::Expected<HttpResponse> response = http->send(probe);
        ++requests;
        up = response && response->failure == TransportFailure::none;
        if (!response) {
          llvm::consumeError(response.takeError());
        }
      } else {
        llvm::consumeError(base.takeError());
      }
      std::lock_guard<std::mutex> guard(mutex);
      known = mirror_reachable.emplace(mirror.domain, up).first->second;
    }
    if (*known) {
      oci::Reference via = repo;
      via.domain = mirror.domain;
      via.path = mirror.prefix.empty() ? repo.path : mirror.prefix + "/" + repo.path;
      sources.push_back(std::move(via));
    }
  }
  sources.push_back(repo);
  return sources;
}

llvm::Expected<FetchedManifest> Client::get_manifest(const oci::Reference& repo,
                                                     llvm::StringRef reference) {
  std::vector<oci::Reference> sources = impl_->pull_sources(repo, manifest_kind(reference));
  for (size_t i = 0; i + 1 < sources.size(); ++i) {
    llvm::Expected<FetchedManifest> fetched = get_manifest_at(sources[i], reference);
    if (fetched) {
      return fetched;
    }
    llvm::consumeError(fetched.takeError());
  }
  return get_manifest_at(repo, reference);
}

llvm::Expected<std::optional<ManifestHead>> Client::head_manifest(const oci::Reference& repo,
                                                                  llvm::StringRef reference) {
  std::vector<oci::Reference> sources = impl_->pull_sources(repo, manifest_kind(reference));
  for (size_t i = 0; i + 1 < sources.size(); ++i) {
    llvm::Expected<std::optional<ManifestHead>> head = head_manifest_at(sources[i], reference);
    if (head && *head) {
      return head;
    }
    if (!head) {
      llvm::consumeError(head.takeError());
    }
  }
  return head_manifest_at(repo, reference);
}

llvm::Error Client::fetch_blob(const oci::Reference& repo, const oci::Descriptor& blob,
                               BlobStore& store, const ProgressFn& progress) {
  std::vector<oci::Reference> sources = impl_->pull_sources(repo, Impl::PullKind::blob);
  for (size_t i = 0; i + 1 < sources.size(); ++i) {
    llvm::Error err = fetch_blob_at(sources[i], blob, store, progress);
    if (!err) {
      return err;
    }
    llvm::consumeError(std::move(err));
  }
  return fetch_blob_at(repo, blob, store, progress);
}

}  // namespace kiln::registry
