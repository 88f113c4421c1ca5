// Private to registry/: the state of a Client shared by client.cpp (requests,
// authentication, retries, manifests) and client_blobs.cpp (blob transfers).
#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>

#include "registry/client.h"

namespace kiln::registry {

/// Whether a request may be sent again after a connection error, 429 or 5xx.
enum class Retry { yes, no };

/// Builds one attempt of a request; `url` may be a path ("/v2/...") on the registry.
using RequestMaker = std::function<llvm::Expected<HttpRequest>()>;

struct Client::Impl {
  ClientOptions options;
  std::unique_ptr<HttpTransport> http;

  std::mutex mutex;
  std::map<std::string, std::string> base_urls;                   // domain -> "https://host:port"
  std::map<std::string, std::string> auth_headers;                // domain + "\n" + scope -> header
  std::map<std::string, std::optional<Credentials>> credentials;  // by domain
  std::map<std::string, bool> mirror_reachable;                   // mirror domain -> probed

  std::atomic<long> requests{0};
  std::atomic<long> retries{0};
  std::atomic<long> blob_uploads{0};

  /// "https://host" or "http://host" for `domain`, probing /v2/ once for insecure
  /// registries.
  llvm::Expected<std::string> base_url(llvm::StringRef domain);
  /// The credentials for `domain` (options, then docker's config), cached.
  llvm::Expected<std::optional<Credentials>> credentials_for(llvm::StringRef domain);
  /// Sends the request `make` builds to `domain`, authenticating for `scope`
  /// (space-separated "repository:NAME:ACTIONS" items, may be empty) on a 401 and
  /// retrying as `retry` says. `what` names the object for error messages. Returns
  /// the last response whatever its status; fails when no response came.
  llvm::Expected<HttpResponse> send(llvm::StringRef domain, llvm::StringRef scope,
                                    const RequestMaker& make, llvm::StringRef what,
                                    Retry retry = Retry::yes);
  /// Answers the challenge of a 401: the Authorization header value to send, or none
  /// when there are no credentials to offer.
  llvm::Expected<std::optional<std::string>> authenticate(llvm::StringRef domain,
                                                          llvm::StringRef scope,
                                                          const HttpResponse& unauthorized,
                                                          llvm::StringRef what);
  /// Which object a pull fetches, for the mirrors' PullFrom.
  enum class PullKind { manifest_by_tag, manifest_by_digest, blob };
  /// Where to pull repository `repo` from: the repository on each reachable mirror
  /// of its registry that serves `kind` (probing each mirror's /v2/ once), then
  /// `repo` itself.
  std::vector<oci::Reference> pull_sources(const oci::Reference& repo, PullKind kind);
  /// Sleeps before retry `attempt` (0-based), honouring Retry-After of `response`.
  void backoff(int attempt, const HttpResponse& response);
};

/// The RegistryError (AuthError for 401/403) for an unexpected response:
/// "`what`: HTTP 404: <first error message of the body>".
llvm::Error status_error(const HttpResponse& response, llvm::StringRef domain,
                         llvm::StringRef what);
/// A RegistryError "`what`: `message`" from `domain` with `status`.
llvm::Error registry_error(llvm::StringRef domain, llvm::StringRef what, const llvm::Twine& message,
                           int status = 0);

/// "repository:PATH:ACTIONS".
std::string repository_scope(const oci::Reference& repo, llvm::StringRef actions);

}  // namespace kiln::registry
