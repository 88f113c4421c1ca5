// The distribution-spec client: manifests and blobs of repositories on registries,
// with authentication (anonymous, basic, bearer tokens cached per scope), retries
// with backoff, resumed downloads and digest checks.
//
// Errors are RegistryError (AuthError for 401/403 after trying credentials) whose
// message names the object and the HTTP status, e.g. "blob 'sha256:…': HTTP 500:
// internal error" or "blob 'sha256:…': digest mismatch (got 'sha256:…')"; pull/push
// add the operation and reference in front.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <llvm/ADT/StringRef.h>
#include <llvm/Support/Error.h>

#include "oci/reference.h"
#include "oci/types.h"
#include "registry/auth.h"
#include "registry/blob_store.h"
#include "registry/http.h"
#include "registry/mirrors.h"
#include "support/digest.h"

namespace kiln::registry {

/// The host that serves registry `domain`: docker.io -> registry-1.docker.io.
std::string registry_host(llvm::StringRef domain);

/// True when `domain` may be reached over plain HTTP: loopback names and addresses
/// (localhost, 127.0.0.0/8, ::1, with any port) and the `insecure` list ("host:port"
/// or "host"). Such a registry is tried over HTTPS (verified) first, then HTTP.
bool is_insecure_registry(llvm::StringRef domain, const std::vector<std::string>& insecure);

/// Options of a client.
struct ClientOptions {
  /// --insecure-registry entries.
  std::vector<std::string> insecure_registries;
  /// Mirrors by registry domain (registry/mirrors.h). Manifest and blob pulls of a
  /// repository on that registry try each reachable mirror first (a mirror that
  /// cannot be reached is skipped for the client's lifetime) and fall back to the
  /// registry itself, whose error is the one reported. Pushes never use mirrors.
  std::map<std::string, std::vector<Mirror>> mirrors;
  /// docker's client config with stored credentials (see auth.h).
  std::string docker_config = default_docker_config_path();
  /// Credentials to use instead of the config, by domain (`kiln login` verifying).
  std::map<std::string, Credentials> credentials;
  HttpOptions http;
  /// Retries of one request after a connection error, 429 or 5xx.
  int max_retries = 4;
  /// First backoff; doubled after each retry, capped at `max_backoff`. A
  /// Retry-After header replaces it (also capped).
  std::chrono::milliseconds initial_backoff{200};
  std::chrono::milliseconds max_backoff{5000};
  /// Upload blobs in PATCH chunks of this size; 0 uploads each blob with one PUT.
  uint64_t chunk_size = 0;
};

/// A fetched manifest or index.
struct FetchedManifest {
  std::string media_type;  // from the document, else Content-Type
  std::string bytes;
  Digest digest;  // of `bytes` (checked against the requested digest and the header)
};

/// What a registry answered to HEAD of a manifest.
struct ManifestHead {
  std::string media_type;
  Digest digest;
  int64_t size = 0;
};

/// What happens to one blob, for progress displays.
struct BlobProgress {
  enum class Phase { started, transferring, retrying, exists, mounted, complete };
  Phase phase;
  Digest digest;
  uint64_t current = 0;  // bytes so far
  uint64_t total = 0;    // the blob's size
};
using ProgressFn = std::function<void(const BlobProgress&)>;

/// Request counters, for tests and benchmarks.
struct ClientStats {
  long requests = 0;
  long retries = 0;
  long blob_uploads = 0;  // upload sessions that sent bytes
  long connections = 0;   // connections libcurl opened
};

/// A registry client. Thread-safe: pulls and pushes use one client from many
/// threads; tokens, credentials and each registry's scheme are cached inside.
class Client {
 public:
  static llvm::Expected<std::unique_ptr<Client>> create(ClientOptions options = {});
  ~Client();

  /// GET of manifest `reference` (a tag or a digest) of repository `repo` (its
  /// domain and path; tag and digest ignored), accepting OCI and Docker manifests
  /// and indexes. A digest reference is verified against the bytes.
  llvm::Expected<FetchedManifest> get_manifest(const oci::Reference& repo,
                                               llvm::StringRef reference);
  /// HEAD of manifest `reference`; none when the registry says 404.
  llvm::Expected<std::optional<ManifestHead>> head_manifest(const oci::Reference& repo,
                                                            llvm::StringRef reference);
  /// PUT of a manifest under `reference` (tag or digest). Checks the registry's
  /// Docker-Content-Digest against the digest of `bytes`, which it returns.
  llvm::Expected<Digest> put_manifest(const oci::Reference& repo, llvm::StringRef reference,
                                      llvm::StringRef media_type, llvm::StringRef bytes);

  /// Downloads blob `blob` into `store` (following redirects), verifying size and
  /// digest while streaming and resuming with Range after a dropped connection.
  /// Nothing is stored unless it verified.
  llvm::Error fetch_blob(const oci::Reference& repo, const oci::Descriptor& blob, BlobStore& store,
                         const ProgressFn& progress = {});
  /// HEAD of blob `digest`: true when the repository has it.
  llvm::Expected<bool> has_blob(const oci::Reference& repo, const Digest& digest);
  /// Uploads blob `blob` from `store`: mounts it from repository `mount_from` (a
  /// path on the same registry) when given and the registry agrees, else POST then
  /// PUT (or PATCH chunks then PUT). Returns true when it was mounted.
  llvm::Expected<bool> push_blob(const oci::Reference& repo, const oci::Descriptor& blob,
                                 const BlobStore& store, llvm::StringRef mount_from = {},
                                 const ProgressFn& progress = {});
  /// The repository names of registry `domain` from its catalog API
  /// (GET /v2/_catalog, following Link pages), at most `max` of them (0: all).
  /// Fails with the registry's status when it has no catalog (HTTP 404) or refuses.
  llvm::Expected<std::vector<std::string>> list_repositories(llvm::StringRef domain,
                                                             size_t max = 0);
  /// GET /v2/ with the configured credentials: success when the registry accepts
  /// them (or needs none); AuthError when it refuses.
  llvm::Error check_login(llvm::StringRef domain);

  ClientStats stats() const;

  /// The client's state; defined in registry/client_impl.h, private to registry/.
  struct Impl;

 private:
  explicit Client(std::unique_ptr<Impl> impl);
  // The pulls above at one registry or mirror, without mirrors.
  llvm::Expected<FetchedManifest> get_manifest_at(const oci::Reference& repo,
                                                  llvm::StringRef reference);
  llvm::Expected<std::optional<ManifestHead>> head_manifest_at(const oci::Reference& repo,
                                                               llvm::StringRef reference);
  llvm::Error fetch_blob_at(const oci::Reference& repo, const oci::Descriptor& blob,
                            BlobStore& store, const ProgressFn& progress);
  std::unique_ptr<Impl> impl_;
};

}  // namespace kiln::registry
