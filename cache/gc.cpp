#include "cache/gc.h"

#include <sys/statvfs.h>

#include <algorithm>
#include <cerrno>
#include <ctime>
#include <map>
#include <queue>

#include "cache/gc_lock.h"
#include "cache/snapshot.h"
#include "oci/image_config.h"
#include "support/error.h"
#include "support/fs.h"

namespace kiln::cache {
namespace {

enum class Kind { snapshot, blob, dir };

/// A record that may be removed.
struct Candidate {
  Kind kind;
  size_t index;  // into usage.snapshots / blobs / cache_dirs
  std::string id;
  std::string type;
  int64_t last_used = 0;
  int64_t size = 0;
};

bool matches(const GcPolicy& policy, const Candidate& c, int64_t now) {
  if (!policy.filters.types.empty() && policy.filters.types.count(c.type) == 0) {
    return false;
  }
  if (c.kind == Kind::dir && !policy.all && policy.filters.types.count(c.type) == 0) {
    return false;
  }
  if (!policy.filters.ids.empty() &&
      std::none_of(policy.filters.ids.begin(), policy.filters.ids.end(),
                   [&](const std::string& p) { return llvm::StringRef(c.id).startswith(p); })) {
    return false;
  }
  if (policy.filters.until && now - c.last_used < *policy.filters.until) {
    return false;
  }
  return policy.keep_duration <= 0 || now - c.last_used >= policy.keep_duration;
}

struct Later {
  bool operator()(const Candidate* a, const Candidate* b) const {
    return std::tie(a->last_used, a->id) > std::tie(b->last_used, b->id);
  }
};

/// Moves `path` into ROOT/tmp and removes it there (a crash leaves only a temp dir).
llvm::Error remove_dir(const std::string& root, const std::string& path) {
  auto tmp = fs::make_temp_dir(root + "/tmp", "remove-");
  if (!tmp) {
    return tmp.takeError();
  }
  if (::rename(path.c_str(), (*tmp + "/x").c_str()) != 0 && errno != ENOENT) {
    int e = errno;
    llvm::consumeError(fs::remove_all(*tmp));
    return make_io_error("remove", path, e);
  }
  return fs::remove_all(*tmp);
}

llvm::Error run_sql(StoreDb& db, const char* sql, llvm::StringRef arg) {
  auto st = db.prepare(sql);
  if (!st) {
    return st.takeError();
  }
  return st->bind(1, arg).run();
}

class Collector {
 public:
  Collector(ImageStore& images, const GcPolicy& policy, GcReport& report)
      : images_(images), policy_(policy), report_(report) {}

  /// One planning and removal pass over `usage`; returns how many were removed.
  llvm::Expected<size_t> pass(const StoreUsage& usage, int64_t free_bytes);

 private:
  bool limited() const { return policy_.max_used_space > 0 || policy_.min_free_space > 0; }
  bool over(int64_t total, int64_t free_bytes) const {
    return (policy_.max_used_space > 0 && total > policy_.max_used_space) ||
           (policy_.min_free_space > 0 && free_bytes < policy_.min_free_space);
  }
  llvm::Error remove(const StoreUsage& usage, const Candidate& c);

  ImageStore& images_;
  const GcPolicy& policy_;
  GcReport& report_;
};

llvm::Error Collector::remove(const StoreUsage& usage, const Candidate& c) {
  const std::string& root = images_.content().root();
  StoreDb& db = images_.db();
  switch (c.kind) {
    case Kind::snapshot: {
      const Digest& chain = usage.snapshots[c.index].chain;
      auto store = SnapshotStore::open(root);
      if (!store) {
        return store.takeError();
      }
      if (auto err = store->remove(chain)) {
        return err;
      }
      if (auto err = run_sql(db, "DELETE FROM cache_keys WHERE chain = ?1", chain.str())) {
        return err;
      }
      return run_sql(db, "DELETE FROM snapshot_usage WHERE chain = ?1", chain.str());
    }
    case Kind::blob: {
      const Digest& blob = usage.blobs[c.index].digest;
      auto st = db.prepare("SELECT 1 FROM blob_refs WHERE blob = ?1 LIMIT 1");
      if (!st) {
        return st.takeError();
      }
      auto row = st->bind(1, blob.str()).step();
      if (!row) {
        return row.takeError();
      }
      if (*row) {
        return llvm::Error::success();  // an image took it meanwhile
      }
      if (auto err = images_.content().remove(blob)) {
        return err;
      }
      return run_sql(db, "DELETE FROM layer_blobs WHERE blob = ?1", blob.str());
    }
    case Kind::dir: {
      const CacheDirUsage& dir = usage.cache_dirs[c.index];
      if (auto err = remove_dir(root, dir.path)) {
        return err;
      }
      // A history file's file lists go with it, unless an image or another
      // history file names them too.
      for (const Digest& blob : dir.blobs) {
        auto it = std::find_if(usage.blobs.begin(), usage.blobs.end(),
                               [&](const BlobUsage& b) { return b.digest == blob; });
        if (it != usage.blobs.end() && it->images == 0 && it->history == 1) {
          if (auto err = images_.content().remove(blob)) {
            return err;
          }
        }
      }
      return llvm::Error::success();
    }
  }
  return llvm::Error::success();
}

llvm::Expected<size_t> Collector::pass(const StoreUsage& usage, int64_t free_bytes) {
  int64_t now = std::time(nullptr);
  std::set<Digest> kept = usage.image_chains;
  kept.insert(usage.container_chains.begin(), usage.container_chains.end());
  for (const Digest& d : chains_in_use()) {
    add_with_ancestors(usage, d, kept);
  }
  std::vector<Candidate> all;
  for (size_t i = 0; i < usage.snapshots.size(); ++i) {
    const SnapshotUsage& s = usage.snapshots[i];
    if (kept.count(s.chain) == 0) {
      all.push_back({Kind::snapshot, i, cache_record_id(s.chain), "regular", s.last_used, s.size});
    }
  }
  for (size_t i = 0; i < usage.blobs.size(); ++i) {
    const BlobUsage& b = usage.blobs[i];
    if (b.images == 0 && b.history == 0) {
      all.push_back({Kind::blob, i, cache_record_id(b.digest), "regular", b.created, b.size});
    }
  }
  for (size_t i = 0; i < usage.cache_dirs.size(); ++i) {
    const CacheDirUsage& d = usage.cache_dirs[i];
    all.push_back({Kind::dir, i, d.id.substr(0, 12), d.type, d.last_used, d.size});
  }
  // A snapshot goes only after every snapshot over it (its dependents).
  std::map<Digest, int> remaining;
  std::map<Digest, const Candidate*> by_chain;
  for (const SnapshotUsage& s : usage.snapshots) {
    remaining[s.chain] = s.dependents;
  }
  std::priority_queue<const Candidate*, std::vector<const Candidate*>, Later> leaves;
  for (const Candidate& c : all) {
    if (!matches(policy_, c, now)) {
      continue;
    }
    if (c.kind == Kind::snapshot) {
      by_chain[usage.snapshots[c.index].chain] = &c;
      if (remaining[usage.snapshots[c.index].chain] > 0) {
        continue;
      }
    }
    leaves.push(&c);
  }
  int64_t total = usage.total;
  size_t removed = 0;
  llvm::Expected<BlobLease> lease = images_.content().lease(LeaseMode::exclusive);
  if (!lease) {
    return lease.takeError();
  }
  while (!leaves.empty()) {
    const Candidate* c = leaves.top();
    leaves.pop();
    if (limited() && !over(total, free_bytes)) {
      break;
    }
    if (policy_.reserved_space > 0 && total - c->size < policy_.reserved_space) {
      break;
    }
    if (auto err = remove(usage, *c)) {
      return err;
    }
    ++removed;
    report_.removed.push_back(c->id);
    total -= c->size;
    free_bytes += c->size;
    if (c->kind != Kind::snapshot) {
      continue;
    }
    const SnapshotUsage& s = usage.snapshots[c->index];
    for (const auto& dep : {s.parent, s.link_base}) {
      if (dep && --remaining[*dep] == 0) {
        auto it = by_chain.find(*dep);
        if (it != by_chain.end()) {
          leaves.push(it->second);
        }
      }
    }
  }
  return removed;
}

/// Removes the rows that name snapshots or blobs no longer there.
void drop_dangling_rows(ImageStore& images, const StoreUsage& usage) {
  std::set<std::string> chains, blobs;
  for (const SnapshotUsage& s : usage.snapshots) {
    chains.insert(s.chain.str());
  }
  for (const BlobUsage& b : usage.blobs) {
    blobs.insert(b.digest.str());
  }
  StoreDb& db = images.db();
  std::vector<std::pair<const char*, std::string>> doomed;
  llvm::consumeError(db.for_each_row(
      "SELECT DISTINCT chain FROM cache_keys WHERE chain != ''", [&](const Statement& row) {
        if (chains.count(row.text(0)) == 0) {
          doomed.emplace_back("DELETE FROM cache_keys WHERE chain = ?1", row.text(0));
        }
      }));
  llvm::consumeError(
      db.for_each_row("SELECT DISTINCT blob FROM layer_blobs", [&](const Statement& row) {
        if (blobs.count(row.text(0)) == 0) {
          doomed.emplace_back("DELETE FROM layer_blobs WHERE blob = ?1", row.text(0));
        }
      }));
  for (const auto& [sql, arg] : doomed) {
    llvm::consumeError(run_sql(db, sql, arg));
  }
}

/// Removes the oldest dangling image that no container uses; false when none.
llvm::Expected<bool> remove_oldest_dangling(ImageStore& images, const StoreUsage& usage,
                                            GcReport& report) {
  const ImageUsage* oldest = nullptr;
  for (const ImageUsage& image : usage.images) {
    if (image.record.names.empty() && image.containers == 0 &&
        (!oldest || image.record.added < oldest->record.added)) {
      oldest = &image;
    }
  }
  if (!oldest) {
    return false;
  }
  auto removed = images.remove(oldest->record.manifest.str(), Force::yes);
  if (!removed) {
    return removed.takeError();
  }
  report.removed_images.insert(report.removed_images.end(), removed->deleted.begin(),
                               removed->deleted.end());
  return true;
}

}  // namespace

std::string cache_record_id(const Digest& digest) { return digest.short_hex(); }

llvm::Expected<std::pair<int64_t, int64_t>> fs_space(llvm::StringRef path) {
  struct statvfs st {};
  if (::statvfs(path.str().c_str(), &st) != 0) {
    return make_io_error("statvfs", path, errno);
  }
  return std::make_pair(static_cast<int64_t>(st.f_bavail) * static_cast<int64_t>(st.f_frsize),
                        static_cast<int64_t>(st.f_blocks) * static_cast<int64_t>(st.f_frsize));
}

llvm::Expected<GcReport> collect_garbage(ImageStore& images, const GcPolicy& policy) {
  GcReport report;
  Collector collector(images, policy, report);
  const std::string& root = images.content().root();
  bool limited = policy.max_used_space > 0 || policy.min_free_space > 0;
  for (int round = 0; round < 10000; ++round) {  // until under the limits or stuck
    auto usage = measure_store(images);
    if (!usage) {
      return usage.takeError();
    }
    if (round == 0) {
      report.total_before = usage->total;
      drop_dangling_rows(images, *usage);
    }
    report.total_after = usage->total;
    auto space = fs_space(root);
    if (!space) {
      return space.takeError();
    }
    bool over = (policy.max_used_space > 0 && usage->total > policy.max_used_space) ||
                (policy.min_free_space > 0 && space->first < policy.min_free_space);
    if (limited && !over) {
      break;
    }
    if (round > 0 && !limited) {
      break;
    }
    auto removed = collector.pass(*usage, space->first);
    if (!removed) {
      return removed.takeError();
    }
    if (*removed == 0) {
      if (!limited || !policy.dangling_images) {
        break;
      }
      auto image = remove_oldest_dangling(images, *usage, report);
      if (!image) {
        return image.takeError();
      }
      if (!*image) {
        break;
      }
    }
  }
  auto after = measure_store(images);
  if (!after) {
    return after.takeError();
  }
  drop_dangling_rows(images, *after);
  report.total_after = after->total;
  return report;
}

namespace {

bool label_matches(const std::map<std::string, std::string>& labels,
                   const ImagePruneOptions::Label& filter) {
  auto it = labels.find(filter.key);
  bool found = it != labels.end() && (!filter.value || it->second == *filter.value);
  return filter.negate ? !found : found;
}

}  // namespace

llvm::Expected<ImagePruneReport> prune_images(ImageStore& images,
                                              const ImagePruneOptions& options) {
  auto before = measure_store(images);
  if (!before) {
    return before.takeError();
  }
  ImagePruneReport report;
  int64_t now = std::time(nullptr);
  std::set<Digest> done;
  for (const ImageUsage& image : before->images) {
    const ImageRecord& r = image.record;
    if (image.containers > 0 || (!options.all && !r.names.empty()) || done.count(r.config)) {
      continue;
    }
    if (options.until && r.created != kUnknownTime && now - r.created < *options.until) {
      continue;
    }
    if (!options.labels.empty()) {
      auto json = images.content().read(r.config);
      if (!json) {
        return json.takeError();
      }
      auto config = oci::parse_image_config(*json);
      if (!config) {
        return config.takeError();
      }
      if (!std::all_of(options.labels.begin(), options.labels.end(),
                       [&](const auto& f) { return label_matches(config->config.labels, f); })) {
        continue;
      }
    }
    auto removed = images.remove(r.manifest.str(), Force::yes);
    if (!removed) {
      return removed.takeError();
    }
    done.insert(r.config);
    report.untagged.insert(report.untagged.end(), removed->untagged.begin(),
                           removed->untagged.end());
    report.deleted.insert(report.deleted.end(), removed->deleted.begin(), removed->deleted.end());
  }
  auto after = measure_store(images);
  if (!after) {
    return after.takeError();
  }
  report.reclaimed = before->total - after->total;
  return report;
}

}  // namespace kiln::cache
