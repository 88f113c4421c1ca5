// `kiln network create|ls|inspect|rm|connect|disconnect|prune`: user networks
// (network/network_store.h; a container's attachments: containers/container_network.h),
// each a bridge in a namespace of its own; the host's namespace gains nothing. And
// `kiln volume create|ls|inspect|rm|prune`: named volumes (containers/volume_store.h),
// in docker's layout under ROOT/volumes.
#include <iostream>

#include "cli/command.h"
#include "containers/container_network.h"
#include "containers/system_prune.h"
#include "containers/volume_store.h"
#include "network/network_inspect.h"
#include "network/network_store.h"
#include "support/error.h"

namespace kiln::cli {
namespace {

struct Flags {
  std::vector<std::string> names;
  std::vector<std::string> labels;
  std::vector<std::string> aliases;
  std::string subnet;
  std::string driver;
  bool quiet = false;
  bool force = false;
  bool all = false;
};

using containers::VolumeStore;
using network::NetworkStore;

// The body of a verb of `kind` ("network", "volume") over its store `Store`,
// after `--driver` is checked against the one driver kiln has, `driver`.
template <typename Store, typename Body>
Command<Flags>::Run over(const char* kind, const char* driver, Body body) {
  return [=](Flags& f, const GlobalOptions& globals) -> llvm::Expected<int> {
    if (!f.driver.empty() && f.driver != driver) {
      return llvm::make_error<UsageError>("unknown " + std::string(kind) + " driver " +
                                          quote(f.driver) + " (kiln has " + driver + ")");
    }
    KILN_TRY(auto store, Store::open(globals.root));
    return body(f, store, globals);
  };
}
template <typename Body>
Command<Flags>::Run networks(Body body) {
  return over<NetworkStore>("network", "bridge", body);
}
template <typename Body>
Command<Flags>::Run volumes(Body body) {
  return over<VolumeStore>("volume", "local", body);
}

// `ls -q`: column `id` of each row; otherwise the table.
void print_list(const std::vector<std::vector<std::string>>& rows, bool quiet, size_t id = 0) {
  for (size_t i = 1; quiet && i < rows.size(); ++i) {
    std::cout << rows[i][id] << "\n";
  }
  if (!quiet) {
    print_table(std::cout, rows);
  }
}

// `inspect`: a JSON array of what `get` finds of each name; an error for one is
// printed and the others go on.
template <typename Get>
int print_inspect(const std::vector<std::string>& names, Get get) {
  nlohmann::ordered_json out = nlohmann::ordered_json::array();
  int code = for_each_name(names, EchoName::no, [&](const std::string& name) -> llvm::Error {
    KILN_TRY(auto json, get(name));
    out.push_back(std::move(json));
    return llvm::Error::success();
  });
  std::cout << out.dump(4) << "\n";
  return code;
}

void names_arg(CLI::App& sub, Flags& f, const std::string& name, const std::string& help) {
  sub.add_option(name, f.names, help)->required();
}

CommandGroup network_reg{"network", "Manage networks", 40};

Command<Flags> network_create{
    "network create", "Create a network",
    [](CLI::App& sub, Flags& f) {
      sub.add_option("--subnet", f.subnet, "Subnet in CIDR format (default: a free 10.89.N.0/24)");
      add_list(sub, "--label", f.labels, "Set metadata on a network");
      sub.add_option("-d,--driver", f.driver, "Driver to manage the network (bridge)");
      names_arg(sub, f, "NETWORK", "Network name");
      sub.get_option("NETWORK")->expected(1);
    },
    networks([](Flags& f, NetworkStore& store, auto&) -> llvm::Expected<int> {
      KILN_TRY(auto record, store.create(f.names[0], f.subnet, network::parse_labels(f.labels)));
      std::cout << record.id << "\n";
      return 0;
    })};

Command<Flags> network_ls{
    "network ls", "List networks",
    [](CLI::App& sub, Flags& f) {
      sub.alias("list");
      sub.add_flag("-q,--quiet", f.quiet, "Only display network IDs");
    },
    networks([](Flags& f, NetworkStore& store, auto&) -> llvm::Expected<int> {
      KILN_TRY(auto all, store.list());
      std::vector<std::vector<std::string>> rows = {{"NETWORK ID", "NAME", "DRIVER", "SCOPE"}};
      for (const auto& r : all) {
        rows.push_back({r.id.substr(0, 12), r.name, r.driver, "local"});
      }
      print_list(rows, f.quiet);
      return 0;
    })};

Command<Flags> network_inspect{
    "network inspect", "Display detailed information on one or more networks",
    [](CLI::App& sub, Flags& f) { names_arg(sub, f, "NETWORK", "Network names or IDs"); },
    networks([](Flags& f, NetworkStore& store, auto&) -> llvm::Expected<int> {
      return print_inspect(f.names, [&](const std::string& name) {
        auto record = store.get(name);
        return record
                   ? llvm::Expected<nlohmann::ordered_json>(network::inspect_json(store, *record))
                   : record.takeError();
      });
    })};

Command<Flags> network_rm{"network rm", "Remove one or more networks",
                          [](CLI::App& sub, Flags& f) {
                            sub.alias("remove");
                            names_arg(sub, f, "NETWORK", "Network names or IDs");
                          },
                          networks([](Flags& f, NetworkStore& store, auto&) -> llvm::Expected<int> {
                            return for_each_name(f.names, EchoName::yes,
                                                 [&](const std::string& name) {
                                                   return store.remove_user_network(name);
                                                 });
                          })};

// connect and disconnect.
Command<Flags> attachment(bool connect) {
  return {
      connect ? "network connect" : "network disconnect",
      connect ? "Connect a container to a network" : "Disconnect a container from a network",
      [connect](CLI::App& sub, Flags& f) {
        if (connect) {
          add_list(sub, "--alias", f.aliases, "Add network-scoped alias for the container");
        } else {
          sub.add_flag("-f,--force", f.force, "Force the container to disconnect from a network");
        }
        names_arg(sub, f, "NETWORK CONTAINER", "Network and container");
        sub.get_option("NETWORK CONTAINER")->expected(2);
      },
      [connect](Flags& f, const GlobalOptions& globals) -> llvm::Expected<int> {
        KILN_TRY(auto store, containers::ContainerStore::open(globals.root));
        KILN_CHECK(connect ? containers::connect_network(store, f.names[0], f.names[1], f.aliases)
                           : containers::disconnect_network(store, f.names[0], f.names[1]));
        return 0;
      }};
}
Command<Flags> network_connect = attachment(true);
Command<Flags> network_disconnect = attachment(false);

Command<Flags> network_prune{
    "network prune", "Remove all unused networks",
    [](CLI::App& sub, Flags& f) {
      sub.add_flag("-f,--force", f.force, "Do not prompt for confirmation");
    },
    [](Flags& f, const GlobalOptions& globals) -> llvm::Expected<int> {
      if (!f.force &&
          !confirm(containers::prune_warning(containers::PruneTarget::networks, false))) {
        return 0;
      }
      KILN_TRY(auto store, containers::ContainerStore::open(globals.root));
      KILN_TRY(auto removed, containers::prune_networks(store));
      for (size_t i = 0; i < removed.size(); ++i) {
        std::cout << (i == 0 ? "Deleted Networks:\n" : "") << removed[i] << "\n";
      }
      return 0;
    }};

CommandGroup volume_reg{"volume", "Manage volumes", 41};

Command<Flags> volume_create{
    "volume create", "Create a volume",
    [](CLI::App& sub, Flags& f) {
      add_list(sub, "--label", f.labels, "Set metadata for a volume");
      sub.add_option("-d,--driver", f.driver, "Specify volume driver name (local)");
      sub.add_option("VOLUME", f.names, "Volume name (default: a random one)")->expected(0, 1);
    },
    volumes([](Flags& f, VolumeStore& store, auto&) -> llvm::Expected<int> {
      KILN_TRY(auto created,
               store.create(f.names.empty() ? "" : f.names[0], network::parse_labels(f.labels)));
      std::cout << created.name << "\n";
      return 0;
    })};

Command<Flags> volume_ls{"volume ls", "List volumes",
                         [](CLI::App& sub, Flags& f) {
                           sub.alias("list");
                           sub.add_flag("-q,--quiet", f.quiet, "Only display volume names");
                         },
                         volumes([](Flags& f, VolumeStore& store, auto&) -> llvm::Expected<int> {
                           KILN_TRY(auto all, store.list());
                           std::vector<std::vector<std::string>> rows = {{"DRIVER", "VOLUME NAME"}};
                           for (const auto& v : all) {
                             rows.push_back({v.driver, v.name});
                           }
                           print_list(rows, f.quiet, 1);
                           return 0;
                         })};

Command<Flags> volume_inspect{
    "volume inspect", "Display detailed information on one or more volumes",
    [](CLI::App& sub, Flags& f) { names_arg(sub, f, "VOLUME", "Volume names"); },
    volumes([](Flags& f, VolumeStore& store, auto&) -> llvm::Expected<int> {
      return print_inspect(f.names, [&](const std::string& name) {
        auto v = store.get(name);
        return v ? llvm::Expected<nlohmann::ordered_json>(containers::inspect_json(*v))
                 : v.takeError();
      });
    })};

Command<Flags> volume_rm{
    "volume rm", "Remove one or more volumes (refused for volumes in use)",
    [](CLI::App& sub, Flags& f) {
      sub.alias("remove");
      sub.add_flag("-f,--force", f.force, "Do not fail for a missing volume");
      names_arg(sub, f, "VOLUME", "Volume names");
    },
    volumes([](Flags& f, VolumeStore& volumes,
               const GlobalOptions& globals) -> llvm::Expected<int> {
      KILN_TRY(auto store, containers::ContainerStore::open(globals.root));
      return for_each_name(f.names, EchoName::yes,
                           [&](const std::string& name) { return volumes.remove(name, store); });
    })};

// Unused anonymous volumes (all unused ones with -a), as docker 23+.
Command<Flags> volume_prune{
    "volume prune", "Remove unused anonymous volumes (-a: all unused volumes)",
    [](CLI::App& sub, Flags& f) {
      sub.add_flag("-a,--all", f.all, "Remove all unused volumes, not just anonymous ones");
      sub.add_flag("-f,--force", f.force, "Do not prompt for confirmation");
    },
    [](Flags& f, const GlobalOptions& globals) -> llvm::Expected<int> {
      if (!f.force &&
          !confirm(containers::prune_warning(containers::PruneTarget::volumes, f.all))) {
        return 0;
      }
      KILN_TRY(auto pruned, containers::prune_volumes(globals.root, f.all));
      std::cout << containers::deleted_section("Deleted Volumes:", pruned.removed)
                << containers::reclaimed_line(pruned.reclaimed);
      return 0;
    }};

}  // namespace
}  // namespace kiln::cli
