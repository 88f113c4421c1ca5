#include "registry/http.h"

#include <dirent.h>
#include <algorithm>
#include <array>
#include <atomic>
#include <cstdlib>
#include <cstring>
#include <mutex>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "registry/curl_api.h"
#include "support/error.h"
#include "support/fs.h"

namespace kiln::registry {

std::string HttpResponse::header(llvm::StringRef name) const {
  auto it = headers.find(name.lower());
  return it == headers.end() ? std::string() : it->second;
}

std::string default_certs_dir() {
  const char* env = std::getenv("KILN_CERTS_D");
  return env && *env ? std::string(env) : std::string("/etc/docker/certs.d");
}

namespace {

/// "host:port" of an URL ("https://h:5000/v2/" -> "h:5000", no port -> "h").
std::string authority_of(llvm::StringRef url) {
  size_t scheme = url.find("://");
  llvm::StringRef rest = scheme == llvm::StringRef::npos ? url : url.substr(scheme + 3);
  return rest.take_until([](char c) { return c == '/' || c == '?'; }).str();
}

/// The file names in `dir` that end in `suffix`, sorted; none when `dir` is absent.
std::vector<std::string> files_with_suffix(const std::string& dir, llvm::StringRef suffix) {
  std::vector<std::string> out;
  DIR* d = opendir(dir.c_str());
  if (!d) {
    return out;
  }
  while (dirent* e = readdir(d)) {
    if (llvm::StringRef(e->d_name).endswith(suffix)) {
      out.push_back(fs::join(dir, e->d_name));
    }
  }
  closedir(d);
  std::sort(out.begin(), out.end());
  return out;
}

/// Adds every certificate of the PEM file at `path` to `store`.
void add_pem_certificates(X509_STORE* store, const std::string& path) {
  FILE* f = std::fopen(path.c_str(), "r");
  if (!f) {
    return;
  }
  while (X509* cert = PEM_read_X509(f, nullptr, nullptr, nullptr)) {
    X509_STORE_add_cert(store, cert);
    X509_free(cert);
  }
  ERR_clear_error();
  std::fclose(f);
}

/// curl's SSL context hook: trusts the extra CAs of the request's host directory.
CURLcode add_host_cas(CURL*, void* ssl_ctx, void* host_dir) {
  auto* dir = static_cast<const std::string*>(host_dir);
  X509_STORE* store = SSL_CTX_get_cert_store(static_cast<SSL_CTX*>(ssl_ctx));
  for (const std::string& path : files_with_suffix(*dir, ".crt")) {
    add_pem_certificates(store, path);
  }
  return CURLE_OK;
}

TransportFailure classify(CURLcode code) {
  switch (code) {
    case CURLE_COULDNT_CONNECT:
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_RECV_ERROR:
    case CURLE_SEND_ERROR:
    case CURLE_PARTIAL_FILE:
    case CURLE_GOT_NOTHING:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
    case CURLE_WEIRD_SERVER_REPLY:
      return TransportFailure::connect;
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_CACERT_BADFILE:
      return TransportFailure::tls;
    default:
      return TransportFailure::other;
  }
}

/// The state of one transfer, shared with curl's callbacks.
struct Transfer {
  const HttpRequest* request;
  HttpResponse response;
  llvm::Error callback_error = llvm::Error::success();
  uint64_t sent = 0;

  static size_t on_header(char* data, size_t size, size_t count, void* self) {
    auto* t = static_cast<Transfer*>(self);
    llvm::StringRef line(data, size * count);
    line = line.rtrim("\r\n");
    if (line.startswith("HTTP/")) {
      // A new response (after a redirect or a 100): forget the previous one.
      llvm::StringRef code = line.split(' ').second.split(' ').first;
      int status = 0;
      code.getAsInteger(10, status);
      t->response.status = status;
      t->response.headers.clear();
      t->response.challenges.clear();
      t->response.body.clear();
      return size * count;
    }
    if (line.empty()) {
      int status = t->response.status;
      if (t->request->on_start && status >= 200 && status < 300) {
        if (llvm::Error err = t->request->on_start(t->response)) {
          t->callback_error = std::move(err);
          return 0;
        }
      }
      return size * count;
    }
    auto [name, value] = line.split(':');
    if (!value.empty() || line.contains(':')) {
      std::string key = name.trim().lower();
      if (key == "www-authenticate") {
        t->response.challenges.push_back(value.trim().str());
      }
      t->response.headers[key] = value.trim().str();
    }
    return size * count;
  }

  static size_t on_write(char* data, size_t size, size_t count, void* self) {
    auto* t = static_cast<Transfer*>(self);
    llvm::StringRef bytes(data, size * count);
    int status = t->response.status;
    if (t->request->on_body && status >= 200 && status < 300) {
      if (llvm::Error err = t->request->on_body(bytes)) {
        t->callback_error = std::move(err);
        return 0;
      }
    } else {
      t->response.body.append(bytes.data(), bytes.size());
    }
    t->response.body_bytes += bytes.size();
    return bytes.size();
  }

  static size_t on_read(char* buffer, size_t size, size_t count, void* self) {
    auto* t = static_cast<Transfer*>(self);
    const HttpRequest& r = *t->request;
    if (r.read_body) {
      llvm::Expected<size_t> n = r.read_body(buffer, size * count);
      if (!n) {
        t->callback_error = n.takeError();
        return CURL_READFUNC_ABORT;
      }
      return *n;
    }
    size_t n = std::min<size_t>(size * count, r.body.size() - t->sent);
    std::memcpy(buffer, r.body.data() + t->sent, n);
    t->sent += n;
    return n;
  }
};

}  // namespace

struct HttpTransport::Impl {
  HttpOptions options;
  CURLSH* share = nullptr;
  std::array<std::mutex, CURL_LOCK_DATA_LAST> locks;
  std::mutex pool_mutex;
  std::vector<CURL*> pool;
  std::atomic<long> connections{0};

  static void lock(CURL*, curl_lock_data data, curl_lock_access, void* self) {
    static_cast<Impl*>(self)->locks[data].lock();
  }
  static void unlock(CURL*, curl_lock_data data, void* self) {
    static_cast<Impl*>(self)->locks[data].unlock();
  }

  CURL* take() {
    std::lock_guard<std::mutex> guard(pool_mutex);
    if (pool.empty()) {
      return curl().easy_init();
    }
    CURL* handle = pool.back();
    pool.pop_back();
    return handle;
  }
  void give_back(CURL* handle) {
    std::lock_guard<std::mutex> guard(pool_mutex);
    pool.push_back(handle);
  }
  ~Impl() {
    for (CURL* handle : pool) {
      curl().easy_cleanup(handle);
    }
    if (share) {
      curl().share_cleanup(share);
    }
  }

  void configure(CURL* h, Transfer& t, curl_slist* headers, const std::string& host_dir);
};

void HttpTransport::Impl::configure(CURL* h, Transfer& t, curl_slist* headers,
                                    const std::string& host_dir) {
  const HttpRequest& r = *t.request;
  curl().easy_setopt(h, CURLOPT_SHARE, share);
  curl().easy_setopt(h, CURLOPT_URL, r.url.c_str());
  curl().easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  curl().easy_setopt(h, CURLOPT_HTTP_VERSION, static_cast<long>(CURL_HTTP_VERSION_2TLS));
  curl().easy_setopt(h, CURLOPT_USERAGENT, options.user_agent.c_str());
  curl().easy_setopt(h, CURLOPT_CONNECTTIMEOUT, options.connect_timeout);
  curl().easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
  curl().easy_setopt(h, CURLOPT_LOW_SPEED_TIME, options.stall_timeout);
  curl().easy_setopt(h, CURLOPT_FOLLOWLOCATION, r.follow_redirects ? 1L : 0L);
  curl().easy_setopt(h, CURLOPT_MAXREDIRS, 10L);
  curl().easy_setopt(h, CURLOPT_HTTPHEADER, headers);
  curl().easy_setopt(h, CURLOPT_HEADERFUNCTION, &Transfer::on_header);
  curl().easy_setopt(h, CURLOPT_HEADERDATA, &t);
  curl().easy_setopt(h, CURLOPT_WRITEFUNCTION, &Transfer::on_write);
  curl().easy_setopt(h, CURLOPT_WRITEDATA, &t);
  curl().easy_setopt(h, CURLOPT_SSL_CTX_FUNCTION, &add_host_cas);
  curl().easy_setopt(h, CURLOPT_SSL_CTX_DATA, &host_dir);
  std::string cert = fs::join(host_dir, "client.cert");
  std::string key = fs::join(host_dir, "client.key");
  if (fs::exists(cert) && fs::exists(key)) {
    curl().easy_setopt(h, CURLOPT_SSLCERT, cert.c_str());
    curl().easy_setopt(h, CURLOPT_SSLKEY, key.c_str());
  }
  if (r.method == "HEAD") {
    curl().easy_setopt(h, CURLOPT_NOBODY, 1L);
  } else if (r.method == "GET") {
    curl().easy_setopt(h, CURLOPT_HTTPGET, 1L);
  } else {
    curl().easy_setopt(h, CURLOPT_UPLOAD, 1L);
    curl().easy_setopt(h, CURLOPT_CUSTOMREQUEST, r.method.c_str());
    curl().easy_setopt(h, CURLOPT_READFUNCTION, &Transfer::on_read);
    curl().easy_setopt(h, CURLOPT_READDATA, &t);
    uint64_t size = r.read_body ? r.body_size : r.body.size();
    curl().easy_setopt(h, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(size));
  }
}

HttpTransport::HttpTransport(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
HttpTransport::~HttpTransport() = default;

llvm::Expected<std::unique_ptr<HttpTransport>> HttpTransport::create(HttpOptions options) {
  if (auto api = load_curl(); !api) {
    return api.takeError();
  }
  auto impl = std::make_unique<Impl>();
  impl->options = std::move(options);
  impl->share = curl().share_init();
  if (!impl->share) {
    return make_error("initialize libcurl: cannot create a share handle");
  }
  curl().share_setopt(impl->share, CURLSHOPT_LOCKFUNC, &Impl::lock);
  curl().share_setopt(impl->share, CURLSHOPT_UNLOCKFUNC, &Impl::unlock);
  curl().share_setopt(impl->share, CURLSHOPT_USERDATA, impl.get());
  curl().share_setopt(impl->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
  curl().share_setopt(impl->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
  curl().share_setopt(impl->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_CONNECT);
  return std::unique_ptr<HttpTransport>(new HttpTransport(std::move(impl)));
}

llvm::Expected<HttpResponse> HttpTransport::send(const HttpRequest& request) {
  // A CR or LF in a header line would add header lines of its own (injection).
  for (const std::string& line : request.headers) {
    if (line.find_first_of(std::string("\r\n\0", 3)) != std::string::npos) {
      return make_error("invalid header line for " + quote(request.url) +
                        ": it holds a line break or NUL");
    }
  }
  Transfer transfer{&request, {}};
  curl_slist* headers = nullptr;
  for (const std::string& line : request.headers) {
    headers = curl().slist_append(headers, line.c_str());
  }
  // No "Expect: 100-continue" round trip before bodies.
  headers = curl().slist_append(headers, "Expect:");
  std::string host_dir = fs::join(impl_->options.certs_dir, authority_of(request.url));

  CURL* handle = impl_->take();
  curl().easy_reset(handle);
  impl_->configure(handle, transfer, headers, host_dir);
  CURLcode code = curl().easy_perform(handle);
  long connects = 0;
  curl().easy_getinfo(handle, CURLINFO_NUM_CONNECTS, &connects);
  impl_->connections += connects;
  char* effective = nullptr;
  curl().easy_getinfo(handle, CURLINFO_EFFECTIVE_URL, &effective);
  if (effective) {
    transfer.response.effective_url = effective;
  }
  curl().easy_setopt(handle, CURLOPT_SHARE, nullptr);
  impl_->give_back(handle);
  curl().slist_free_all(headers);

  if (transfer.callback_error) {
    return std::move(transfer.callback_error);
  }
  if (code != CURLE_OK) {
    transfer.response.failure = classify(code);
    transfer.response.failure_message = curl().easy_strerror(code);
  }
  return std::move(transfer.response);
}

long HttpTransport::connections_opened() const { return impl_->connections.load(); }

}  // namespace kiln::registry
