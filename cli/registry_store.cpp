#include "cli/registry_store.h"

namespace kiln::cli {

void add_registry_flags(CLI::App& sub, RegistryFlags& flags) {
  sub.add_option("--insecure-registry", flags.insecure_registries,
                 "Registry (host:port) that may be reached over plain HTTP");
  sub.add_option("--registry-mirror", flags.registry_mirrors,
                 "Mirror to pull docker.io images through (URL or host:port)");
}

void LayerProgressPrinter::operator()(const registry::BlobProgress& event) {
  if (std::optional<std::string> line = exporter::layer_progress_line(event, direction_)) {
    std::lock_guard<std::mutex> guard(mutex_);
    os_ << *line << "\n" << std::flush;
  }
}

}  // namespace kiln::cli
