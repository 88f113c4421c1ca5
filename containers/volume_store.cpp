#include "containers/volume_store.h"

#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <random>
#include <set>

#include <nlohmann/json.hpp>

#include "support/atomic_file.h"
#include "support/error.h"
#include "support/file_lock.h"
#include "support/fs.h"
#include "support/units.h"

namespace kiln::containers {
namespace {

using Json = nlohmann::json;

std::string random_name() {
  static const char kHex[] = "0123456789abcdef";
  std::random_device device;
  std::string id;
  for (int i = 0; i < 64; ++i) {
    id += kHex[device() % 16];
  }
  return id;
}

// Bytes of the regular files below `path` (hard links once), not following links.
int64_t tree_size(const std::string& path) {
  int64_t total = 0;
  DIR* d = ::opendir(path.c_str());
  if (!d) {
    return 0;
  }
  while (dirent* e = ::readdir(d)) {
    llvm::StringRef name = e->d_name;
    if (name == "." || name == "..") {
      continue;
    }
    std::string child = path + "/" + name.str();
    struct stat st {};
    if (::lstat(child.c_str(), &st) != 0) {
      continue;
    }
    if (S_ISDIR(st.st_mode)) {
      total += tree_size(child);
    } else if (S_ISREG(st.st_mode)) {
      total += st.st_size;
    }
  }
  ::closedir(d);
  return total;
}

}  // namespace

bool valid_volume_name(llvm::StringRef name) {
  if (name.size() < 2 || !std::isalnum(static_cast<unsigned char>(name[0]))) {
    return false;
  }
  return std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '-';
  });
}

llvm::Expected<VolumeStore> VolumeStore::open(llvm::StringRef root) {
  std::string dir = root.str() + "/volumes";
  if (auto err = fs::make_dirs(dir, 0701)) {
    return std::move(err);
  }
  return VolumeStore(dir);
}

llvm::Expected<VolumeRecord> VolumeStore::create(llvm::StringRef name,
                                                 const std::map<std::string, std::string>& labels,
                                                 bool anonymous) const {
  std::string chosen = name.empty() ? random_name() : name.str();
  if (!valid_volume_name(chosen)) {
    return llvm::make_error<UsageError>(
        "create " + chosen +
        ": includes invalid characters for a local volume name, only "
        "\"[a-zA-Z0-9][a-zA-Z0-9_.-]\" are allowed");
  }
  auto lock = FileLock::acquire(dir_ + "/.lock");
  if (!lock) {
    return lock.takeError();
  }
  if (auto existing = get(chosen)) {
    return existing;
  } else {
    llvm::consumeError(existing.takeError());
  }
  VolumeRecord record;
  record.name = chosen;
  record.mountpoint = dir_ + "/" + chosen + "/_data";
  record.created_ns = now_ns();
  record.labels = labels;
  record.anonymous = anonymous || name.empty();
  if (auto err = fs::make_dirs(record.mountpoint, 0755)) {
    return std::move(err);
  }
  Json j = {{"Name", record.name},
            {"Driver", record.driver},
            {"Mountpoint", record.mountpoint},
            {"CreatedNs", record.created_ns},
            {"Labels", record.labels},
            {"Anonymous", record.anonymous}};
  if (auto err = write_file_atomic(dir_ + "/" + chosen + "/volume.json", j.dump(2) + "\n")) {
    return std::move(err);
  }
  return record;
}

llvm::Expected<VolumeRecord> VolumeStore::get(llvm::StringRef name) const {
  auto text = fs::read_file(dir_ + "/" + name.str() + "/volume.json");
  if (!text) {
    llvm::consumeError(text.takeError());
    return llvm::make_error<UsageError>("no such volume: " + name.str());
  }
  Json j = Json::parse(*text, nullptr, false);
  if (!j.is_object()) {
    return make_error("volume " + quote(name) + ": invalid volume.json");
  }
  VolumeRecord r;
  r.name = j.value("Name", name.str());
  r.driver = j.value("Driver", "local");
  r.mountpoint = dir_ + "/" + r.name + "/_data";
  r.created_ns = j.value("CreatedNs", int64_t{0});
  r.labels = j.value("Labels", std::map<std::string, std::string>{});
  r.anonymous = j.value("Anonymous", false);
  return r;
}

llvm::Expected<std::vector<VolumeRecord>> VolumeStore::list() const {
  std::vector<VolumeRecord> out;
  DIR* d = ::opendir(dir_.c_str());
  if (!d) {
    return make_io_error("read", dir_, errno);
  }
  while (dirent* e = ::readdir(d)) {
    if (e->d_name[0] == '.') {
      continue;
    }
    auto r = get(e->d_name);
    if (r) {
      out.push_back(std::move(*r));
    } else {
      llvm::consumeError(r.takeError());
    }
  }
  ::closedir(d);
  std::sort(out.begin(), out.end(),
            [](const VolumeRecord& a, const VolumeRecord& b) { return a.name < b.name; });
  return out;
}

llvm::Error VolumeStore::remove(llvm::StringRef name, const ContainerStore& containers) const {
  auto lock = FileLock::acquire(dir_ + "/.lock");
  if (!lock) {
    return lock.takeError();
  }
  auto record = get(name);
  if (!record) {
    return record.takeError();
  }
  auto users = containers_using_volume(containers, name);
  if (!users) {
    return users.takeError();
  }
  if (!users->empty()) {
    std::string ids;
    for (const auto& id : *users) {
      ids += (ids.empty() ? "" : ", ") + id;
    }
    return make_error("remove " + name.str() + ": volume is in use - [" + ids + "]");
  }
  std::string doomed = containers.root() + "/tmp/volume-" + name.str();
  if (auto err = fs::make_dirs(containers.root() + "/tmp")) {
    return err;
  }
  std::string dir = dir_ + "/" + name.str();
  if (::rename(dir.c_str(), doomed.c_str()) != 0) {
    return make_io_error("remove volume", dir, errno);
  }
  return fs::remove_all(doomed);
}

llvm::Expected<std::vector<std::string>> containers_using_volume(const ContainerStore& store,
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
    for (const auto& m : spec->mount_records) {
      if (m.type == "volume" && m.name == name) {
        out.push_back(id);
        break;
      }
    }
  }
  return out;
}

llvm::Expected<std::vector<VolumeUsage>> volume_usage(llvm::StringRef root) {
  auto volumes = VolumeStore::open(root);
  if (!volumes) {
    return volumes.takeError();
  }
  auto store = ContainerStore::open(root);
  if (!store) {
    return store.takeError();
  }
  auto all = volumes->list();
  if (!all) {
    return all.takeError();
  }
  std::map<std::string, int> users;
  auto ids = store->ids();
  if (!ids) {
    return ids.takeError();
  }
  for (const auto& id : *ids) {
    auto spec = store->load_spec(id);
    if (!spec) {
      llvm::consumeError(spec.takeError());
      continue;
    }
    std::set<std::string> names;
    for (const auto& m : spec->mount_records) {
      if (m.type == "volume" && names.insert(m.name).second) {
        users[m.name]++;
      }
    }
  }
  std::vector<VolumeUsage> out;
  for (auto& v : *all) {
    VolumeUsage u;
    u.size_bytes = tree_size(v.mountpoint);
    u.containers = users[v.name];
    u.volume = std::move(v);
    out.push_back(std::move(u));
  }
  return out;
}

nlohmann::ordered_json inspect_json(const VolumeRecord& v) {
  return {{"CreatedAt", rfc3339_utc(v.created_ns, 0)},
          {"Driver", v.driver},
          {"Labels", v.labels},
          {"Mountpoint", v.mountpoint},
          {"Name", v.name},
          {"Options", nlohmann::ordered_json::object()},
          {"Scope", "local"}};
}

llvm::Expected<VolumePruneReport> prune_volumes(llvm::StringRef root, bool all) {
  auto volumes = VolumeStore::open(root);
  if (!volumes) {
    return volumes.takeError();
  }
  auto store = ContainerStore::open(root);
  if (!store) {
    return store.takeError();
  }
  auto usage = volume_usage(root);
  if (!usage) {
    return usage.takeError();
  }
  VolumePruneReport report;
  for (const auto& u : *usage) {
    if (u.containers > 0 || (!all && !u.volume.anonymous)) {
      continue;
    }
    if (auto err = volumes->remove(u.volume.name, *store)) {
      llvm::consumeError(std::move(err));  // taken into use since: kept
      continue;
    }
    report.removed.push_back(u.volume.name);
    report.reclaimed += u.size_bytes;
  }
  return report;
}

}  // namespace kiln::containers
