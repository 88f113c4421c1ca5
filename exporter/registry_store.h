// Wiring between registry/ and the local store for pull, push and build: the
// content store seen as a registry::BlobStore, and a registry client from the
// flags and the environment.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "cache/content_store.h"
#include "registry/auth.h"
#include "registry/blob_store.h"
#include "registry/client.h"

namespace kiln::exporter {

/// The content store as a registry::BlobStore. Thread-safe like ContentStore.
class ContentBlobStore : public registry::BlobStore {
 public:
  explicit ContentBlobStore(cache::ContentStore content) : content_(std::move(content)) {}
  bool has(const Digest& digest) const override;
  llvm::Expected<std::unique_ptr<registry::BlobWriter>> begin_write() override;
  llvm::Expected<std::string> read(const Digest& digest) const override;
  llvm::Expected<std::unique_ptr<registry::BlobReader>> open(const Digest& digest) const override;

 private:
  cache::ContentStore content_;
};

/// Registry flags shared by pull, push and login.
struct RegistryFlags {
  std::vector<std::string> insecure_registries;
  std::vector<std::string> registry_mirrors;
};

/// A client for the flags and the mirrors and insecure registries configured in
/// registry::default_config_dir() (registry/mirrors.h); KILN_INSECURE_REGISTRIES
/// (comma-separated) adds entries and KILN_REGISTRY_CHUNK_SIZE sets chunked uploads.
llvm::Expected<std::unique_ptr<registry::Client>> make_registry_client(
    const RegistryFlags& flags, registry::ClientOptions options = {});

/// `kiln login`: checks `credentials` for `domain` (registry::server_domain())
/// against the registry's /v2/ through a client for `flags`, then saves them in
/// docker's config.json (registry::default_docker_config_path()). Errors are in
/// the context "login 'DOMAIN'"; nothing is saved when the check fails.
llvm::Error log_in(const RegistryFlags& flags, const std::string& domain,
                   const registry::Credentials& credentials);

}  // namespace kiln::exporter
