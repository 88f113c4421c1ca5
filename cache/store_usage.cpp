#include "cache/store_usage.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <map>
#include <memory>
#include <unordered_map>

#include "cache/snapshot.h"
#include "cache/tree_size.h"
#include "oci/image_config.h"
#include "support/error.h"
#include "support/fs.h"

namespace kiln::cache {
namespace {

using detail::add_entry;
using detail::charge;
using detail::decode_shared;
using detail::encode_shared;
using detail::is_hex64;
using detail::list_dir;
using detail::Seen;
using detail::tree_size;
using detail::tree_size_top;
using detail::TreeSize;

/// One remembered snapshot_usage row.
struct SnapshotRow {
  uint64_t ino = 0;
  std::string parent, link;
  int64_t created = 0;
  TreeSize tree;
};

llvm::Expected<std::map<std::string, SnapshotRow>> load_snapshot_rows(StoreDb& db) {
  std::map<std::string, SnapshotRow> rows;
  if (auto err = db.for_each_row(
          "SELECT chain, ino, parent, link, created, size, shared FROM snapshot_usage",
          [&](const Statement& row) {
            SnapshotRow r;
            r.ino = static_cast<uint64_t>(row.integer(1));
            r.parent = row.text(2);
            r.link = row.text(3);
            r.created = row.integer(4);
            r.tree.unique = row.integer(5);
            r.tree.shared = decode_shared(row.text(6));
            rows[row.text(0)] = std::move(r);
          })) {
    return err;
  }
  return rows;
}

/// Reads what a snapshot directory says about itself.
SnapshotRow read_snapshot(const std::string& dir, uint64_t ino, dev_t dev) {
  SnapshotRow r;
  r.ino = ino;
  if (auto text = fs::read_file(dir + "/parent")) {
    r.parent = llvm::StringRef(*text).trim().str();
  } else {
    llvm::consumeError(text.takeError());
  }
  char target[512];
  ssize_t n = ::readlink((dir + "/fs").c_str(), target, sizeof(target) - 1);
  if (n > 0) {
    // "../<hex>/fs": a link layer laid over a base.
    llvm::StringRef t(target, static_cast<size_t>(n));
    t.consume_front("../");
    t.consume_back("/fs");
    if (is_hex64(t)) {
      r.link = "sha256:" + t.str();
    }
  }
  struct stat st {};
  if (::stat((dir + "/diff_id").c_str(), &st) == 0) {
    r.created = st.st_mtim.tv_sec;
  }
  r.tree = tree_size(dir, dev);
  return r;
}

std::optional<Digest> digest_or_none(llvm::StringRef text) {
  if (text.empty()) {
    return std::nullopt;
  }
  auto d = Digest::parse(text);
  if (!d) {
    llvm::consumeError(d.takeError());
    return std::nullopt;
  }
  return *d;
}

/// The chain IDs of the image config `json`.
std::vector<Digest> config_chains(llvm::StringRef json) {
  auto config = oci::parse_image_config(json);
  if (!config) {
    llvm::consumeError(config.takeError());
    return {};
  }
  return chain_ids(config->diff_ids);
}

llvm::Error measure_snapshots(StoreDb& db, StoreAccess access, const std::string& root, dev_t dev,
                              Seen& seen, StoreUsage& usage) {
  auto rows = load_snapshot_rows(db);
  if (!rows) {
    return rows.takeError();
  }
  std::string dir = root + "/snapshots";
  usage.internal += charge(tree_size_top(dir, dev), dev, seen);
  std::set<std::string> present;
  bool writing = access == StoreAccess::read_write;
  bool began = false;
  for (const auto& [name, ino] : list_dir(dir)) {
    std::string path = dir + "/" + name;
    if (!is_hex64(name)) {
      usage.internal += charge(tree_size(path, dev), dev, seen);
      continue;
    }
    std::string chain = "sha256:" + name;
    present.insert(chain);
    auto it = rows->find(chain);
    if (it == rows->end() || it->second.ino != ino) {
      SnapshotRow r = read_snapshot(path, ino, dev);
      if (writing && fs::exists(path + "/diff_id")) {
        if (!began) {
          began = !db.begin();
        }
        auto st = db.prepare(
            "INSERT OR REPLACE INTO snapshot_usage (chain, ino, parent, link, created, size, "
            "shared) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)");
        if (st) {
          llvm::consumeError(st->bind(1, chain)
                                 .bind(2, static_cast<int64_t>(ino))
                                 .bind(3, r.parent)
                                 .bind(4, r.link)
                                 .bind(5, r.created)
                                 .bind(6, r.tree.unique)
                                 .bind(7, encode_shared(r.tree.shared))
                                 .run());
        } else {
          llvm::consumeError(st.takeError());
        }
      }
      it = rows->insert_or_assign(chain, std::move(r)).first;
    }
    auto d = Digest::parse(chain);
    if (!d) {
      llvm::consumeError(d.takeError());
      continue;
    }
    SnapshotUsage s;
    s.chain = *d;
    s.parent = digest_or_none(it->second.parent);
    s.link_base = digest_or_none(it->second.link);
    s.created = it->second.created;
    s.last_used = s.created;
    s.size = charge(it->second.tree, dev, seen);
    usage.snapshots.push_back(std::move(s));
  }
  if (writing) {
    for (const auto& [chain, row] : *rows) {
      if (present.count(chain) == 0) {
        if (!began) {
          began = !db.begin();
        }
        if (auto st = db.prepare("DELETE FROM snapshot_usage WHERE chain = ?1")) {
          llvm::consumeError(st->bind(1, chain).run());
        } else {
          llvm::consumeError(st.takeError());
        }
      }
    }
  }
  if (began) {
    if (auto err = db.commit()) {
      db.rollback();
      llvm::consumeError(std::move(err));
    }
  }
  return llvm::Error::success();
}

llvm::Error measure_blobs(ImageStore& images, const std::string& root, dev_t dev, Seen& seen,
                          StoreUsage& usage) {
  std::unordered_map<std::string, int> refs;
  if (auto err = images.db().for_each_row(
          "SELECT blob, COUNT(*) FROM blob_refs GROUP BY blob",
          [&](const Statement& row) { refs[row.text(0)] = static_cast<int>(row.integer(1)); })) {
    return err;
  }
  usage.internal += charge(tree_size_top(root + "/blobs", dev), dev, seen);
  for (const auto& [name, ino] : list_dir(root + "/blobs")) {
    if (name != "sha256") {
      usage.internal += charge(tree_size(root + "/blobs/" + name, dev), dev, seen);
    }
  }
  std::string dir = root + "/blobs/sha256";
  usage.internal += charge(tree_size_top(dir, dev), dev, seen);
  int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  for (const auto& [name, ino] : list_dir(dir)) {
    struct stat s {};
    if (dfd < 0 || ::fstatat(dfd, name.c_str(), &s, AT_SYMLINK_NOFOLLOW) != 0 || s.st_dev != dev) {
      continue;
    }
    TreeSize t;
    add_entry(s, t);
    if (!is_hex64(name)) {
      usage.internal += charge(t, dev, seen);
      continue;
    }
    BlobUsage b;
    b.digest = *Digest::from_hex(name);
    b.size = charge(t, dev, seen);
    b.created = s.st_mtim.tv_sec;
    auto it = refs.find(b.digest.str());
    b.images = it == refs.end() ? 0 : it->second;
    usage.blobs.push_back(std::move(b));
  }
  if (dfd >= 0) {
    ::close(dfd);
  }
  return llvm::Error::success();
}

llvm::Error add_cache_keys(StoreDb& db, StoreUsage& usage) {
  std::map<Digest, SnapshotUsage*> by_chain;
  for (SnapshotUsage& s : usage.snapshots) {
    by_chain[s.chain] = &s;
  }
  if (auto err =
          db.for_each_row("SELECT key, chain, created, last_used, use_count FROM cache_keys",
                          [&](const Statement& row) {
                            auto chain = digest_or_none(row.text(1));
                            auto it = chain ? by_chain.find(*chain) : by_chain.end();
                            if (it == by_chain.end()) {
                              return;
                            }
                            SnapshotUsage& s = *it->second;
                            s.keys.push_back(row.text(0));
                            s.last_used = std::max({s.last_used, row.integer(2), row.integer(3)});
                            s.use_count += row.integer(4);
                          })) {
    return err;
  }
  for (SnapshotUsage& s : usage.snapshots) {
    for (const auto& dep : {s.parent, s.link_base}) {
      auto it = dep ? by_chain.find(*dep) : by_chain.end();
      if (it != by_chain.end()) {
        ++it->second->dependents;
      }
    }
  }
  return llvm::Error::success();
}

/// The chains of the config blob `config`, remembered in config_chains.
std::vector<Digest> image_chains(ImageStore& images, StoreAccess access, const Digest& config,
                                 std::map<std::string, std::string>& known) {
  std::vector<Digest> out;
  auto it = known.find(config.str());
  if (it != known.end()) {
    llvm::StringRef text = it->second;
    while (!text.empty()) {
      auto [item, rest] = text.split(' ');
      text = rest;
      if (auto d = digest_or_none(item)) {
        out.push_back(*d);
      }
    }
    return out;
  }
  auto json = images.content().read(config);
  if (!json) {
    llvm::consumeError(json.takeError());
    return out;
  }
  out = config_chains(*json);
  std::string text;
  for (const Digest& d : out) {
    text += (text.empty() ? "" : " ") + d.str();
  }
  if (access == StoreAccess::read_write) {
    if (auto st = images.db().prepare(
            "INSERT OR REPLACE INTO config_chains (config, chains) VALUES (?1, ?2)")) {
      llvm::consumeError(st->bind(1, config.str()).bind(2, text).run());
    } else {
      llvm::consumeError(st.takeError());
    }
  }
  known[config.str()] = text;
  return out;
}

llvm::Error measure_images(ImageStore& images, StoreAccess access, StoreUsage& usage) {
  auto list = images.list();
  if (!list) {
    return list.takeError();
  }
  std::map<std::string, std::string> known;
  if (auto err = images.db().for_each_row(
          "SELECT config, chains FROM config_chains",
          [&](const Statement& row) { known[row.text(0)] = row.text(1); })) {
    return err;
  }
  std::unordered_map<std::string, std::vector<std::string>> blobs_of;
  if (auto err = images.db().for_each_row(
          "SELECT manifest, blob FROM blob_refs",
          [&](const Statement& row) { blobs_of[row.text(0)].push_back(row.text(1)); })) {
    return err;
  }
  std::unordered_map<std::string, const BlobUsage*> blob_by_digest;
  for (const BlobUsage& b : usage.blobs) {
    blob_by_digest[b.digest.str()] = &b;
  }
  std::map<Digest, SnapshotUsage*> snap_by_chain;
  for (SnapshotUsage& s : usage.snapshots) {
    snap_by_chain[s.chain] = &s;
  }
  for (ImageRecord& record : *list) {
    ImageUsage image;
    image.chains = image_chains(images, access, record.config, known);
    image.record = std::move(record);
    for (const Digest& chain : image.chains) {
      auto it = snap_by_chain.find(chain);
      if (it != snap_by_chain.end()) {
        ++it->second->images;
      }
    }
    usage.images.push_back(std::move(image));
  }
  for (ImageUsage& image : usage.images) {
    for (const std::string& blob : blobs_of[image.record.manifest.str()]) {
      auto it = blob_by_digest.find(blob);
      if (it != blob_by_digest.end()) {
        image.size += it->second->size;
        image.shared_size += it->second->images > 1 ? it->second->size : 0;
      }
    }
    for (const Digest& chain : image.chains) {
      auto it = snap_by_chain.find(chain);
      if (it != snap_by_chain.end()) {
        image.size += it->second->size;
        image.shared_size += it->second->images > 1 ? it->second->size : 0;
      }
    }
  }
  return llvm::Error::success();
}

void measure_containers(const std::string& root, dev_t dev, Seen& seen, StoreUsage& usage) {
  std::string dir = root + "/containers";
  usage.internal += charge(tree_size_top(dir, dev), dev, seen);
  for (const auto& [name, ino] : list_dir(dir)) {
    std::string path = dir + "/" + name;
    if (!is_hex64(name)) {
      usage.internal += charge(tree_size(path, dev), dev, seen);
      continue;
    }
    ContainerUsage c;
    c.id = name;
    if (auto json = fs::read_file(path + "/image.json")) {
      c.image_id = Digest::of(*json);
      c.chains = config_chains(*json);
    } else {
      llvm::consumeError(json.takeError());
    }
    c.size = charge(tree_size(path, dev), dev, seen);
    usage.containers.push_back(std::move(c));
  }
}

/// The blobs a step history file names ("files": "sha256:..."), charged to it.
void add_history_blobs(CacheDirUsage& history, StoreUsage& usage) {
  auto text = fs::read_file(history.path);
  if (!text) {
    llvm::consumeError(text.takeError());
    return;
  }
  static const llvm::StringRef kKey = "\"files\":\"sha256:";
  std::set<std::string> named;
  llvm::StringRef rest = *text;
  for (size_t at = rest.find(kKey); at != llvm::StringRef::npos; at = rest.find(kKey)) {
    rest = rest.drop_front(at + kKey.size());
    if (rest.size() >= 64 && is_hex64(rest.take_front(64))) {
      named.insert(rest.take_front(64).str());
    }
  }
  for (BlobUsage& b : usage.blobs) {
    if (named.count(b.digest.hex()) > 0) {
      ++b.history;
      history.blobs.push_back(b.digest);
      if (b.history == 1 && b.images == 0) {
        history.size += b.size;  // and so not in the total as a blob
      }
    }
  }
}

void measure_cache_dirs(const std::string& root, dev_t dev, Seen& seen, StoreUsage& usage) {
  // ROOT/git holds the git sources' mirrors (solver/ops/git_source.cpp), one bare
  // repository per remote beside its lock file: BuildKit's source.git.checkout.
  for (auto [sub, type] :
       {std::pair{"cache-mounts", "exec.cachemount"}, std::pair{"history", "internal"},
        std::pair{"git", "source.git.checkout"}}) {
    std::string dir = root + "/" + sub;
    usage.internal += charge(tree_size_top(dir, dev), dev, seen);
    for (const auto& [name, ino] : list_dir(dir)) {
      if (llvm::StringRef(type) == "source.git.checkout" &&
          llvm::StringRef(name).endswith(".lock")) {
        continue;  // a mirror's lock file: counted with the directory
      }
      CacheDirUsage c;
      c.type = type;
      c.id = name;
      c.path = dir + "/" + name;
      struct stat st {};
      if (::lstat(c.path.c_str(), &st) == 0) {
        c.last_used = st.st_mtim.tv_sec;
      }
      c.size = charge(tree_size(c.path, dev), dev, seen);
      if (c.type == "internal") {
        add_history_blobs(c, usage);
      }
      usage.cache_dirs.push_back(std::move(c));
    }
  }
}

}  // namespace

namespace {

using SnapshotIndex = std::map<Digest, const SnapshotUsage*>;

void add_ancestors(const SnapshotIndex& by_chain, const Digest& snapshot, std::set<Digest>& out) {
  std::vector<Digest> todo{snapshot};
  while (!todo.empty()) {
    Digest d = todo.back();
    todo.pop_back();
    if (!out.insert(d).second) {
      continue;
    }
    auto it = by_chain.find(d);
    if (it == by_chain.end()) {
      continue;
    }
    for (const auto& dep : {it->second->parent, it->second->link_base}) {
      if (dep) {
        todo.push_back(*dep);
      }
    }
  }
}

}  // namespace

void add_with_ancestors(const StoreUsage& usage, const Digest& snapshot, std::set<Digest>& out) {
  SnapshotIndex by_chain;
  for (const SnapshotUsage& s : usage.snapshots) {
    by_chain[s.chain] = &s;
  }
  add_ancestors(by_chain, snapshot, out);
}

int64_t disk_usage(llvm::StringRef path, std::set<std::pair<uint64_t, uint64_t>>& seen) {
  struct stat st {};
  if (::lstat(path.str().c_str(), &st) != 0) {
    return 0;
  }
  return charge(tree_size(path.str(), st.st_dev), st.st_dev, seen);
}

llvm::Expected<StoreUsage> measure_store(ImageStore& images, StoreAccess access) {
  const std::string& root = images.content().root();
  struct stat st {};
  if (::stat(root.c_str(), &st) != 0) {
    return make_io_error("stat store", root, errno);
  }
  dev_t dev = st.st_dev;
  Seen seen;
  StoreUsage usage;
  usage.internal += charge(tree_size_top(root, dev), dev, seen);
  if (auto err = measure_blobs(images, root, dev, seen, usage)) {
    return err;
  }
  if (auto err = measure_snapshots(images.db(), access, root, dev, seen, usage)) {
    return err;
  }
  if (auto err = add_cache_keys(images.db(), usage)) {
    return err;
  }
  if (auto err = measure_images(images, access, usage)) {
    return err;
  }
  measure_containers(root, dev, seen, usage);
  measure_cache_dirs(root, dev, seen, usage);
  std::map<Digest, SnapshotUsage*> snap_by_chain;
  for (SnapshotUsage& s : usage.snapshots) {
    snap_by_chain[s.chain] = &s;
  }
  SnapshotIndex index;
  for (const SnapshotUsage& s : usage.snapshots) {
    index[s.chain] = &s;
  }
  for (const ContainerUsage& c : usage.containers) {
    for (const Digest& chain : c.chains) {
      auto it = snap_by_chain.find(chain);
      if (it != snap_by_chain.end()) {
        ++it->second->containers;
      }
    }
    for (ImageUsage& image : usage.images) {
      if (c.image_id && image.record.config == *c.image_id) {
        ++image.containers;
      }
    }
    if (!c.chains.empty()) {
      add_ancestors(index, c.chains.back(), usage.container_chains);
    }
  }
  for (const ImageUsage& image : usage.images) {
    if (!image.chains.empty()) {
      add_ancestors(index, image.chains.back(), usage.image_chains);
    }
  }
  // Volumes: each directory of ROOT/volumes; the directory itself and its lock
  // are the store's.
  usage.internal += charge(tree_size_top(root + "/volumes", dev), dev, seen);
  for (const auto& [name, ino] : list_dir(root + "/volumes")) {
    std::string path = root + "/volumes/" + name;
    struct stat st {};
    if (::lstat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) {
      usage.volumes.push_back({name, charge(tree_size(path, dev), dev, seen), 0});
    } else {
      usage.internal += charge(tree_size(path, dev), dev, seen);
    }
  }
  // Everything else at the top: kiln.db, locks, the stat cache, tmp/, runc/.
  for (const auto& [name, ino] : list_dir(root)) {
    static const std::set<std::string> kMeasured = {"blobs",        "snapshots", "containers",
                                                    "cache-mounts", "history",   "volumes"};
    if (kMeasured.count(name) == 0) {
      usage.internal += charge(tree_size(root + "/" + name, dev), dev, seen);
    }
  }
  int64_t total = usage.internal;
  for (const auto& v : usage.volumes) {
    total += v.size;
  }
  for (const auto& b : usage.blobs) {
    total += b.images == 0 && b.history > 0 ? 0 : b.size;  // else in a history file's size
  }
  for (const auto& s : usage.snapshots) {
    total += s.size;
  }
  for (const auto& c : usage.containers) {
    total += c.size;
  }
  for (const auto& c : usage.cache_dirs) {
    total += c.size;
  }
  usage.total = total;
  return usage;
}

}  // namespace kiln::cache
