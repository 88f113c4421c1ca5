#include "exporter/registry_store.h"

#include <unistd.h>

#include <cstdlib>

#include "registry/mirrors.h"
#include "support/error.h"

namespace kiln::exporter {

namespace {

class IngestWriter : public registry::BlobWriter {
 public:
  explicit IngestWriter(cache::BlobIngest ingest) : ingest_(std::move(ingest)) {}
  llvm::Error write(llvm::StringRef bytes) override { return ingest_.write(bytes); }
  llvm::Error commit(const Digest& expected, uint64_t size) override {
    llvm::Expected<Digest> digest = ingest_.commit(expected, size);
    return digest ? llvm::Error::success() : digest.takeError();
  }

 private:
  cache::BlobIngest ingest_;
};

class FdReader : public registry::BlobReader {
 public:
  explicit FdReader(int fd) : fd_(fd) {}
  ~FdReader() override { ::close(fd_); }
  llvm::Expected<size_t> read(char* buffer, size_t size) override {
    for (;;) {
      ssize_t n = ::read(fd_, buffer, size);
      if (n >= 0) {
        return size_t(n);
      }
      if (errno != EINTR) {
        return make_io_error("read blob", "", errno);
      }
    }
  }

 private:
  int fd_;
};

}  // namespace

bool ContentBlobStore::has(const Digest& digest) const { return content_.exists(digest); }

llvm::Expected<std::unique_ptr<registry::BlobWriter>> ContentBlobStore::begin_write() {
  llvm::Expected<cache::BlobIngest> ingest = content_.begin_ingest();
  if (!ingest) {
    return ingest.takeError();
  }
  return std::make_unique<IngestWriter>(std::move(*ingest));
}

llvm::Expected<std::string> ContentBlobStore::read(const Digest& digest) const {
  return content_.read(digest);
}

llvm::Expected<std::unique_ptr<registry::BlobReader>> ContentBlobStore::open(
    const Digest& digest) const {
  llvm::Expected<int> fd = content_.open_blob(digest);
  if (!fd) {
    return fd.takeError();
  }
  return std::make_unique<FdReader>(*fd);
}

llvm::Expected<std::unique_ptr<registry::Client>> make_registry_client(
    const RegistryFlags& flags, registry::ClientOptions options) {
  options.insecure_registries = flags.insecure_registries;
  auto config =
      registry::load_registry_config(registry::default_config_dir(), flags.registry_mirrors);
  if (!config) {
    return config.takeError();
  }
  options.mirrors = std::move(config->mirrors);
  options.insecure_registries.insert(options.insecure_registries.end(),
                                     config->insecure_registries.begin(),
                                     config->insecure_registries.end());
  if (const char* env = std::getenv("KILN_INSECURE_REGISTRIES")) {
    llvm::SmallVector<llvm::StringRef, 4> entries;
    llvm::StringRef(env).split(entries, ',', -1, false);
    for (llvm::StringRef entry : entries) {
      options.insecure_registries.push_back(entry.trim().str());
    }
  }
  if (const char* env = std::getenv("KILN_REGISTRY_CHUNK_SIZE")) {
    llvm::StringRef(env).getAsInteger(10, options.chunk_size);
  }
  options.http.certs_dir = registry::default_certs_dir();
  return registry::Client::create(std::move(options));
}

llvm::Error log_in(const RegistryFlags& flags, const std::string& domain,
                   const registry::Credentials& credentials) {
  registry::ClientOptions options;
  options.credentials[domain] = credentials;
  llvm::Expected<std::unique_ptr<registry::Client>> client = make_registry_client(flags, options);
  if (!client) {
    return client.takeError();
  }
  llvm::Error err = (*client)->check_login(domain);
  if (!err) {
    err = registry::save_credentials(registry::default_docker_config_path(), domain, credentials);
  }
  return err ? with_context(std::move(err), "login " + quote(domain)) : llvm::Error::success();
}

}  // namespace kiln::exporter
