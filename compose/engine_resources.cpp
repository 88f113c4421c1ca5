#include "compose/engine_resources.h"

#include <dirent.h>
#include <unistd.h>

#include <map>

#include <nlohmann/json.hpp>

#include "support/atomic_file.h"
#include "support/error.h"
#include "support/fs.h"

#if __has_include("network/network_store.h") &&                 \
                  __has_include("containers/volume_store.h") && \
                                __has_include("containers/container_network.h")
#define KILN_COMPOSE_REAL_NETWORKS 1
#include "containers/container_network.h"
#include "containers/volume_store.h"
#include "network/network_store.h"
#else
#define KILN_COMPOSE_REAL_NETWORKS 0
#endif

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

bool ProjectResources::real_networks() { return KILN_COMPOSE_REAL_NETWORKS; }

#if KILN_COMPOSE_REAL_NETWORKS

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

#else

namespace {

std::vector<std::string> dir_names(const std::string& dir) {
  std::vector<std::string> out;
  if (DIR* d = ::opendir(dir.c_str())) {
    while (dirent* e = ::readdir(d)) {
      std::string name = e->d_name;
      if (name != "." && name != "..") {
        out.push_back(name);
      }
    }
    ::closedir(d);
  }
  return out;
}

llvm::Error write_labels(const std::string& path, const Labels& labels) {
  nlohmann::json j = labels;
  return write_file_atomic(path, j.dump());
}

Labels read_labels(const std::string& path) {
  auto text = fs::read_file(path);
  if (!text) {
    llvm::consumeError(text.takeError());
    return {};
  }
  try {
    return nlohmann::json::parse(*text).get<Labels>();
  } catch (const std::exception&) {
    return {};
  }
}

}  // namespace

static std::string networks_dir(const std::string& root) { return root + "/compose/networks"; }
static std::string volume_dir(const std::string& root, const std::string& name) {
  return root + "/compose/volumes/" + name;
}

llvm::Error ProjectResources::create_network(const std::string& name, const Labels& labels) const {
  if (auto err = fs::make_dirs(networks_dir(root_))) {
    return err;
  }
  std::string path = networks_dir(root_) + "/" + name + ".json";
  if (fs::exists(path)) {
    return llvm::Error::success();
  }
  return write_labels(path, labels);
}

llvm::Error ProjectResources::remove_network(const std::string& name) const {
  std::string path = networks_dir(root_) + "/" + name + ".json";
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) {
    return make_io_error("remove network", path, errno);
  }
  return llvm::Error::success();
}

llvm::Expected<bool> ProjectResources::network_exists(const std::string& name) const {
  return fs::exists(networks_dir(root_) + "/" + name + ".json");
}

llvm::Expected<std::vector<std::string>> ProjectResources::list_networks(
    const Labels& labels) const {
  std::vector<std::string> out;
  for (const auto& file : dir_names(networks_dir(root_))) {
    llvm::StringRef name(file);
    if (name.consume_back(".json") &&
        has_labels(read_labels(networks_dir(root_) + "/" + file), labels)) {
      out.push_back(name.str());
    }
  }
  return out;
}

llvm::Error ProjectResources::create_volume(const std::string& name, const Labels& labels) const {
  std::string dir = volume_dir(root_, name);
  if (fs::exists(dir + "/labels.json")) {
    return llvm::Error::success();
  }
  if (auto err = fs::make_dirs(dir + "/_data")) {
    return err;
  }
  return write_labels(dir + "/labels.json", labels);
}

llvm::Error ProjectResources::remove_volume(const std::string& name) const {
  return fs::remove_all(volume_dir(root_, name));
}

llvm::Expected<bool> ProjectResources::volume_exists(const std::string& name) const {
  return fs::exists(volume_dir(root_, name) + "/labels.json");
}

llvm::Expected<std::vector<std::string>> ProjectResources::list_volumes(
    const Labels& labels) const {
  std::vector<std::string> out;
  for (const auto& name : dir_names(root_ + "/compose/volumes")) {
    if (has_labels(read_labels(volume_dir(root_, name) + "/labels.json"), labels)) {
      out.push_back(name);
    }
  }
  return out;
}

// containers/ binds directories only: the files of secrets and configs are
// copied into ROOT/compose/files/<container>/<n>/, one directory per target
// directory, bound read-only there.
llvm::Error bind_files(const std::string& root, const ContainerRequest& r,
                       containers::CreateFlags& flags) {
  std::map<std::string, std::string> dirs;  // target dir -> host dir
  for (const auto& m : r.mounts) {
    if (!m.file) {
      continue;
    }
    auto [parent, name] = llvm::StringRef(m.target).rsplit('/');
    if (parent.empty()) {
      return make_error("container " + quote(r.name) + ": " + quote(m.target) +
                        ": a file at / needs single-file binds, which this kiln lacks");
    }
    std::string& dir = dirs[parent.str()];
    if (dir.empty()) {
      dir = root + "/compose/files/" + r.name + "/" + std::to_string(dirs.size());
      if (auto err = fs::make_dirs(dir)) {
        return err;
      }
      flags.volumes.push_back(dir + ":" + parent.str() + ":ro");
    }
    auto text = fs::read_file(m.source);
    if (!text) {
      return text.takeError();
    }
    if (auto err = write_file_atomic(dir + "/" + name.str(), *text, 0444)) {
      return err;
    }
  }
  return llvm::Error::success();
}

llvm::Error ProjectResources::apply(const ContainerRequest& r,
                                    containers::CreateFlags& flags) const {
  if (auto err = bind_files(root_, r, flags)) {
    return err;
  }
  for (const auto& m : r.mounts) {
    if (m.type == MountRequest::Type::tmpfs || m.file) {
      continue;  // no tmpfs mounts in containers/ yet; files are bound above
    }
    std::string source =
        m.type == MountRequest::Type::volume ? volume_dir(root_, m.source) + "/_data" : m.source;
    flags.volumes.push_back(source + ":" + m.target + (m.read_only ? ":ro" : ""));
  }
  // No user networks yet: a private namespace (published ports reach it), or
  // the mode the service asks for.
  flags.network = r.network_mode == "host" || r.network_mode == "none" ? r.network_mode : "";
  return llvm::Error::success();
}

llvm::Error ProjectResources::after_create(const ContainerRequest&, const std::string&) const {
  return llvm::Error::success();
}

void ProjectResources::forget_container(const std::string& name) const {
  llvm::consumeError(fs::remove_all(root_ + "/compose/files/" + name));
}

#endif

}  // namespace kiln::compose
