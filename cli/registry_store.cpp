#include "cli/registry_store.h"

namespace kiln::cli {

void add_registry_flags(CLI::App& sub, RegistryFlags& flags) {
  sub.add_option("--insecure-registry", flags.insecure_registries,
                 "Registry (host:port) that may be reached over plain HTTP");
  sub.add_option("--registry-mirror", flags.registry_mirrors,
                 "Mirror to pull docker.io images through (URL or host:port)");
}

void LayerProgressPrinter::operator()(const registry::BlobProgress& event) {
  using Phase = registry::BlobProgress::Phase;
  const char* text = nullptr;
  std::string extra;
  bool pull = direction_ == Direction::pull;
  switch (event.phase) {
    case Phase::started:
      text = pull ? "Pulling fs layer" : "Preparing";
      break;
    case Phase::exists:
      text = pull ? "Already exists" : "Layer already exists";
      break;
    case Phase::mounted:
      text = "Mounted from ";
      extra = mount_from_;
      break;
    case Phase::complete:
      text = pull ? "Pull complete" : "Pushed";
      break;
    case Phase::transferring:
    case Phase::retrying:
      return;
  }
  std::lock_guard<std::mutex> guard(mutex_);
  os_ << event.digest.short_hex() << ": " << text << extra << "\n" << std::flush;
}

}  // namespace kiln::cli
