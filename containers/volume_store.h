// Named volumes, in docker's layout: ROOT/volumes/<name>/_data holds the files,
// ROOT/volumes/<name>/volume.json what `volume inspect` shows. Created by
// `kiln volume create` or on first use by `-v NAME:/path`; a volume that a
// container (in any state) names is in use and cannot be removed.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <llvm/ADT/StringRef.h>
#include <llvm/Support/Error.h>
#include <nlohmann/json.hpp>

#include "containers/container_store.h"

namespace kiln::containers {

struct VolumeRecord {
  std::string name;
  std::string driver = "local";
  std::string mountpoint;  ///< ROOT/volumes/<name>/_data
  int64_t created_ns = 0;
  std::map<std::string, std::string> labels;
  bool anonymous = false;  ///< made for `-v /path` (docker's anonymous volumes)
};

/// The JSON object `docker volume inspect` gives for `volume`.
nlohmann::ordered_json inspect_json(const VolumeRecord& volume);

/// A volume with its disk usage, for `system df` and `volume ls`.
struct VolumeUsage {
  VolumeRecord volume;
  int64_t size_bytes = 0;
  /// How many containers (any state) mount it.
  int containers = 0;
};

class VolumeStore {
 public:
  /// Opens ROOT/volumes (creating it).
  static llvm::Expected<VolumeStore> open(llvm::StringRef root);

  /// Creates `name` (a random 64-hex name when empty: anonymous); an existing
  /// volume of that name is returned as is (docker's create is idempotent).
  llvm::Expected<VolumeRecord> create(llvm::StringRef name,
                                      const std::map<std::string, std::string>& labels = {},
                                      bool anonymous = false) const;
  /// Fails with "no such volume: NAME".
  llvm::Expected<VolumeRecord> get(llvm::StringRef name) const;
  llvm::Expected<std::vector<VolumeRecord>> list() const;
  /// Removes a volume that no container of `containers` uses; fails with
  /// docker's "volume is in use - [ID]" otherwise.
  llvm::Error remove(llvm::StringRef name, const ContainerStore& containers) const;

 private:
  explicit VolumeStore(std::string dir) : dir_(std::move(dir)) {}
  std::string dir_;  // ROOT/volumes
};

/// Every volume of the kiln root `root` with its size and how many containers
/// use it (the function `system df` counts volumes with).
llvm::Expected<std::vector<VolumeUsage>> volume_usage(llvm::StringRef root);

/// What `volume prune` / `system prune --volumes` removed.
struct VolumePruneReport {
  std::vector<std::string> removed;
  int64_t reclaimed = 0;
};
/// Removes the volumes no container uses: the anonymous ones, or every one with
/// `all` (docker 23+'s `volume prune [-a]`).
llvm::Expected<VolumePruneReport> prune_volumes(llvm::StringRef root, bool all);

/// The IDs of the containers whose mounts name volume `name`.
llvm::Expected<std::vector<std::string>> containers_using_volume(const ContainerStore& store,
                                                                 llvm::StringRef name);

/// True when `name` is a valid volume name ([a-zA-Z0-9][a-zA-Z0-9_.-]+).
bool valid_volume_name(llvm::StringRef name);

}  // namespace kiln::containers
