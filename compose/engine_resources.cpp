#include "compose/engine_resources.h"

#include <dirent.h>
#include <unistd.h>

#include <map>

#include <nlohmann/json.hpp>

#include "support/atomic_file.h"
#include "support/error.h"
#include "support/fs.h"

#include "containers/container_network.h"
#include "containers/volume_store.h"
#include "network/network_store.h"

namespace kiln::compose {

bool has_labels(const Labels& have, const Labels& want) {
  for (const auto& [k, v] : want) {
    auto it = have.find(k);
    if (it == have.end() || it->second != v) {
      return false;
    }
  }
  return true;
}

llvm::Error ProjectResources::create_network(const std::string& name, const Labels& labels) const {
  auto store = network::NetworkStore::open(root_);
  if (!store) {
    return store.takeError();
  }
  auto created = store->create(name, "", labels);
  return created ? llvm::Error::success() : created.takeError();
}

llvm::Error ProjectResources::remove_network(const std::string& name) const {
  auto store = network::NetworkStore::open(root_);
  if (!store) {
    return store.takeError();
  }
  if (auto got = store->get(name); !got) {
    llvm::consumeError(got.takeError());
    return llvm::Error::success();
  }
  return store->remove(name);
}

llvm::Expected<bool> ProjectResources::network_exists(const std::string& name) const {
  auto store = network::NetworkStore::open(root_);
  if (!store) {
    return store.takeError();
  }
  auto got = store->get(name);
  if (!got) {
    llvm::consumeError(got.takeError());
    return false;
  }
  return got->name == name;
}

llvm::Expected<std::vector<std::string>> ProjectResources::list_networks(
    const Labels& labels) const {
  auto store = network::NetworkStore::open(root_);
  if (!store) {
    return store.takeError();
  }
  auto all = store->list();
  if (!all) {
    return all.takeError();
  }
  std::vector<std::string> out;
  for (const auto& n : *all) {
    if (has_labels(n.labels, labels)) {
      out.push_back(n.name);
    }
  }
  return out;
}

llvm::Error ProjectResources::create_volume(const std::string& name, const Labels& labels) const {
  auto store = containers::VolumeStore::open(root_);
  if (!store) {
    return store.takeError();
  }
  bool anonymous = labels.count("com.docker.compose.volume.anonymous") != 0;
  auto created = store->create(name, labels, anonymous);
  return created ? llvm::Error::success() : created.takeError();
}

llvm::Error ProjectResources::remove_volume(const std::string& name) const {
  auto store = containers::VolumeStore::open(root_);
  if (!store) {
    return store.takeError();
  }
  if (auto got = store->get(name); !got) {
    llvm::consumeError(got.takeError());
    return llvm::Error::success();
  }
  return store->remove(name, store_);
}

llvm::Expected<bool> ProjectResources::volume_exists(const std::string& name) const {
  auto store = containers::VolumeStore::open(root_);
  if (!store) {
    return store.takeError();
  }
  auto got = store->get(name);
  if (!got) {
    llvm::consumeError(got.takeError());
    return false;
  }
  return true;
}

llvm::Expected<std::vector<std::string>> ProjectResources::list_volumes(
    const Labels& labels) const {
  auto store = containers::VolumeStore::open(root_);
  if (!store) {
    return store.takeError();
  }
  auto all = store->list();
  if (!all) {
    return all.takeError();
  }
  std::vector<std::string> out;
  for (const auto& v : *all) {
    if (has_labels(v.labels, labels)) {
      out.push_back(v.name);
    }
  }
  return out;
}

llvm::Error ProjectResources::apply(const ContainerRequest& r,
                                    containers::CreateFlags& flags) const {
  for (const auto& m : r.mounts) {
    std::string ro = m.read_only ? ":ro" : "";
    if (m.type == MountRequest::Type::tmpfs) {
      flags.tmpfs.push_back(m.target);
    } else {
      // A volume by name: created on first use and seeded from the image, as docker does.
      flags.volumes.push_back(m.source + ":" + m.target + ro);
    }
  }
  if (!r.network_mode.empty()) {
    flags.network = r.network_mode;
  } else if (!r.networks.empty()) {
    flags.network = r.networks.front().network;
    flags.network_aliases = r.networks.front().aliases;
  } else {
    flags.network = "none";
  }
  flags.hostname = r.hostname;
  for (const auto& h : r.extra_hosts) {
    auto [name, ip] = llvm::StringRef(h).split('=');
    flags.add_hosts.push_back(name.str() + ":" + ip.str());
  }
  return llvm::Error::success();
}

void ProjectResources::forget_container(const std::string&) const {}

llvm::Error ProjectResources::after_create(const ContainerRequest& r, const std::string& id) const {
  for (size_t i = 1; r.network_mode.empty() && i < r.networks.size(); ++i) {
    if (auto err =
            containers::connect_network(store_, r.networks[i].network, id, r.networks[i].aliases)) {
      return err;
    }
  }
  return llvm::Error::success();
}

}  // namespace kiln::compose
