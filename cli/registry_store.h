// Wiring between registry/ and the local store for pull and push: the content
// store seen as a registry::BlobStore, client options from flags and environment,
// and docker-style per-layer progress lines.
#pragma once

#include <memory>
#include <mutex>
#include <ostream>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "cache/content_store.h"
#include "registry/blob_store.h"
#include "registry/client.h"

namespace kiln::cli {

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

/// Adds --insecure-registry and --registry-mirror (repeatable) to `sub`.
void add_registry_flags(CLI::App& sub, RegistryFlags& flags);

/// A client for the flags and the mirrors and insecure registries configured in
/// registry::default_config_dir() (registry/mirrors.h); KILN_INSECURE_REGISTRIES
/// (comma-separated) adds entries and KILN_REGISTRY_CHUNK_SIZE sets chunked uploads.
llvm::Expected<std::unique_ptr<registry::Client>> make_registry_client(
    const RegistryFlags& flags, registry::ClientOptions options = {});

/// Prints docker's progress lines ("<id>: Pull complete") for layer events, one
/// line per event, from any thread.
class LayerProgressPrinter {
 public:
  enum class Direction { pull, push };
  LayerProgressPrinter(std::ostream& os, Direction direction, std::string mount_from = {})
      : os_(os), direction_(direction), mount_from_(std::move(mount_from)) {}
  void operator()(const registry::BlobProgress& event);

 private:
  std::ostream& os_;
  Direction direction_;
  std::string mount_from_;
  std::mutex mutex_;
};

}  // namespace kiln::cli
