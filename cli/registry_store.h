// The registry flags of pull, push, login and build, and docker-style per-layer
// progress lines. The content store as a registry::BlobStore and the client
// live in exporter/registry_store.h.
#pragma once

#include <mutex>
#include <ostream>
#include <string>

#include <CLI/CLI.hpp>

#include "exporter/registry_store.h"
#include "exporter/store_transfer.h"
#include "registry/client.h"

namespace kiln::cli {

using exporter::ContentBlobStore;
using exporter::make_registry_client;
using exporter::RegistryFlags;

/// Adds --insecure-registry and --registry-mirror (repeatable) to `sub`.
void add_registry_flags(CLI::App& sub, RegistryFlags& flags);

/// Prints docker's progress lines ("<id>: Pull complete", exporter::
/// layer_progress_line()) for layer events, one line per event, from any thread.
class LayerProgressPrinter {
 public:
  LayerProgressPrinter(std::ostream& os, exporter::LayerDirection direction)
      : os_(os), direction_(direction) {}
  void operator()(const registry::BlobProgress& event);

 private:
  std::ostream& os_;
  exporter::LayerDirection direction_;
  std::mutex mutex_;
};

}  // namespace kiln::cli
