// A container's networks: its own network namespace on the user networks it
// joins (network/), `--network container:ID`, and `network connect/disconnect`.
#pragma once

#include <string>
#include <vector>

#include <llvm/Support/Error.h>

#include "containers/container_store.h"

namespace kiln::containers {

/// What a started container's network is, for the runtime and the port forwarder.
struct JoinedNetwork {
  std::string netns_path;  ///< "" : the runtime's default for the process spec
  std::string hosts_path;  ///< "" : the process spec's hosts
  std::string ip;          ///< the address on its first network ("" : none)
};

/// Sets up the network of container `spec` before it starts: for user networks
/// its namespace (ROOT/containers/<id>/netns) attached to each network, for
/// container:ID the other container's namespace. Undo with leave_networks().
llvm::Expected<JoinedNetwork> join_networks(const ContainerStore& store, const ContainerSpec& spec);

/// Detaches container `id` from every network and removes its namespace; best
/// effort, for the end of a run and for clean-ups.
void leave_networks(const ContainerStore& store, llvm::StringRef id);

/// Gives a renamed container its new name on its networks (peers' /etc/hosts).
void rename_on_networks(const ContainerStore& store, llvm::StringRef id, llvm::StringRef name);

/// `kiln network connect [--alias A] NETWORK CONTAINER`: records the network in
/// the container's config and attaches a running container at once.
llvm::Error connect_network(const ContainerStore& store, llvm::StringRef network,
                            llvm::StringRef container, const std::vector<std::string>& aliases);

/// `kiln network disconnect NETWORK CONTAINER`.
llvm::Error disconnect_network(const ContainerStore& store, llvm::StringRef network,
                               llvm::StringRef container);

/// A container's place on one of its networks, for inspect.
struct NetworkPlace {
  std::string network;
  std::string network_id;
  std::vector<std::string> aliases;
  std::string ip;  ///< "" while it is not running
  int prefix_len = 0;
  std::string gateway;
};

/// Where container `spec` is on each of its networks.
std::vector<NetworkPlace> network_places(const ContainerStore& store, const ContainerSpec& spec);

/// The containers (IDs) whose config names network `name`.
llvm::Expected<std::vector<std::string>> containers_on_network(const ContainerStore& store,
                                                               llvm::StringRef name);

/// `network prune`: removes the user networks of `store`'s root that no container
/// names (never the default one; a network taken into use meanwhile is kept).
/// Returns their names.
llvm::Expected<std::vector<std::string>> prune_networks(const ContainerStore& store);

}  // namespace kiln::containers
