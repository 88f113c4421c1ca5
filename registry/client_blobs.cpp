// Blob transfers of the registry client: verified, resumable downloads and
// uploads (cross-repository mount, monolithic or chunked).

#include "registry/client.h"
#include "registry/client_impl.h"
#include "support/error.h"

namespace kiln::registry {

namespace {

/// The state of one download across attempts: the bytes received so far are kept
/// and the next attempt asks for the rest with Range.
struct Download {
  const oci::Descriptor& blob;
  BlobStore& store;
  const ProgressFn& progress;
  std::unique_ptr<BlobWriter> writer;
  Sha256 hash;
  uint64_t received = 0;

  llvm::Error restart() {
    llvm::Expected<std::unique_ptr<BlobWriter>> fresh = store.begin_write();
    if (!fresh) {
      return fresh.takeError();
    }
    writer = std::move(*fresh);
    hash = Sha256();
    received = 0;
    return llvm::Error::success();
  }

  llvm::Error on_start(const HttpResponse& head) {
    if (head.status == 206) {
      llvm::StringRef range = head.headers.count("content-range")
                                  ? llvm::StringRef(head.headers.at("content-range"))
                                  : llvm::StringRef();
      if (range.startswith("bytes " + std::to_string(received) + "-")) {
        return llvm::Error::success();
      }
    } else if (received == 0) {
      return llvm::Error::success();
    }
    // The registry ignored (or garbled) the Range: start over.
    return restart();
  }

  llvm::Error on_body(llvm::StringRef bytes) {
    if (received + bytes.size() > uint64_t(blob.size)) {
      return make_error("size mismatch (got more than " + llvm::Twine(blob.size) + " bytes)");
    }
    if (llvm::Error err = writer->write(bytes)) {
      return err;
    }
    hash.update(bytes);
    received += bytes.size();
    if (progress) {
      progress({BlobProgress::Phase::transferring, blob.digest, received, uint64_t(blob.size)});
    }
    return llvm::Error::success();
  }
};

std::string with_query(llvm::StringRef location, llvm::StringRef query) {
  return (location + (location.contains('?') ? "&" : "?") + query).str();
}

}  // namespace

llvm::Error Client::fetch_blob_at(const oci::Reference& repo, const oci::Descriptor& blob,
                                  BlobStore& store, const ProgressFn& progress) {
  std::string what = "blob " + quote(blob.digest.str());
  Download download{blob, store, progress, nullptr, Sha256(), 0};
  if (llvm::Error err = download.restart()) {
    return with_context(std::move(err), what);
  }
  if (progress) {
    progress({BlobProgress::Phase::started, blob.digest, 0, uint64_t(blob.size)});
  }
  auto make = [&]() -> llvm::Expected<HttpRequest> {
    HttpRequest request;
    request.url = "/v2/" + repo.path + "/blobs/" + blob.digest.str();
    if (download.received > 0) {
      request.headers.push_back("Range: bytes=" + std::to_string(download.received) + "-");
    }
    request.on_start = [&](const HttpResponse& head) { return download.on_start(head); };
    request.on_body = [&](llvm::StringRef bytes) { return download.on_body(bytes); };
    return request;
  };
  llvm::Expected<HttpResponse> response =
      impl_->send(repo.domain, repository_scope(repo, "pull"), make, what);
  if (!response) {
    llvm::Error err = response.takeError();
    if (err.isA<RegistryError>()) {
      return err;
    }
    return registry_error(repo.domain, what, error_message(std::move(err)), 200);
  }
  if (response->status != 200 && response->status != 206) {
    return status_error(*response, repo.domain, what);
  }
  if (download.received != uint64_t(blob.size)) {
    return registry_error(repo.domain, what,
                          "size mismatch (got " + llvm::Twine(download.received) +
                              " bytes, expected " + llvm::Twine(blob.size) + ")",
                          response->status);
  }
  Digest got = download.hash.finish();
  if (got != blob.digest) {
    return registry_error(repo.domain, what, "digest mismatch (got " + quote(got.str()) + ")",
                          response->status);
  }
  if (llvm::Error err = download.writer->commit(blob.digest, blob.size)) {
    return with_context(std::move(err), what);
  }
  if (progress) {
    progress({BlobProgress::Phase::complete, blob.digest, download.received, uint64_t(blob.size)});
  }
  return llvm::Error::success();
}

llvm::Expected<bool> Client::has_blob(const oci::Reference& repo, const Digest& digest) {
  std::string what = "blob " + quote(digest.str());
  auto make = [&]() -> llvm::Expected<HttpRequest> {
    HttpRequest request;
    request.method = "HEAD";
    request.url = "/v2/" + repo.path + "/blobs/" + digest.str();
    return request;
  };
  llvm::Expected<HttpResponse> response =
      impl_->send(repo.domain, repository_scope(repo, "pull,push"), make, what);
  if (!response) {
    return response.takeError();
  }
  if (response->status == 200) {
    return true;
  }
  if (response->status == 404) {
    return false;
  }
  return status_error(*response, repo.domain, what);
}

namespace {

/// One upload session: POST (maybe mounting), then the bytes, then the final PUT.
struct Upload {
  Client::Impl& impl;
  const oci::Reference& repo;
  const oci::Descriptor& blob;
  const BlobStore& store;
  std::string scope;
  std::string what;
  std::string location;

  /// Starts the session; true when the registry mounted the blob instead.
  llvm::Expected<bool> start(llvm::StringRef mount_from) {
    auto make = [&]() -> llvm::Expected<HttpRequest> {
      HttpRequest request;
      request.method = "POST";
      request.url = "/v2/" + repo.path + "/blobs/uploads/";
      if (!mount_from.empty()) {
        request.url += "?mount=" + blob.digest.str() + "&from=" + mount_from.str();
      }
      return request;
    };
    llvm::Expected<HttpResponse> response = impl.send(repo.domain, scope, make, what);
    if (!response) {
      return response.takeError();
    }
    if (response->status == 201 && !mount_from.empty()) {
      return true;
    }
    if (response->status != 202 || response->header("location").empty()) {
      return status_error(*response, repo.domain, what);
    }
    location = response->header("location");
    return false;
  }

  /// Sends bytes [offset, offset+length) of the blob with `method` to `url`.
  llvm::Expected<HttpResponse> send_bytes(llvm::StringRef method, const std::string& url,
                                          uint64_t offset, uint64_t length, bool range) {
    std::shared_ptr<BlobReader> reader;
    auto make = [&]() -> llvm::Expected<HttpRequest> {
      llvm::Expected<std::unique_ptr<BlobReader>> opened = store.open(blob.digest);
      if (!opened) {
        return opened.takeError();
      }
      reader = std::move(*opened);
      for (uint64_t skipped = 0; skipped < offset;) {
        char buffer[65536];
        llvm::Expected<size_t> n =
            reader->read(buffer, std::min<uint64_t>(sizeof(buffer), offset - skipped));
        if (!n || *n == 0) {
          return n ? make_error("blob shorter than its descriptor") : n.takeError();
        }
        skipped += *n;
      }
      HttpRequest request;
      request.method = method.str();
      request.url = url;
      request.headers.push_back("Content-Type: application/octet-stream");
      if (range) {
        request.headers.push_back("Content-Range: " + std::to_string(offset) + "-" +
                                  std::to_string(offset + length - 1));
      }
      request.body_size = length;
      auto left = std::make_shared<uint64_t>(length);
      request.read_body = [reader, left](char* buffer, size_t size) -> llvm::Expected<size_t> {
        llvm::Expected<size_t> n = reader->read(buffer, std::min<uint64_t>(size, *left));
        if (n) {
          *left -= *n;
        }
        return n;
      };
      return request;
    };
    return impl.send(repo.domain, scope, make, what, Retry::no);
  }

  /// Uploads the bytes and finishes the session.
  llvm::Error finish(uint64_t chunk_size) {
    uint64_t size = blob.size;
    uint64_t offset = 0;
    ++impl.blob_uploads;
    if (chunk_size > 0 && size > chunk_size) {
      for (; offset < size; offset += chunk_size) {
        uint64_t length = std::min(chunk_size, size - offset);
        llvm::Expected<HttpResponse> response = send_bytes("PATCH", location, offset, length, true);
        if (!response) {
          return response.takeError();
        }
        if (response->status != 202 || response->header("location").empty()) {
          return status_error(*response, repo.domain, what);
        }
        location = response->header("location");
      }
      offset = size;
    }
    std::string url = with_query(location, "digest=" + blob.digest.str());
    llvm::Expected<HttpResponse> response = send_bytes("PUT", url, offset, size - offset, false);
    if (!response) {
      return response.takeError();
    }
    if (response->status != 201) {
      return status_error(*response, repo.domain, what);
    }
    std::string said = response->header("docker-content-digest");
    if (!said.empty() && said != blob.digest.str()) {
      return registry_error(repo.domain, what, "registry stored digest " + quote(said),
                            response->status);
    }
    return llvm::Error::success();
  }
};

}  // namespace

llvm::Expected<bool> Client::push_blob(const oci::Reference& repo, const oci::Descriptor& blob,
                                       const BlobStore& store, llvm::StringRef mount_from,
                                       const ProgressFn& progress) {
  std::string what = "blob " + quote(blob.digest.str());
  std::string scope = repository_scope(repo, "pull,push");
  if (!mount_from.empty()) {
    scope += " repository:" + mount_from.str() + ":pull";
  }
  if (progress) {
    progress({BlobProgress::Phase::started, blob.digest, 0, uint64_t(blob.size)});
  }
  // A failed PUT/PATCH invalidates the session: retry the whole upload.
  for (int attempt = 0;; ++attempt) {
    Upload upload{*impl_, repo, blob, store, scope, what, ""};
    llvm::Expected<bool> mounted = upload.start(mount_from);
    if (!mounted) {
      return mounted.takeError();
    }
    if (*mounted) {
      if (progress) {
        progress(
            {BlobProgress::Phase::mounted, blob.digest, uint64_t(blob.size), uint64_t(blob.size)});
      }
      return true;
    }
    llvm::Error err = upload.finish(impl_->options.chunk_size);
    if (!err) {
      break;
    }
    int status = -1;
    err = llvm::handleErrors(std::move(err), [&](std::unique_ptr<RegistryError> e) -> llvm::Error {
      status = e->http_status();
      return llvm::Error(std::move(e));
    });
    bool again = status == 0 || status == 429 || status >= 500;
    if (!again || attempt >= impl_->options.max_retries) {
      return err;
    }
    llvm::consumeError(std::move(err));
    ++impl_->retries;
    impl_->backoff(attempt, HttpResponse());
  }
  if (progress) {
    progress(
        {BlobProgress::Phase::complete, blob.digest, uint64_t(blob.size), uint64_t(blob.size)});
  }
  return false;
}

}  // namespace kiln::registry
