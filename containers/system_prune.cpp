#include "containers/system_prune.h"

#include "containers/volume_store.h"

#include <algorithm>
#include <map>

#include "cache/gc_lock.h"
#include "cache/image_store.h"
#include "containers/volume_store.h"
#include "oci/reference.h"
#include "support/error.h"
#include "support/fs.h"
#include "support/units.h"

namespace kiln::containers {
namespace {

using cache::StoreUsage;

/// Splits the store into docker's four rows and the build cache records.
void fill_rows(DiskUsageReport& report) {
  const StoreUsage& s = report.store;
  std::set<Digest> active_chains;
  std::set<std::string> active_blobs;
  UsageRow images{"Images"}, containers{"Containers"}, volumes{"Local Volumes"},
      cache{"Build Cache"};
  std::map<std::string, int> blob_active;  // blobs of images with containers
  for (const auto& image : s.images) {
    ++images.total;
    if (image.containers > 0) {
      ++images.active;
      for (const Digest& c : image.chains) {
        active_chains.insert(c);
      }
    }
  }
  int64_t image_bytes = 0, image_active_bytes = 0;
  for (const auto& b : s.blobs) {
    if (b.images > 0) {
      image_bytes += b.size;
    } else if (b.history == 0) {  // else its history file's
      report.build_cache.push_back(
          {cache::cache_record_id(b.digest), "regular", b.size, b.created, 0, 0, false, false});
    }
  }
  // Blobs of active images: the manifests' blob lists are not in StoreUsage, so
  // an image's share is its size less what it shares (an estimate only for
  // RECLAIMABLE, never for SIZE).
  for (const auto& image : s.images) {
    if (image.containers > 0) {
      image_active_bytes += image.size - image.shared_size;
    }
  }
  for (const auto& snap : s.snapshots) {
    if (s.image_chains.count(snap.chain) > 0) {  // with the link layers images lie on
      image_bytes += snap.size;
      continue;
    }
    bool in_use = s.container_chains.count(snap.chain) > 0;
    report.build_cache.push_back({cache::cache_record_id(snap.chain), "regular", snap.size,
                                  snap.created, snap.use_count > 0 ? snap.last_used : 0,
                                  snap.use_count, snap.dependents > 0, in_use});
  }
  for (const auto& d : s.cache_dirs) {
    report.build_cache.push_back(
        {d.id.substr(0, 12), d.type, d.size, d.last_used, d.last_used, 0, false, false});
  }
  // kiln.db, locks, the stat cache, temp files: in use, never removed.
  report.build_cache.push_back({"metadata", "internal", s.internal, 0, 0, 0, false, true});
  images.size = image_bytes;
  images.reclaimable = std::max<int64_t>(0, image_bytes - image_active_bytes);
  for (const auto& c : report.containers) {
    ++containers.total;
    containers.size += c.size;
    if (c.state.running()) {
      ++containers.active;
    } else {
      containers.reclaimable += c.size;
    }
  }
  for (const auto& v : report.volumes) {
    ++volumes.total;
    volumes.size += v.size;
    if (v.links > 0) {
      ++volumes.active;
    } else {
      volumes.reclaimable += v.size;
    }
  }
  for (const auto& r : report.build_cache) {
    ++cache.total;
    cache.size += r.size;
    if (r.in_use) {
      ++cache.active;
    } else {
      cache.reclaimable += r.size;
    }
  }
  report.rows = {images, containers, volumes, cache};
}

template <typename Fn>
auto with_store(llvm::StringRef root, Fn fn) -> decltype(fn(std::declval<cache::ImageStore&>())) {
  auto lease = cache::StoreLease::acquire_exclusive(root);
  if (!lease) {
    return lease.takeError();
  }
  auto images = cache::ImageStore::open(root);
  if (!images) {
    return images.takeError();
  }
  return fn(**images);
}

}  // namespace

llvm::Expected<DiskUsageReport> system_disk_usage(llvm::StringRef root) {
  auto images = cache::ImageStore::open(root);
  cache::StoreAccess access = cache::StoreAccess::read_write;
  if (!images) {
    llvm::consumeError(images.takeError());
    access = cache::StoreAccess::read_only;
    images = cache::ImageStore::open(root, access);
    if (!images) {
      return images.takeError();
    }
  }
  DiskUsageReport report;
  auto store = cache::measure_store(**images, access);
  if (!store) {
    return store.takeError();
  }
  report.store = std::move(*store);
  auto containers = ContainerStore::open(root);
  if (!containers) {
    return containers.takeError();
  }
  for (const auto& c : report.store.containers) {
    auto spec = containers->load_spec(c.id);
    auto state =
        spec ? containers->load_state(c.id) : llvm::Expected<ContainerState>(spec.takeError());
    if (!state) {
      llvm::consumeError(state.takeError());
      continue;  // being created or removed
    }
    report.containers.push_back({std::move(*spec), *state, c.size});
  }
  // Sizes as the store measured them (du); links from the volumes' users.
  auto users = volume_usage(root);
  if (!users) {
    return users.takeError();
  }
  report.volumes = report.store.volumes;
  for (auto& v : report.volumes) {
    for (const auto& u : *users) {
      if (u.volume.name == v.name) {
        v.links = u.containers;
      }
    }
  }
  fill_rows(report);
  return report;
}

llvm::Expected<cache::GcReport> prune_build_cache(llvm::StringRef root,
                                                  const cache::GcPolicy& policy) {
  return with_store(
      root, [&](cache::ImageStore& images) { return cache::collect_garbage(images, policy); });
}

llvm::Expected<cache::ImagePruneReport> prune_images(llvm::StringRef root,
                                                     const cache::ImagePruneOptions& options) {
  return with_store(
      root, [&](cache::ImageStore& images) { return cache::prune_images(images, options); });
}

namespace {

llvm::Expected<ContainerPruneReport> prune_containers_in(cache::ImageStore& images,
                                                         llvm::StringRef root,
                                                         std::optional<int64_t> until) {
  ContainerPruneReport report;
  auto before = cache::measure_store(images);
  if (!before) {
    return before.takeError();
  }
  auto store = ContainerStore::open(root);
  if (!store) {
    return store.takeError();
  }
  auto ids = store->ids();
  if (!ids) {
    return ids.takeError();
  }
  int64_t now = now_ns();
  for (const std::string& id : *ids) {
    auto spec = store->load_spec(id);
    auto state = spec ? store->current_state(id) : llvm::Expected<ContainerState>(spec.takeError());
    if (!state) {
      llvm::consumeError(state.takeError());
      continue;
    }
    if (state->running() || store->has_runner(id)) {
      continue;
    }
    if (until && now - spec->created_ns < *until * 1000000000) {
      continue;
    }
    if (auto err = store->remove(id)) {
      return with_context(std::move(err), "remove container " + quote(id));
    }
    report.deleted.push_back(id);
  }
  auto after = cache::measure_store(images);
  if (!after) {
    return after.takeError();
  }
  report.reclaimed = before->total - after->total;
  return report;
}

}  // namespace

llvm::Expected<ContainerPruneReport> prune_containers(llvm::StringRef root,
                                                      std::optional<int64_t> until) {
  return with_store(
      root, [&](cache::ImageStore& images) { return prune_containers_in(images, root, until); });
}

llvm::Expected<SystemPruneReport> prune_system(llvm::StringRef root, bool all, bool volumes) {
  if (auto err = fs::make_dirs(root, 0700)) {
    return err;
  }
  return with_store(root, [&](cache::ImageStore& images) -> llvm::Expected<SystemPruneReport> {
    SystemPruneReport report;
    auto before = cache::measure_store(images);
    if (!before) {
      return before.takeError();
    }
    auto containers = prune_containers_in(images, root, std::nullopt);
    if (!containers) {
      return containers.takeError();
    }
    report.containers = std::move(*containers);
    if (volumes) {
      auto removed = prune_volumes(root, all);
      if (!removed) {
        return removed.takeError();
      }
      report.volumes = std::move(removed->removed);
    }
    cache::ImagePruneOptions image_options;
    image_options.all = all;
    auto pruned = cache::prune_images(images, image_options);
    if (!pruned) {
      return pruned.takeError();
    }
    report.images = std::move(*pruned);
    cache::GcPolicy policy;
    policy.all = all;
    auto gc = cache::collect_garbage(images, policy);
    if (!gc) {
      return gc.takeError();
    }
    report.build_cache = std::move(*gc);
    auto after = cache::measure_store(images);
    if (!after) {
      return after.takeError();
    }
    report.reclaimed = before->total - after->total;
    return report;
  });
}

std::string prune_warning(PruneTarget target, bool all, bool volumes) {
  switch (target) {
    case PruneTarget::build_cache:
      return all ? "WARNING! This will remove all build cache. "
                 : "WARNING! This will remove all dangling build cache. ";
    case PruneTarget::images:
      return all ? "WARNING! This will remove all images without at least one container "
                   "associated to them.\n"
                 : "WARNING! This will remove all dangling images.\n";
    case PruneTarget::containers:
      return "WARNING! This will remove all stopped containers.\n";
    case PruneTarget::volumes:  // docker 23+: anonymous ones unless --all
      return all ? "WARNING! This will remove all local volumes not used by at least one "
                   "container.\n"
                 : "WARNING! This will remove anonymous local volumes not used by at least one "
                   "container.\n";
    case PruneTarget::networks:
      return "WARNING! This will remove all custom networks not used by at least one "
             "container.\n";
    case PruneTarget::system:
      break;
  }
  std::string warning = "WARNING! This will remove:\n  - all stopped containers\n";
  if (volumes) {
    warning += "  - all anonymous volumes not used by at least one container\n";
  }
  warning += all ? "  - all images without at least one container associated to them\n"
                   "  - all build cache\n"
                 : "  - all dangling images\n  - unused build cache\n";
  return warning + "\n";
}

std::string deleted_section(const std::string& title, const std::vector<std::string>& lines) {
  if (lines.empty()) {
    return "";
  }
  std::string text = title + "\n";
  for (const auto& line : lines) {
    text += line + "\n";
  }
  return text + "\n";
}

std::string reclaimed_line(int64_t reclaimed) {
  return "Total reclaimed space: " + human_size(std::max<int64_t>(0, reclaimed), 4) + "\n";
}

namespace {

std::string deleted_images(const cache::ImagePruneReport& report) {
  std::vector<std::string> lines;
  for (const auto& name : report.untagged) {
    lines.push_back("untagged: " + oci::familiar_name(name));
  }
  for (const auto& id : report.deleted) {
    lines.push_back("deleted: " + id.str());
  }
  return deleted_section("Deleted Images:", lines);
}

}  // namespace

std::string prune_report_text(const cache::GcReport& report) {
  return deleted_section("Deleted build cache objects:", report.removed) +
         reclaimed_line(report.reclaimed());
}

std::string prune_report_text(const cache::ImagePruneReport& report) {
  return deleted_images(report) + reclaimed_line(report.reclaimed);
}

std::string prune_report_text(const ContainerPruneReport& report) {
  return deleted_section("Deleted Containers:", report.deleted) + reclaimed_line(report.reclaimed);
}

std::string prune_report_text(const SystemPruneReport& report) {
  return deleted_section("Deleted Containers:", report.containers.deleted) +
         deleted_section("Deleted Volumes:", report.volumes) + deleted_images(report.images) +
         deleted_section("Deleted build cache objects:", report.build_cache.removed) +
         reclaimed_line(report.reclaimed);
}

}  // namespace kiln::containers
