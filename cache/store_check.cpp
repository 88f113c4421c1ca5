#include "cache/store_check.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <map>
#include <set>

#include "cache/gc_lock.h"
#include "cache/layer_pack.h"
#include "cache/snapshot.h"
#include "cache/store_usage.h"
#include "support/error.h"
#include "support/fs.h"

namespace kiln::cache {
namespace {

llvm::Expected<std::vector<std::vector<std::string>>> rows(StoreDb& db, const char* sql,
                                                           int columns) {
  std::vector<std::vector<std::string>> out;
  if (auto err = db.for_each_row(sql, [&](const Statement& row) {
        std::vector<std::string> r;
        for (int i = 0; i < columns; ++i) {
          r.push_back(row.text(i));
        }
        out.push_back(std::move(r));
      })) {
    return std::move(err);
  }
  return out;
}

llvm::Error run(StoreDb& db, const char* sql, llvm::StringRef arg) {
  auto st = db.prepare(sql);
  if (!st) {
    return st.takeError();
  }
  return st->bind(1, arg).run();
}

/// Hashes the blob file and compares with its name.
llvm::Expected<bool> blob_matches(const ContentStore& content, const Digest& digest) {
  auto fd = content.open_blob(digest);
  if (!fd) {
    return fd.takeError();
  }
  Sha256 hash;
  std::vector<char> buf(1 << 20);
  while (true) {
    ssize_t n = ::read(*fd, buf.data(), buf.size());
    if (n < 0) {
      int e = errno;
      ::close(*fd);
      return make_io_error("read", content.blob_path(digest), e);
    }
    if (n == 0) {
      break;
    }
    hash.update(llvm::StringRef(buf.data(), static_cast<size_t>(n)));
  }
  ::close(*fd);
  return hash.finish() == digest;
}

class Checker {
 public:
  Checker(ImageStore& images, const CheckOptions& options, CheckReport& report)
      : images_(images), options_(options), report_(report) {}
  llvm::Error check();

 private:
  void problem(std::string object, std::string what, bool repaired) {
    report_.problems.push_back({std::move(object), std::move(what), repaired});
  }
  llvm::Error check_blobs(const StoreUsage& usage);
  llvm::Error check_snapshots(const StoreUsage& usage);
  llvm::Error check_rows(const StoreUsage& usage);

  ImageStore& images_;
  const CheckOptions& options_;
  CheckReport& report_;
};

llvm::Error Checker::check_blobs(const StoreUsage& usage) {
  auto layer_rows = rows(images_.db(), "SELECT blob FROM layer_blobs", 1);
  if (!layer_rows) {
    return layer_rows.takeError();
  }
  std::set<std::string> recorded;
  for (const auto& r : *layer_rows) {
    recorded.insert(r[0]);
  }
  for (const BlobUsage& b : usage.blobs) {
    ++report_.blobs;
    auto ok = blob_matches(images_.content(), b.digest);
    if (!ok) {
      problem("blob " + b.digest.str(), error_message(ok.takeError()), false);
      continue;
    }
    bool orphan = b.images == 0 && b.history == 0 && recorded.count(b.digest.str()) == 0;
    if (*ok && !orphan) {
      continue;
    }
    bool repaired = false;
    if (options_.repair) {
      auto lease = images_.content().lease(LeaseMode::exclusive);
      if (!lease) {
        return lease.takeError();
      }
      if (auto err = images_.content().remove(b.digest)) {
        return err;
      }
      repaired = true;
    }
    problem(
        "blob " + b.digest.str(),
        *ok ? "orphan: no image or layer record refers to it" : "content does not match its digest",
        repaired);
  }
  return llvm::Error::success();
}

llvm::Error Checker::check_snapshots(const StoreUsage& usage) {
  auto store = SnapshotStore::open(images_.content().root());
  if (!store) {
    return store.takeError();
  }
  std::set<Digest> present;
  for (const SnapshotUsage& s : usage.snapshots) {
    present.insert(s.chain);
  }
  std::set<std::string> built;
  if (options_.deep) {
    auto r = rows(images_.db(), "SELECT diff_id FROM layer_blobs WHERE compression = 'none'", 1);
    if (!r) {
      return r.takeError();
    }
    for (const auto& row : *r) {
      built.insert(row[0]);
    }
  }
  std::set<Digest> broken;
  for (const SnapshotUsage& s : usage.snapshots) {
    ++report_.snapshots;
    std::string what;
    auto diff_id = store->diff_id(s.chain);
    auto parent = store->parent(s.chain);
    if (!diff_id || !parent || !fs::exists(store->fs_dir(s.chain))) {
      llvm::consumeError(diff_id ? llvm::Error::success() : diff_id.takeError());
      llvm::consumeError(parent ? llvm::Error::success() : parent.takeError());
      what = "incomplete: its diff_id, parent or fs is missing";
    } else if (*parent && present.count(**parent) == 0) {
      what = "its parent " + (*parent)->str() + " is missing";
    } else if (s.link_base && present.count(*s.link_base) == 0) {
      what = "its link layer " + s.link_base->str() + " is missing";
    } else if ((*parent ? chain_id(**parent, *diff_id) : *diff_id) != s.chain) {
      what = "its chain ID does not match its parent and DiffID";
    } else if (options_.deep && built.count(diff_id->str())) {
      PackOptions pack;
      pack.compression = Compression::none;
      auto packed = pack_layer(store->fs_dir(s.chain), pack,
                               [](llvm::StringRef) { return llvm::Error::success(); });
      if (!packed) {
        what = "cannot be packed: " + error_message(packed.takeError());
      } else if (packed->diff_id != *diff_id) {
        what = "its files give DiffID " + packed->diff_id.str() + ", not the recorded " +
               diff_id->str();
      }
    }
    if (!what.empty()) {
      broken.insert(s.chain);
      problem("snapshot " + s.chain.str(), what, options_.repair);
    }
  }
  if (!options_.repair) {
    return llvm::Error::success();
  }
  // A broken snapshot takes the snapshots over it along.
  bool grew = true;
  while (grew) {
    grew = false;
    for (const SnapshotUsage& s : usage.snapshots) {
      if (broken.count(s.chain) == 0 &&
          ((s.parent && broken.count(*s.parent)) || (s.link_base && broken.count(*s.link_base)))) {
        broken.insert(s.chain);
        problem("snapshot " + s.chain.str(), "lies on a broken snapshot", true);
        grew = true;
      }
    }
  }
  for (const Digest& chain : broken) {
    if (auto err = store->remove(chain)) {
      return err;
    }
  }
  return llvm::Error::success();
}

llvm::Error Checker::check_rows(const StoreUsage& usage) {
  StoreDb& db = images_.db();
  std::set<std::string> blobs, chains;
  for (const BlobUsage& b : usage.blobs) {
    blobs.insert(b.digest.str());
  }
  for (const SnapshotUsage& s : usage.snapshots) {
    chains.insert(s.chain.str());
  }
  auto refs = rows(db, "SELECT manifest, blob FROM blob_refs", 2);
  if (!refs) {
    return refs.takeError();
  }
  std::set<std::string> broken_images;
  for (const auto& r : *refs) {
    if (blobs.count(r[1]) == 0 && broken_images.insert(r[0]).second) {
      problem("image " + r[0], "its blob " + r[1] + " is missing", options_.repair);
    }
  }
  report_.images = usage.images.size();
  if (options_.repair) {
    for (const std::string& manifest : broken_images) {
      auto removed = images_.remove(manifest, Force::yes);
      if (!removed) {
        return removed.takeError();
      }
    }
  }
  auto keys = rows(db, "SELECT key, chain FROM cache_keys", 2);
  if (!keys) {
    return keys.takeError();
  }
  report_.cache_keys = keys->size();
  for (const auto& k : *keys) {
    if (!k[1].empty() && chains.count(k[1]) == 0) {
      problem("cache record " + k[0], "its snapshot " + k[1] + " is missing", options_.repair);
      if (options_.repair) {
        if (auto err = run(db, "DELETE FROM cache_keys WHERE key = ?1", k[0])) {
          return err;
        }
      }
    }
  }
  auto layers = rows(db, "SELECT diff_id, compression, blob FROM layer_blobs", 3);
  if (!layers) {
    return layers.takeError();
  }
  for (const auto& l : *layers) {
    if (blobs.count(l[2]) == 0) {
      problem("layer record " + l[0] + " (" + l[1] + ")", "its blob " + l[2] + " is missing",
              options_.repair);
      if (options_.repair) {
        if (auto err = run(db, "DELETE FROM layer_blobs WHERE blob = ?1", l[2])) {
          return err;
        }
      }
    }
  }
  return llvm::Error::success();
}

llvm::Error Checker::check() {
  auto integrity = images_.db().integrity_check();
  if (!integrity) {
    return integrity.takeError();
  }
  if (*integrity != "ok") {
    problem("database " + images_.db().path(), *integrity, false);
  }
  auto usage = measure_store(images_);
  if (!usage) {
    return usage.takeError();
  }
  if (auto err = check_blobs(*usage)) {
    return err;
  }
  if (auto err = check_snapshots(*usage)) {
    return err;
  }
  // Rows are checked against what is left after the repairs above.
  if (options_.repair) {
    auto again = measure_store(images_);
    if (!again) {
      return again.takeError();
    }
    *usage = std::move(*again);
  }
  return check_rows(*usage);
}

}  // namespace

llvm::Expected<CheckReport> check_store(ImageStore& images, const CheckOptions& options) {
  CheckReport report;
  Checker checker(images, options, report);
  if (auto err = checker.check()) {
    return err;
  }
  return report;
}

llvm::Expected<CheckReport> check_store_at(llvm::StringRef root, const CheckOptions& options) {
  if (auto err = fs::make_dirs(root, 0700)) {
    return err;
  }
  auto lease = StoreLease::acquire_exclusive(root);
  if (!lease) {
    return lease.takeError();
  }
  auto images = ImageStore::open(root);
  if (!images) {
    return images.takeError();
  }
  return check_store(**images, options);
}

size_t problems_left(const CheckReport& report) {
  return std::count_if(report.problems.begin(), report.problems.end(),
                       [](const CheckProblem& p) { return !p.repaired; });
}

std::string check_report_text(const CheckReport& report, const CheckOptions& options) {
  std::string text;
  for (const auto& p : report.problems) {
    text += p.object + ": " + p.problem + (p.repaired ? " (repaired)" : "") + "\n";
  }
  text += "checked " + std::to_string(report.blobs) + " blobs, " +
          std::to_string(report.snapshots) + " snapshots, " + std::to_string(report.images) +
          " images, " + std::to_string(report.cache_keys) + " cache records" +
          (options.deep ? " (deep)" : "") + ": ";
  size_t left = problems_left(report);
  if (report.problems.empty()) {
    return text + "no problems\n";
  }
  if (left == 0) {
    return text + std::to_string(report.problems.size()) + " problems, all repaired\n";
  }
  return text + std::to_string(left) + " problems" +
         (options.repair ? "" : " (run with --repair to fix)") + "\n";
}

}  // namespace kiln::cache
