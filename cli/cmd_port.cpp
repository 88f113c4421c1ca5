// `kiln port CONTAINER [PRIVATE_PORT[/PROTO]]`: the container's published ports.
#include <iostream>

#include "cli/command.h"
#include "containers/container_view.h"
#include "support/error.h"

namespace kiln::cli {
namespace {

struct PortFlags {
  std::string container;
  std::string port;
};

llvm::Expected<int> run_port(const GlobalOptions& globals, const PortFlags& flags) {
  auto store = containers::ContainerStore::open(globals.root);
  if (!store) {
    return store.takeError();
  }
  auto id = store->resolve(flags.container);
  if (!id) {
    return id.takeError();
  }
  auto view = containers::load_view(*store, *id);
  if (!view) {
    return view.takeError();
  }
  llvm::StringRef wanted = flags.port;
  bool found = false;
  for (const auto& p : containers::live_ports(view->spec, view->state)) {
    std::string private_port = std::to_string(p.container_port) + "/" + p.protocol;
    std::string host = p.host_ip + ":" + std::to_string(p.host_port);
    if (wanted.empty()) {
      std::cout << private_port << " -> " << host << "\n";
      found = true;
    } else if (wanted == private_port || wanted == std::to_string(p.container_port)) {
      std::cout << host << "\n";
      found = true;
    }
  }
  if (!wanted.empty() && !found) {
    return make_error("no public port '" + wanted.str() + "' published for " + view->spec.name);
  }
  return 0;
}

CommandBody setup_port(CLI::App& sub, const GlobalOptions& globals) {
  auto flags = std::make_shared<PortFlags>();
  sub.add_option("CONTAINER", flags->container, "Container name or ID")->required();
  sub.add_option("PRIVATE_PORT", flags->port, "PRIVATE_PORT[/PROTO]");
  return [flags, &globals]() { return run_port(globals, *flags); };
}

CommandRegistration reg{
    {"port", "List port mappings or a specific mapping for the container", setup_port, 29}};

}  // namespace
}  // namespace kiln::cli
