// `kiln compose port SERVICE PRIVATE_PORT`: the host address a replica's port is
// published on (an ephemeral one too), as docker compose prints it.
#include <iostream>

#include "cli/cmd_compose.h"
#include "compose/view.h"
#include "support/error.h"

namespace kiln::cli {
namespace {

struct PortFlags {
  std::string service;
  std::string private_port;
  std::string protocol = "tcp";
  int index = 1;
};

CommandBody setup_port(CLI::App& sub, const ComposeContext& ctx) {
  auto f = std::make_shared<PortFlags>();
  sub.add_option("SERVICE", f->service, "Service name")->required();
  sub.add_option("PRIVATE_PORT", f->private_port, "Private port")->required();
  sub.add_option("--protocol", f->protocol, "tcp or udp")->check(CLI::IsMember({"tcp", "udp"}));
  sub.add_option("--index", f->index, "Index of the container if service has multiple replicas");
  return [f, ctx]() -> llvm::Expected<int> {
    int port = 0;
    if (llvm::StringRef(f->private_port).getAsInteger(10, port) || port <= 0 || port > 65535) {
      return llvm::make_error<UsageError>("invalid port " + quote(f->private_port));
    }
    return ctx.run([&](compose::Session& session) -> llvm::Expected<int> {
      auto address = compose::published_port(*session.engine, session.project, f->service, f->index,
                                             port, f->protocol);
      if (!address) {
        return address.takeError();
      }
      std::cout << *address << "\n";
      return 0;
    });
  };
}

ComposeVerb port_verb{"port", "Print the public port for a port binding", setup_port};

}  // namespace
}  // namespace kiln::cli
