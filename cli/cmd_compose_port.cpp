// `kiln compose port SERVICE PRIVATE_PORT`: the host address a replica's port is
// published on (an ephemeral one too), as docker compose prints it.
#include <iostream>

#include "cli/cmd_compose.h"
#include "support/error.h"

namespace kiln::cli {
namespace {

struct PortFlags {
  std::string service;
  std::string private_port;
  std::string protocol = "tcp";
  int index = 1;
};

CommandBody setup_port(CLI::App& sub, const GlobalOptions& globals,
                       const std::shared_ptr<ComposeFlags>& flags) {
  auto f = std::make_shared<PortFlags>();
  sub.add_option("SERVICE", f->service, "Service name")->required();
  sub.add_option("PRIVATE_PORT", f->private_port, "Private port")->required();
  sub.add_option("--protocol", f->protocol, "tcp or udp")->check(CLI::IsMember({"tcp", "udp"}));
  sub.add_option("--index", f->index, "Index of the container if service has multiple replicas");
  return [f, flags, &globals]() -> llvm::Expected<int> {
    unsigned number = 0;
    if (llvm::StringRef(f->private_port).getAsInteger(10, number) || number == 0 ||
        number > 65535) {
      return llvm::make_error<UsageError>("invalid port " + quote(f->private_port));
    }
    auto session = open_compose(globals, *flags);
    if (!session) {
      return session.takeError();
    }
    auto& [project, engine] = *session;
    auto container = compose::service_container(*engine, project, f->service, f->index);
    if (!container) {
      return container.takeError();
    }
    // ContainerInfo::ports reads "127.0.0.1:49153->8000/tcp".
    std::string wanted = "->" + std::to_string(number) + "/" + f->protocol;
    for (llvm::StringRef p : container->ports) {
      if (p.endswith(wanted)) {
        std::cout << p.drop_back(wanted.size()).str() << "\n";
        return 0;
      }
    }
    return make_error("no port " + std::to_string(number) + "/" + f->protocol + " for container " +
                      container->name);
  };
}

ComposeCommandRegistration port_reg{
    {"port", "Print the public port for a port binding", setup_port}};

}  // namespace
}  // namespace kiln::cli
