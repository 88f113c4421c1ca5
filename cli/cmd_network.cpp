// `kiln network create|ls|inspect|rm|connect|disconnect|prune`: user networks
// (network/network_store.h; a container's attachments: containers/container_network.h),
// each a bridge in a namespace of its own; the host's namespace gains nothing.
#include <iostream>

#include "cli/command.h"
#include "cli/each_name.h"
#include "cli/store_open.h"
#include "cli/verb_set.h"
#include "containers/container_network.h"
#include "network/network_inspect.h"
#include "network/network_store.h"
#include "support/error.h"

namespace kiln::cli {
namespace {

struct NetworkFlags {
  std::string subnet;
  std::vector<std::string> labels;
  std::vector<std::string> names;
  std::vector<std::string> aliases;
  bool quiet = false;
  bool force = false;
  std::string driver;
};

llvm::Expected<int> run_network(const GlobalOptions& globals, const std::string& verb,
                                const NetworkFlags& flags) {
  auto networks = network::NetworkStore::open(globals.root);
  if (!networks) {
    return networks.takeError();
  }
  if (verb == "create") {
    auto record =
        networks->create(flags.names.at(0), flags.subnet, network::parse_labels(flags.labels));
    if (!record) {
      return record.takeError();
    }
    std::cout << record->id << "\n";
    return 0;
  }
  if (verb == "ls") {
    auto all = networks->list();
    if (!all) {
      return all.takeError();
    }
    std::vector<std::vector<std::string>> rows = {{"NETWORK ID", "NAME", "DRIVER", "SCOPE"}};
    for (const auto& r : *all) {
      rows.push_back({r.id.substr(0, 12), r.name, r.driver, "local"});
      if (flags.quiet) {
        std::cout << rows.back()[0] << "\n";
      }
    }
    if (!flags.quiet) {
      print_table(std::cout, rows);
    }
    return 0;
  }
  if (verb == "inspect") {
    nlohmann::ordered_json out = nlohmann::ordered_json::array();
    int code = for_each_name(flags.names, EchoName::no, [&](const std::string& name) {
      auto record = networks->get(name);
      if (record) {
        out.push_back(network::inspect_json(*networks, *record));
      }
      return record ? llvm::Error::success() : record.takeError();
    });
    std::cout << out.dump(4) << "\n";
    return code;
  }
  if (verb == "rm") {
    return for_each_name(flags.names, EchoName::yes, [&](const std::string& name) {
      return networks->remove_user_network(name);
    });
  }
  auto store = containers::ContainerStore::open(globals.root);
  if (!store) {
    return store.takeError();
  }
  if (verb == "prune") {
    auto removed = containers::prune_networks(*store);
    if (!removed) {
      return removed.takeError();
    }
    for (size_t i = 0; i < removed->size(); ++i) {
      std::cout << (i == 0 ? "Deleted Networks:\n" : "") << (*removed)[i] << "\n";
    }
    return 0;
  }
  auto err =
      verb == "connect"
          ? containers::connect_network(*store, flags.names.at(0), flags.names.at(1), flags.aliases)
          : containers::disconnect_network(*store, flags.names.at(0), flags.names.at(1));
  if (err) {
    return std::move(err);
  }
  return 0;
}

CommandBody setup_network(CLI::App& sub, const GlobalOptions& globals) {
  VerbSet<NetworkFlags> verbs(sub);
  {
    auto [v, f] = verbs.add("create", "Create a network");
    v->add_option("--subnet", f->subnet, "Subnet in CIDR format (default: a free 10.89.N.0/24)");
    v->add_option("--label", f->labels, "Set metadata on a network")->allow_extra_args(false);
    v->add_option("-d,--driver", f->driver, "Driver to manage the network (bridge)");
    v->add_option("NETWORK", f->names, "Network name")->required()->expected(1);
  }
  {
    auto [v, f] = verbs.add("ls", "List networks");
    v->alias("list");
    v->add_flag("-q,--quiet", f->quiet, "Only display network IDs");
  }
  {
    auto [v, f] = verbs.add("inspect", "Display detailed information on one or more networks");
    v->add_option("NETWORK", f->names, "Network names or IDs")->required();
  }
  {
    auto [v, f] = verbs.add("rm", "Remove one or more networks");
    v->alias("remove");
    v->add_option("NETWORK", f->names, "Network names or IDs")->required();
  }
  {
    auto [v, f] = verbs.add("connect", "Connect a container to a network");
    v->add_option("--alias", f->aliases, "Add network-scoped alias for the container")
        ->allow_extra_args(false);
    v->add_option("NETWORK CONTAINER", f->names, "Network and container")->required()->expected(2);
  }
  {
    auto [v, f] = verbs.add("disconnect", "Disconnect a container from a network");
    v->add_flag("-f,--force", f->force, "Force the container to disconnect from a network");
    v->add_option("NETWORK CONTAINER", f->names, "Network and container")->required()->expected(2);
  }
  {
    auto [v, f] = verbs.add("prune", "Remove all unused networks");
    v->add_flag("-f,--force", f->force, "Do not prompt for confirmation");
  }
  return verbs.body(
      [&globals](const std::string& verb, const NetworkFlags& flags) -> llvm::Expected<int> {
        if (!flags.driver.empty() && flags.driver != "bridge") {
          return llvm::make_error<UsageError>("unknown network driver " + quote(flags.driver) +
                                              " (kiln has bridge)");
        }
        return run_network(globals, verb, flags);
      });
}

CommandRegistration reg{{"network", "Manage networks", setup_network, 40}};

}  // namespace
}  // namespace kiln::cli
