// ADD from a URL: the http source. As in BuildKit, the file is downloaded when its
// cache key is asked for (the key is its content, its name, its mode and the
// server's Last-Modified), unless ADD --checksum names the content up front; the
// step then lays the file, mode 0600 unless --chmod, with the Last-Modified time
// (else the epoch), as a one-file snapshot on scratch.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <ctime>

#include "registry/http.h"
#include "solver/ops/op_impl.h"
#include "support/error.h"
#include "support/fs.h"
#include "support/trace.h"

namespace kiln::solver::ops::detail {
namespace {

// An HTTP date (RFC 7231's IMF-fixdate, also RFC 850 and asctime forms) as Unix
// seconds, or nullopt.
std::optional<int64_t> parse_http_date(const std::string& text) {
  for (const char* format :
       {"%a, %d %b %Y %H:%M:%S GMT", "%A, %d-%b-%y %H:%M:%S GMT", "%a %b %e %H:%M:%S %Y"}) {
    struct tm tm {};
    const char* end = ::strptime(text.c_str(), format, &tm);
    if (end && *end == '\0') {
      return static_cast<int64_t>(::timegm(&tm));
    }
  }
  return std::nullopt;
}

// The URL without user:password@ (BuildKit's RedactCredentials), for messages.
std::string redact(llvm::StringRef url) {
  auto [scheme, rest] = url.split("://");
  size_t slash = rest.find('/');
  llvm::StringRef authority = rest.substr(0, slash);
  size_t at = authority.rfind('@');
  if (rest.empty() || at == llvm::StringRef::npos) {
    return url.str();
  }
  return scheme.str() + "://xxxxx:xxxxx@" + rest.substr(at + 1).str();
}

}  // namespace

llvm::Expected<std::shared_ptr<HttpDownload>> download_http(const SolveContext& ctx,
                                                            const llb::HttpSource& op,
                                                            const CancelToken* cancel) {
  trace("http: GET " + redact(op.url));
  auto dir = ScratchDir::create(ctx.root + "/tmp", "http-");
  if (!dir) {
    return dir.takeError();
  }
  auto out = std::make_shared<HttpDownload>();
  out->dir = std::move(*dir);
  out->file = out->dir.path() + "/content";
  int raw = ::open(out->file.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (raw < 0) {
    return make_io_error("create", out->file, errno);
  }
  std::unique_ptr<int, void (*)(int*)> fd(new int(raw), [](int* p) {
    ::close(*p);
    delete p;
  });
  registry::HttpOptions options;
  options.certs_dir = registry::default_certs_dir();
  auto transport = registry::HttpTransport::create(options);
  if (!transport) {
    return transport.takeError();
  }
  Sha256 hash;
  registry::HttpRequest request;
  request.url = op.url;
  if (!op.user_agent.empty()) {
    request.headers.push_back("User-Agent: " + op.user_agent);  // replaces kiln's own
  }
  request.on_body = [&](llvm::StringRef bytes) -> llvm::Error {
    if (cancel && cancel->cancelled()) {
      return make_error("download of " + quote(redact(op.url)) + " cancelled");
    }
    hash.update(bytes);
    if (!fs::write_all(*fd, bytes)) {
      return make_io_error("write", out->file, errno);
    }
    return llvm::Error::success();
  };
  auto response = (*transport)->send(request);
  if (!response) {
    return response.takeError();
  }
  if (response->failure != registry::TransportFailure::none) {
    return make_error("download " + quote(redact(op.url)) + ": " + response->failure_message);
  }
  if (response->status < 200 || response->status >= 400) {
    return make_error("invalid response status " + std::to_string(response->status));
  }
  if (::fsync(*fd) != 0) {
    return make_io_error("sync", out->file, errno);
  }
  out->digest = hash.finish();
  out->mtime = parse_http_date(response->header("last-modified"));
  if (op.checksum && *op.checksum != out->digest) {
    return make_error("digest mismatch for " + redact(op.url) + ": " + out->digest.str() +
                      " (expected: " + op.checksum->str() + ")");
  }
  return out;
}

Digest http_cache_key(const llb::HttpSource& op, const Digest& content,
                      std::optional<int64_t> mtime) {
  Sha256 h;
  h.field("kiln.http-source.v1", content.str());
  h.field("filename", op.filename);
  h.field("mode", static_cast<uint64_t>(op.chmod.value_or(0600)));
  if (mtime) {
    h.field("last-modified", static_cast<uint64_t>(*mtime));
  }
  return h.finish();
}

llvm::Expected<core::ResultPtr> exec_http(const SolveContext& ctx, const llb::HttpSource& op,
                                          const HttpDownload& download) {
  auto snapshot = ctx.snapshots.create_mutable(std::nullopt);
  if (!snapshot) {
    return snapshot.takeError();
  }
  auto diff = snapshot->diff_dir();
  if (!diff) {
    return diff.takeError();
  }
  std::string name = op.filename.empty() ? "__unnamed__" : op.filename;
  if (name.find('/') != std::string::npos || name == "." || name == "..") {
    return make_error("invalid file name " + quote(name) + " for " + quote(redact(op.url)));
  }
  std::string target = *diff + "/" + name;
  // The download waits under ROOT/tmp, on the snapshots' file system.
  if (::rename(download.file.c_str(), target.c_str()) != 0) {
    return make_io_error("move the download of " + quote(redact(op.url)) + " to", target, errno);
  }
  if (::chmod(target.c_str(), op.chmod.value_or(0600)) != 0) {
    return make_io_error("change mode of", target, errno);
  }
  struct timespec times[2] = {};
  times[0].tv_sec = times[1].tv_sec = download.mtime.value_or(0);
  if (::utimensat(AT_FDCWD, target.c_str(), times, AT_SYMLINK_NOFOLLOW) != 0) {
    return make_io_error("set the time of", target, errno);
  }
  return commit_layer(ctx, *snapshot);
}

}  // namespace kiln::solver::ops::detail
