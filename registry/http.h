// The HTTP transport of the registry client: one request, one response, over
// libcurl (the only user of libcurl in kiln). Connections, DNS answers and TLS
// sessions are shared between all requests of one HttpTransport, so consecutive
// requests to a registry reuse a kept-alive HTTP/1.1 connection or one HTTP/2
// connection.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <llvm/ADT/StringRef.h>
#include <llvm/Support/Error.h>

namespace kiln::registry {

/// One HTTP request. `url` is absolute.
struct HttpRequest {
  std::string method = "GET";
  std::string url;
  /// Extra header lines, "Name: value".
  std::vector<std::string> headers;
  /// The request body for small bodies (manifests); ignored when `read_body` is set.
  std::string body;
  /// Streams a large body: fills `buffer` with up to `size` bytes and returns how
  /// many (0 at the end), or an error that aborts the request.
  std::function<llvm::Expected<size_t>(char* buffer, size_t size)> read_body;
  /// The byte count `read_body` produces (sent as Content-Length).
  uint64_t body_size = 0;
  /// Receives the response body as it arrives when set (the response's `body` then
  /// stays empty); an error aborts the transfer and is returned by send(). Called
  /// only for responses with a 2xx status.
  std::function<llvm::Error(llvm::StringRef bytes)> on_body;
  /// Called once the headers of a 2xx response are in, before its body reaches
  /// `on_body` (a download resumed with Range learns here whether it got 206). An
  /// error aborts the transfer and is returned by send().
  std::function<llvm::Error(const struct HttpResponse& head)> on_start;
  /// Follows redirects (blob downloads go to blob storage this way). Authorization
  /// headers are not sent to another host.
  bool follow_redirects = true;
};

/// How a request failed before a response arrived.
enum class TransportFailure {
  none,     // a response arrived
  connect,  // could not connect, connection dropped, timed out, truncated: retryable
  tls,      // TLS handshake or certificate verification failed
  other,
};

/// A response. Header names are lowercased; a repeated header keeps its last value,
/// except `www-authenticate` whose values are all kept in `challenges`.
struct HttpResponse {
  /// The HTTP status; 0 when no status line came. When `failure` is set the
  /// transfer is incomplete whatever the status.
  int status = 0;
  TransportFailure failure = TransportFailure::none;
  /// What went wrong when `failure` is not `none` (curl's message).
  std::string failure_message;
  /// Body bytes delivered (to `on_body` or `body`), useful to resume after a failure.
  uint64_t body_bytes = 0;
  std::map<std::string, std::string> headers;
  std::vector<std::string> challenges;
  std::string body;
  /// The URL that answered (after redirects).
  std::string effective_url;

  /// The value of header `name` (lowercase), or "" when absent.
  std::string header(llvm::StringRef name) const;
};

/// Options of a transport.
struct HttpOptions {
  /// Directory holding `<host:port>/ca.crt` (extra trusted CAs, added to the system
  /// trust store) and `client.cert` / `client.key` (client certificates), like
  /// docker's /etc/docker/certs.d.
  std::string certs_dir = "/etc/docker/certs.d";
  std::string user_agent = "kiln/0.1";
  /// Seconds to wait for a connection.
  long connect_timeout = 30;
  /// Abort a transfer slower than 1 byte/s for this many seconds.
  long stall_timeout = 60;
};

/// The HTTP transport. Thread-safe: any number of threads may call send() at once.
class HttpTransport {
 public:
  static llvm::Expected<std::unique_ptr<HttpTransport>> create(HttpOptions options = {});
  ~HttpTransport();
  HttpTransport(const HttpTransport&) = delete;
  HttpTransport& operator=(const HttpTransport&) = delete;

  /// Sends `request` and returns the response, whatever its status; a transfer that
  /// failed midway is a response with `failure` set. Fails only with the error of a
  /// body callback, or when a header line holds a CR, LF or NUL (header injection).
  llvm::Expected<HttpResponse> send(const HttpRequest& request);

  /// Connections opened so far (a measure of connection reuse).
  long connections_opened() const;

 private:
  struct Impl;
  explicit HttpTransport(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

/// The default certificate directory: $KILN_CERTS_D, else /etc/docker/certs.d.
std::string default_certs_dir();

}  // namespace kiln::registry
