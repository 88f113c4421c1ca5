#include "registry/client.h"

#include <thread>

#include <llvm/ADT/StringExtras.h>
#include <nlohmann/json.hpp>

#include "oci/media_types.h"
#include "registry/client_impl.h"
#include "support/error.h"

namespace kiln::registry {

std::string registry_host(llvm::StringRef domain) {
  if (domain == "docker.io" || domain == "index.docker.io") {
    return "registry-1.docker.io";
  }
  return domain.str();
}

bool is_insecure_registry(llvm::StringRef domain, const std::vector<std::string>& insecure) {
  llvm::StringRef host = domain;
  if (host.startswith("[")) {
    host = host.substr(1).split(']').first;
  } else {
    host = host.split(':').first;
  }
  if (host == "localhost" || host == "::1" || host.startswith("127.")) {
    return true;
  }
  for (const std::string& entry : insecure) {
    if (entry == domain || entry == host) {
      return true;
    }
  }
  return false;
}

std::string repository_scope(const oci::Reference& repo, llvm::StringRef actions) {
  return ("repository:" + repo.path + ":" + actions).str();
}

llvm::Error registry_error(llvm::StringRef domain, llvm::StringRef what, const llvm::Twine& message,
                           int status) {
  std::string text = (what + ": " + message).str();
  if (status == 401 || status == 403) {
    return llvm::make_error<AuthError>(text, domain.str(), what.str(), status);
  }
  return llvm::make_error<RegistryError>(text, domain.str(), what.str(), status);
}

llvm::Error status_error(const HttpResponse& response, llvm::StringRef domain,
                         llvm::StringRef what) {
  std::string detail;
  try {
    nlohmann::json body = nlohmann::json::parse(response.body);
    const nlohmann::json& first = body.at("errors").at(0);
    detail = first.value("message", first.value("code", ""));
  } catch (const nlohmann::json::exception&) {
  }
  std::string message = "HTTP " + std::to_string(response.status);
  if (!detail.empty()) {
    message += ": " + detail;
  }
  return registry_error(domain, what, message, response.status);
}

llvm::Expected<std::string> Client::Impl::base_url(llvm::StringRef domain) {
  {
    std::lock_guard<std::mutex> guard(mutex);
    auto it = base_urls.find(domain.str());
    if (it != base_urls.end()) {
      return it->second;
    }
  }
  std::string host = registry_host(domain);
  std::string url = "https://" + host;
  if (is_insecure_registry(domain, options.insecure_registries)) {
    // Verified HTTPS first; a TLS failure means the registry speaks plain HTTP.
    HttpRequest probe;
    probe.url = url + "/v2/";
    llvm::Expected<HttpResponse> response = http->send(probe);
    if (!response) {
      return response.takeError();
    }
    ++requests;
    if (response->failure == TransportFailure::tls) {
      url = "http://" + host;
    }
  }
  std::lock_guard<std::mutex> guard(mutex);
  base_urls[domain.str()] = url;
  return url;
}

llvm::Expected<std::optional<Credentials>> Client::Impl::credentials_for(llvm::StringRef domain) {
  std::lock_guard<std::mutex> guard(mutex);
  if (auto it = options.credentials.find(domain.str()); it != options.credentials.end()) {
    return it->second;
  }
  if (auto it = credentials.find(domain.str()); it != credentials.end()) {
    return it->second;
  }
  llvm::Expected<std::optional<Credentials>> loaded =
      load_credentials(options.docker_config, domain);
  if (!loaded) {
    return loaded.takeError();
  }
  credentials[domain.str()] = *loaded;
  return *loaded;
}

void Client::Impl::backoff(int attempt, const HttpResponse& response) {
  auto delay = options.initial_backoff * (1 << std::min(attempt, 16));
  int seconds = 0;
  if (!llvm::StringRef(response.header("retry-after")).trim().getAsInteger(10, seconds)) {
    delay = std::chrono::seconds(seconds);
  }
  std::this_thread::sleep_for(std::min<std::chrono::milliseconds>(
      std::chrono::duration_cast<std::chrono::milliseconds>(delay), options.max_backoff));
}

llvm::Expected<HttpResponse> Client::Impl::send(llvm::StringRef domain, llvm::StringRef scope,
                                                const RequestMaker& make, llvm::StringRef what,
                                                Retry retry) {
  llvm::Expected<std::string> base = base_url(domain);
  if (!base) {
    return base.takeError();
  }
  std::string key = (domain + "\n" + scope).str();
  bool authenticated = false;
  for (int attempt = 0;; ++attempt) {
    llvm::Expected<HttpRequest> request = make();
    if (!request) {
      return request.takeError();
    }
    if (llvm::StringRef(request->url).startswith("/")) {
      request->url = *base + request->url;
    }
    {
      std::lock_guard<std::mutex> guard(mutex);
      if (auto it = auth_headers.find(key); it != auth_headers.end()) {
        request->headers.push_back("Authorization: " + it->second);
      }
    }
    llvm::Expected<HttpResponse> response = http->send(*request);
    ++requests;
    if (!response) {
      return response.takeError();
    }
    bool retryable = response->failure == TransportFailure::connect ||
                     (response->failure == TransportFailure::none &&
                      (response->status == 429 || response->status >= 500));
    if (retryable && retry == Retry::yes && attempt < options.max_retries) {
      ++retries;
      backoff(attempt, *response);
      continue;
    }
    if (response->failure != TransportFailure::none) {
      return registry_error(domain, what,
                            "cannot reach " + quote(domain) + ": " + response->failure_message);
    }
    if (response->status != 401 || authenticated) {
      return response;
    }
    authenticated = true;
    llvm::Expected<std::optional<std::string>> header =
        authenticate(domain, scope, *response, what);
    if (!header) {
      return header.takeError();
    }
    if (!*header) {
      return response;
    }
    std::lock_guard<std::mutex> guard(mutex);
    auth_headers[key] = **header;
    --attempt;  // answering a challenge is not a retry
  }
}

llvm::Expected<std::optional<std::string>> Client::Impl::authenticate(
    llvm::StringRef domain, llvm::StringRef scope, const HttpResponse& unauthorized,
    llvm::StringRef what) {
  std::optional<Challenge> bearer, basic;
  for (const std::string& text : unauthorized.challenges) {
    llvm::Expected<Challenge> challenge = parse_challenge(text);
    if (!challenge) {
      return registry_error(domain, what, error_message(challenge.takeError()), 401);
    }
    if (challenge->scheme == "bearer") {
      bearer = *challenge;
    } else if (challenge->scheme == "basic") {
      basic = *challenge;
    }
  }
  llvm::Expected<std::optional<Credentials>> creds = credentials_for(domain);
  if (!creds) {
    return creds.takeError();
  }
  if (!bearer) {
    if (!basic || !*creds) {
      return std::nullopt;
    }
    return "Basic " + base64_encode((*creds)->username + ":" + (*creds)->password);
  }
  std::string realm = bearer->params["realm"];
  if (realm.empty()) {
    return registry_error(domain, what, "bearer challenge without a realm", 401);
  }
  HttpRequest token_request;
  token_request.url = realm + (llvm::StringRef(realm).contains('?') ? "&" : "?");
  std::string query;
  if (!bearer->params["service"].empty()) {
    query += "service=" + bearer->params["service"];
  }
  llvm::SmallVector<llvm::StringRef, 4> scopes;
  scope.split(scopes, ' ', -1, false);
  for (llvm::StringRef item : scopes) {
    query += (query.empty() ? "scope=" : "&scope=") + item.str();
  }
  token_request.url += query;
  if (*creds && !(*creds)->username.empty()) {
    token_request.headers.push_back("Authorization: Basic " +
                                    base64_encode((*creds)->username + ":" + (*creds)->password));
  }
  llvm::Expected<HttpResponse> answer = http->send(token_request);
  ++requests;
  if (!answer) {
    return answer.takeError();
  }
  std::string token_what = (what + ": get token from " + quote(realm)).str();
  if (answer->failure != TransportFailure::none) {
    return registry_error(domain, token_what, answer->failure_message);
  }
  if (answer->status != 200) {
    return status_error(*answer, domain, token_what);
  }
  try {
    nlohmann::json body = nlohmann::json::parse(answer->body);
    std::string token = body.value("token", body.value("access_token", ""));
    if (token.empty()) {
      return registry_error(domain, token_what, "no token in the answer", 200);
    }
    return "Bearer " + token;
  } catch (const nlohmann::json::exception& e) {
    return registry_error(domain, token_what, llvm::Twine("invalid JSON: ") + e.what(), 200);
  }
}

Client::Client(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Client::~Client() = default;

llvm::Expected<std::unique_ptr<Client>> Client::create(ClientOptions options) {
  llvm::Expected<std::unique_ptr<HttpTransport>> http = HttpTransport::create(options.http);
  if (!http) {
    return http.takeError();
  }
  auto impl = std::make_unique<Impl>();
  for (const auto& [domain, mirrors] : options.mirrors) {
    for (const Mirror& mirror : mirrors) {
      if (!mirror.scheme.empty()) {
        impl->base_urls[mirror.domain] = mirror.scheme + "://" + mirror.domain;
      }
      if (mirror.insecure) {
        options.insecure_registries.push_back(mirror.domain);
      }
    }
  }
  impl->options = std::move(options);
  impl->http = std::move(*http);
  return std::unique_ptr<Client>(new Client(std::move(impl)));
}

ClientStats Client::stats() const {
  return {impl_->requests.load(), impl_->retries.load(), impl_->blob_uploads.load(),
          impl_->http->connections_opened()};
}

llvm::Error Client::check_login(llvm::StringRef domain) {
  auto make = []() -> llvm::Expected<HttpRequest> {
    HttpRequest request;
    request.url = "/v2/";
    return request;
  };
  llvm::Expected<HttpResponse> response = impl_->send(domain, "", make, "GET /v2/");
  if (!response) {
    return response.takeError();
  }
  if (response->status != 200) {
    return status_error(*response, domain, "GET /v2/");
  }
  return llvm::Error::success();
}

namespace {

constexpr llvm::StringLiteral kManifestAccept =
    "Accept: application/vnd.oci.image.manifest.v1+json, "
    "application/vnd.oci.image.index.v1+json, "
    "application/vnd.docker.distribution.manifest.v2+json, "
    "application/vnd.docker.distribution.manifest.list.v2+json";

/// The mediaType field of a JSON document, or "" when absent or not JSON.
std::string media_type_field(llvm::StringRef bytes) {
  try {
    nlohmann::json doc = nlohmann::json::parse(bytes);
    return doc.is_object() ? doc.value("mediaType", "") : "";
  } catch (const nlohmann::json::exception&) {
    return "";
  }
}

}  // namespace

llvm::Expected<FetchedManifest> Client::get_manifest_at(const oci::Reference& repo,
                                                        llvm::StringRef reference) {
  std::string what = "manifest " + quote(reference);
  auto make = [&]() -> llvm::Expected<HttpRequest> {
    HttpRequest request;
    request.url = "/v2/" + repo.path + "/manifests/" + reference.str();
    request.headers.push_back(kManifestAccept.str());
    return request;
  };
  llvm::Expected<HttpResponse> response =
      impl_->send(repo.domain, repository_scope(repo, "pull"), make, what);
  if (!response) {
    return response.takeError();
  }
  if (response->status != 200) {
    return status_error(*response, repo.domain, what);
  }
  FetchedManifest fetched;
  fetched.bytes = std::move(response->body);
  fetched.digest = Digest::of(fetched.bytes);
  std::string said = response->header("docker-content-digest");
  std::string expected = reference.startswith("sha256:") ? reference.str() : said;
  if (!expected.empty() && expected != fetched.digest.str()) {
    return registry_error(repo.domain, what,
                          "digest mismatch (got " + quote(fetched.digest.str()) + ")", 200);
  }
  fetched.media_type = media_type_field(fetched.bytes);
  if (fetched.media_type.empty()) {
    fetched.media_type = llvm::StringRef(response->header("content-type")).split(';').first.str();
  }
  return fetched;
}

llvm::Expected<std::optional<ManifestHead>> Client::head_manifest_at(const oci::Reference& repo,
                                                                     llvm::StringRef reference) {
  std::string what = "manifest " + quote(reference);
  auto make = [&]() -> llvm::Expected<HttpRequest> {
    HttpRequest request;
    request.method = "HEAD";
    request.url = "/v2/" + repo.path + "/manifests/" + reference.str();
    request.headers.push_back(kManifestAccept.str());
    return request;
  };
  llvm::Expected<HttpResponse> response =
      impl_->send(repo.domain, repository_scope(repo, "pull"), make, what);
  if (!response) {
    return response.takeError();
  }
  if (response->status == 404) {
    return std::nullopt;
  }
  if (response->status != 200) {
    return status_error(*response, repo.domain, what);
  }
  ManifestHead head;
  head.media_type = llvm::StringRef(response->header("content-type")).split(';').first.str();
  llvm::Expected<Digest> digest = Digest::parse(response->header("docker-content-digest"));
  if (!digest) {
    llvm::consumeError(digest.takeError());
    return std::nullopt;  // no usable digest: the caller fetches the manifest instead
  }
  head.digest = *digest;
  llvm::StringRef(response->header("content-length")).getAsInteger(10, head.size);
  return head;
}

llvm::Expected<Digest> Client::put_manifest(const oci::Reference& repo, llvm::StringRef reference,
                                            llvm::StringRef media_type, llvm::StringRef bytes) {
  std::string what = "manifest " + quote(reference);
  auto make = [&]() -> llvm::Expected<HttpRequest> {
    HttpRequest request;
    request.method = "PUT";
    request.url = "/v2/" + repo.path + "/manifests/" + reference.str();
    request.headers.push_back("Content-Type: " + media_type.str());
    request.body = bytes.str();
    return request;
  };
  llvm::Expected<HttpResponse> response =
      impl_->send(repo.domain, repository_scope(repo, "pull,push"), make, what);
  if (!response) {
    return response.takeError();
  }
  if (response->status != 201 && response->status != 200) {
    return status_error(*response, repo.domain, what);
  }
  Digest digest = Digest::of(bytes);
  std::string said = response->header("docker-content-digest");
  if (!said.empty() && said != digest.str()) {
    return registry_error(
        repo.domain, what,
        "registry stored digest " + quote(said) + ", expected " + quote(digest.str()),
        response->status);
  }
  return digest;
}

}  // namespace kiln::registry
