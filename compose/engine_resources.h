// LocalEngine's networks and volumes (engine_local.h), apart from its
// containers: the seam where kiln's user networks (network/NetworkStore) and
// volume store (containers/VolumeStore) plug in. With them in the tree (found
// by __has_include, so this file builds before and after they arrive), compose
// networks are real networks whose containers resolve each other by service name
// and alias, and volumes are kiln volumes; without them, a network is a record
// under ROOT/compose/networks and a volume a directory ROOT/compose/volumes/<name>.
#pragma once

#include <string>
#include <vector>

#include <llvm/Support/Error.h>

#include "compose/engine.h"
#include "containers/container_create.h"
#include "containers/container_store.h"

namespace kiln::compose {

/// Whether `have` holds every label of `want` with the same value.
bool has_labels(const Labels& have, const Labels& want);

/// The networks and volumes of one kiln root, and how a container joins them.
class ProjectResources {
 public:
  ProjectResources(std::string root, containers::ContainerStore store)
      : root_(std::move(root)), store_(std::move(store)) {}

  llvm::Error create_network(const std::string& name, const Labels& labels) const;
  llvm::Error remove_network(const std::string& name) const;
  llvm::Expected<bool> network_exists(const std::string& name) const;
  llvm::Expected<std::vector<std::string>> list_networks(const Labels& labels) const;
  llvm::Error create_volume(const std::string& name, const Labels& labels) const;
  llvm::Error remove_volume(const std::string& name) const;
  llvm::Expected<bool> volume_exists(const std::string& name) const;
  llvm::Expected<std::vector<std::string>> list_volumes(const Labels& labels) const;

  /// Sets the network, mounts, hostname and extra hosts of `flags` from `request`.
  llvm::Error apply(const ContainerRequest& request, containers::CreateFlags& flags) const;
  /// Removes what apply() made for container `name` (copies of its files).
  void forget_container(const std::string& name) const;
  /// Joins the container's further networks once it exists.
  llvm::Error after_create(const ContainerRequest& request, const std::string& id) const;

 private:
  std::string root_;
  containers::ContainerStore store_;
};

}  // namespace kiln::compose
