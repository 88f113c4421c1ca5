#include "containers/container_network.h"

#include <algorithm>

#include "containers/container_json.h"
#include "network/netns.h"
#include "network/network_store.h"
#include "support/atomic_file.h"
#include "support/error.h"
#include "support/fs.h"

namespace kiln::containers {
namespace {

network::EndpointRequest endpoint_request(const ContainerStore& store, const ContainerSpec& spec,
                                          const NetworkAttachment& attachment, size_t index) {
  ContainerPaths paths = store.paths(spec.id);
  network::EndpointRequest request;
  request.container_id = spec.id;
  request.container_name = spec.name;
  request.aliases = attachment.aliases;
  request.hostname = spec.process.hostname.empty() ? spec.id.substr(0, 12) : spec.process.hostname;
  request.extra_hosts = spec.extra_hosts;
  request.netns = paths.netns();
  request.hosts_file = paths.hosts();
  request.interface = "eth" + std::to_string(index);
  request.default_route = index == 0;
  return request;
}

llvm::Error save_spec(const ContainerStore& store, const ContainerSpec& spec) {
  return write_file_atomic(store.paths(spec.id).config(), serialize_spec(spec));
}

}  // namespace

llvm::Expected<JoinedNetwork> join_networks(const ContainerStore& store,
                                            const ContainerSpec& spec) {
  JoinedNetwork joined;
  llvm::StringRef mode = spec.network_mode;
  if (mode.consume_front("container:")) {
    auto other = store.resolve(mode);
    if (!other) {
      return other.takeError();
    }
    auto state = store.current_state(*other);
    if (!state) {
      return state.takeError();
    }
    if (!state->running() || state->pid <= 0) {
      return make_error("cannot join network of a non running container: " + mode.str());
    }
    joined.netns_path = "/proc/" + std::to_string(state->pid) + "/ns/net";
    return joined;
  }
  if (spec.networks.empty()) {
    return joined;
  }
  auto networks = network::NetworkStore::open(store.root());
  if (!networks) {
    return networks.takeError();
  }
  ContainerPaths paths = store.paths(spec.id);
  leave_networks(store, spec.id);  // what a killed monitor left
  if (auto err = network::create_netns(paths.netns())) {
    return std::move(err);
  }
  for (size_t i = 0; i < spec.networks.size(); ++i) {
    const NetworkAttachment& attachment = spec.networks[i];
    auto record = networks->get_or_create_default(attachment.name);
    if (!record) {
      leave_networks(store, spec.id);
      return record.takeError();
    }
    auto endpoint = networks->attach(record->name, endpoint_request(store, spec, attachment, i));
    if (!endpoint) {
      leave_networks(store, spec.id);
      return endpoint.takeError();
    }
    if (i == 0) {
      joined.ip = endpoint->ip;
    }
  }
  joined.netns_path = paths.netns();
  joined.hosts_path = paths.hosts();
  return joined;
}

void leave_networks(const ContainerStore& store, llvm::StringRef id) {
  ContainerPaths paths = store.paths(id);
  bool had_netns = fs::exists(paths.netns());
  auto networks = network::NetworkStore::open(store.root());
  if (networks) {
    networks->detach_everywhere(id);
  } else {
    llvm::consumeError(networks.takeError());
  }
  if (had_netns) {
    network::remove_netns(paths.netns());
  }
}

void rename_on_networks(const ContainerStore& store, llvm::StringRef id, llvm::StringRef name) {
  auto networks = network::NetworkStore::open(store.root());
  if (!networks) {
    llvm::consumeError(networks.takeError());
    return;
  }
  networks->rename_everywhere(id, name);
}

llvm::Error connect_network(const ContainerStore& store, llvm::StringRef network,
                            llvm::StringRef container, const std::vector<std::string>& aliases) {
  auto networks = network::NetworkStore::open(store.root());
  if (!networks) {
    return networks.takeError();
  }
  auto record = networks->get_or_create_default(network);
  if (!record) {
    return record.takeError();
  }
  auto id = store.resolve(container);
  if (!id) {
    return id.takeError();
  }
  auto spec = store.load_spec(*id);
  if (!spec) {
    return spec.takeError();
  }
  if (spec->network_mode == "host" || spec->network_mode == "none" ||
      llvm::StringRef(spec->network_mode).startswith("container:")) {
    return llvm::make_error<UsageError>("container " + spec->name + " cannot be connected to " +
                                        record->name + ": it uses --network " + spec->network_mode);
  }
  for (const auto& n : spec->networks) {
    if (n.name == record->name) {
      return llvm::make_error<UsageError>("endpoint with name " + spec->name +
                                          " already exists in network " + record->name);
    }
  }
  NetworkAttachment attachment{record->name, aliases};
  size_t index = spec->networks.size();
  auto state = store.current_state(*id);
  if (!state) {
    return state.takeError();
  }
  if (state->running() && network::netns_mounted(store.paths(*id).netns())) {
    auto endpoint =
        networks->attach(record->name, endpoint_request(store, *spec, attachment, index));
    if (!endpoint) {
      return endpoint.takeError();
    }
  }
  spec->networks.push_back(attachment);
  if (spec->network_mode.empty()) {
    spec->network_mode = record->name;
  }
  return save_spec(store, *spec);
}

llvm::Error disconnect_network(const ContainerStore& store, llvm::StringRef network,
                               llvm::StringRef container) {
  auto networks = network::NetworkStore::open(store.root());
  if (!networks) {
    return networks.takeError();
  }
  auto record = networks->get(network);
  if (!record) {
    return record.takeError();
  }
  auto id = store.resolve(container);
  if (!id) {
    return id.takeError();
  }
  auto spec = store.load_spec(*id);
  if (!spec) {
    return spec.takeError();
  }
  auto it = std::find_if(spec->networks.begin(), spec->networks.end(),
                         [&](const NetworkAttachment& n) { return n.name == record->name; });
  if (it == spec->networks.end()) {
    return llvm::make_error<UsageError>("container " + spec->name +
                                        " is not connected to network " + record->name);
  }
  auto endpoints = networks->endpoints(record->name);
  if (endpoints) {
    for (const auto& e : *endpoints) {
      if (e.request.container_id == *id) {
        // Its interface goes with the bridge side of the veth.
        if (auto err = networks->detach(record->name, *id)) {
          return err;
        }
      }
    }
  } else {
    llvm::consumeError(endpoints.takeError());
  }
  spec->networks.erase(it);
  if (spec->network_mode == record->name) {
    spec->network_mode = spec->networks.empty() ? "" : spec->networks.front().name;
  }
  return save_spec(store, *spec);
}

std::vector<NetworkPlace> network_places(const ContainerStore& store, const ContainerSpec& spec) {
  std::vector<NetworkPlace> out;
  auto networks = network::NetworkStore::open(store.root());
  if (!networks) {
    llvm::consumeError(networks.takeError());
    return out;
  }
  for (const auto& n : spec.networks) {
    NetworkPlace place;
    place.network = n.name;
    place.aliases = n.aliases;
    if (auto record = networks->get(n.name)) {
      place.network_id = record->id;
      place.gateway = record->gateway;
    } else {
      llvm::consumeError(record.takeError());
    }
    if (auto endpoints = networks->endpoints(n.name)) {
      for (const auto& e : *endpoints) {
        if (e.request.container_id == spec.id) {
          place.ip = e.ip;
          place.prefix_len = e.prefix_len;
        }
      }
    } else {
      llvm::consumeError(endpoints.takeError());
    }
    out.push_back(std::move(place));
  }
  return out;
}

llvm::Expected<std::vector<std::string>> containers_on_network(const ContainerStore& store,
                                                               llvm::StringRef name) {
  auto ids = store.ids();
  if (!ids) {
    return ids.takeError();
  }
  std::vector<std::string> out;
  for (const auto& id : *ids) {
    auto spec = store.load_spec(id);
    if (!spec) {
      llvm::consumeError(spec.takeError());
      continue;
    }
    for (const auto& n : spec->networks) {
      if (n.name == name) {
        out.push_back(id);
        break;
      }
    }
  }
  return out;
}

llvm::Expected<std::vector<std::string>> prune_networks(const ContainerStore& store) {
  auto networks = network::NetworkStore::open(store.root());
  if (!networks) {
    return networks.takeError();
  }
  auto all = networks->list();
  if (!all) {
    return all.takeError();
  }
  std::vector<std::string> removed;
  for (const auto& r : *all) {
    if (r.name == network::kDefaultNetwork) {
      continue;
    }
    auto users = containers_on_network(store, r.name);
    if (!users || !users->empty()) {
      llvm::consumeError(users.takeError());
      continue;
    }
    if (auto err = networks->remove(r.name)) {
      llvm::consumeError(std::move(err));
      continue;
    }
    removed.push_back(r.name);
  }
  return removed;
}

}  // namespace kiln::containers
