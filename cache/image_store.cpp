#include "cache/image_store.h"

#include <algorithm>
#include <cctype>
#include <ctime>
#include <set>

#include "oci/image_config.h"
#include "oci/media_types.h"
#include "oci/reference.h"
#include "oci/types.h"
#include "support/error.h"

namespace kiln::cache {

namespace {

constexpr llvm::StringLiteral kSelectManifest =
    "SELECT digest, config, created, size, added FROM manifests ";

llvm::Error no_such_image(llvm::StringRef text) {
  return make_error("no such image: " + quote(text));
}

bool is_hex(llvm::StringRef text) {
  return !text.empty() && std::all_of(text.begin(), text.end(), [](char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
  });
}

int64_t now_seconds() { return static_cast<int64_t>(::time(nullptr)); }

// Rolls back the open transaction unless dismissed.
class RollbackGuard {
 public:
  explicit RollbackGuard(StoreDb& db) : db_(&db) {}
  ~RollbackGuard() {
    if (db_ != nullptr) {
      db_->rollback();
    }
  }
  llvm::Error commit() {
    StoreDb* db = db_;
    db_ = nullptr;
    return db->commit();
  }

 private:
  StoreDb* db_;
};

// The repository part of a full name ("docker.io/library/a:1" -> "docker.io/library/a").
std::string repository_of(llvm::StringRef name) {
  auto ref = oci::parse_named(name);
  if (!ref) {
    llvm::consumeError(ref.takeError());
    return name.str();
  }
  return ref->name();
}

// The blobs a manifest needs: itself, its config and its (stored) layers.
struct ManifestFacts {
  Digest config;
  int64_t created = kUnknownTime;
  int64_t size = 0;
  std::vector<Digest> blobs;
};

llvm::Expected<ManifestFacts> read_manifest_facts(const ContentStore& content,
                                                  const Digest& digest) {
  auto bytes = content.read(digest);
  if (!bytes) {
    return bytes.takeError();
  }
  auto manifest = oci::parse_manifest(*bytes);
  if (!manifest) {
    return with_context(manifest.takeError(), "manifest " + quote(digest.str()));
  }
  ManifestFacts facts;
  facts.config = manifest->config.digest;
  facts.blobs.push_back(digest);
  auto config_bytes = content.read(manifest->config.digest);
  if (!config_bytes) {
    return config_bytes.takeError();
  }
  facts.blobs.push_back(manifest->config.digest);
  facts.size = static_cast<int64_t>(config_bytes->size());
  if (auto config = oci::parse_image_config(*config_bytes)) {
    if (auto created = parse_rfc3339(config->created)) {
      facts.created = *created;
    } else {
      llvm::consumeError(created.takeError());
    }
  } else {
    return with_context(config.takeError(), "config " + quote(manifest->config.digest.str()));
  }
  for (const oci::Descriptor& layer : manifest->layers) {
    if (!content.exists(layer.digest)) {
      if (oci::is_foreign_layer(layer.media_type)) {
        continue;
      }
      return make_error("blob " + quote(layer.digest.str()) + " not found");
    }
    facts.blobs.push_back(layer.digest);
    facts.size += layer.size;
  }
  return facts;
}

}  // namespace

llvm::Expected<std::string> normalize_image_name(llvm::StringRef text) {
  auto ref = oci::parse_reference(text);
  if (!ref) {
    return ref.takeError();
  }
  return ref->str();
}

llvm::Expected<int64_t> parse_rfc3339(llvm::StringRef text) {
  auto bad = [&]() { return make_error("invalid time " + quote(text)); };
  if (text.size() < 20 || text[4] != '-' || text[7] != '-' ||
      (text[10] != 'T' && text[10] != 't') || text[13] != ':' || text[16] != ':') {
    return bad();
  }
  auto num = [&](size_t pos, size_t len, int& out) {
    return !text.substr(pos, len).getAsInteger(10, out);
  };
  struct tm tm {};
  int year, month, day;
  if (!num(0, 4, year) || !num(5, 2, month) || !num(8, 2, day) || !num(11, 2, tm.tm_hour) ||
      !num(14, 2, tm.tm_min) || !num(17, 2, tm.tm_sec)) {
    return bad();
  }
  tm.tm_year = year - 1900;
  tm.tm_mon = month - 1;
  tm.tm_mday = day;
  llvm::StringRef rest = text.substr(19);
  if (rest.consume_front(".")) {
    size_t digits = 0;
    while (digits < rest.size() && std::isdigit(static_cast<unsigned char>(rest[digits]))) {
      ++digits;
    }
    if (digits == 0) {
      return bad();
    }
    rest = rest.drop_front(digits);
  }
  int64_t offset = 0;
  if (rest == "Z" || rest == "z") {
    offset = 0;
  } else if (rest.size() == 6 && (rest[0] == '+' || rest[0] == '-') && rest[3] == ':') {
    int hours, minutes;
    if (!num(text.size() - 5, 2, hours) || !num(text.size() - 2, 2, minutes)) {
      return bad();
    }
    offset = (hours * 3600 + minutes * 60) * (rest[0] == '-' ? -1 : 1);
  } else {
    return bad();
  }
  return static_cast<int64_t>(::timegm(&tm)) - offset;
}

llvm::Expected<std::unique_ptr<ImageStore>> ImageStore::open(llvm::StringRef root,
                                                             StoreAccess access) {
  auto content = ContentStore::open(root);
  if (!content) {
    return content.takeError();
  }
  std::string path = (root + "/kiln.db").str();
  auto db = access == StoreAccess::read_only ? StoreDb::open_read_only(path) : StoreDb::open(path);
  if (!db) {
    return db.takeError();
  }
  return std::unique_ptr<ImageStore>(new ImageStore(std::move(*content), std::move(*db)));
}

llvm::Expected<std::vector<std::string>> ImageStore::names_of(const Digest& manifest) {
  auto stmt = db_->prepare("SELECT name FROM image_names WHERE manifest = ?1 ORDER BY name");
  if (!stmt) {
    return stmt.takeError();
  }
  stmt->bind(1, manifest.str());
  std::vector<std::string> names;
  while (true) {
    auto row = stmt->step();
    if (!row) {
      return row.takeError();
    }
    if (!*row) {
      return names;
    }
    names.push_back(stmt->text(0));
  }
}

llvm::Expected<std::vector<ImageRecord>> ImageStore::query(llvm::StringRef where,
                                                           llvm::StringRef arg) {
  auto stmt = db_->prepare(
      (kSelectManifest + where + " ORDER BY created DESC, added DESC, rowid DESC").str());
  if (!stmt) {
    return stmt.takeError();
  }
  if (!arg.empty()) {
    stmt->bind(1, arg);
  }
  std::vector<ImageRecord> out;
  while (true) {
    auto row = stmt->step();
    if (!row) {
      return row.takeError();
    }
    if (!*row) {
      break;
    }
    auto manifest = Digest::parse(stmt->text(0));
    auto config = Digest::parse(stmt->text(1));
    if (!manifest || !config) {
      llvm::consumeError(manifest.takeError());
      llvm::consumeError(config.takeError());
      return make_error("database: invalid digest in table 'manifests'");
    }
    ImageRecord record{*manifest,        *config,          stmt->integer(2),
                       stmt->integer(3), stmt->integer(4), {}};
    out.push_back(std::move(record));
  }
  for (ImageRecord& record : out) {
    auto names = names_of(record.manifest);
    if (!names) {
      return names.takeError();
    }
    record.names = std::move(*names);
  }
  return out;
}

llvm::Expected<std::vector<ImageRecord>> ImageStore::list() { return query("", ""); }

llvm::Expected<ImageRecord> ImageStore::get(const Digest& manifest) {
  auto found = query("WHERE digest = ?1", manifest.str());
  if (!found) {
    return found.takeError();
  }
  if (found->empty()) {
    return no_such_image(manifest.str());
  }
  return std::move(found->front());
}

llvm::Expected<ImageRecord> ImageStore::add(const Digest& manifest,
                                            llvm::ArrayRef<std::string> names) {
  auto facts = read_manifest_facts(content_, manifest);
  if (!facts) {
    return facts.takeError();
  }
  if (auto err = db_->begin()) {
    return err;
  }
  RollbackGuard guard(*db_);
  auto insert = db_->prepare(
      "INSERT OR IGNORE INTO manifests(digest, config, created, size, added) "
      "VALUES (?1, ?2, ?3, ?4, ?5)");
  if (!insert) {
    return insert.takeError();
  }
  insert->bind(1, manifest.str()).bind(2, facts->config.str()).bind(3, facts->created);
  insert->bind(4, facts->size).bind(5, now_seconds());
  if (auto err = insert->run()) {
    return err;
  }
  for (const Digest& blob : facts->blobs) {
    auto ref = db_->prepare("INSERT OR IGNORE INTO blob_refs(manifest, blob) VALUES (?1, ?2)");
    if (!ref) {
      return ref.takeError();
    }
    ref->bind(1, manifest.str()).bind(2, blob.str());
    if (auto err = ref->run()) {
      return err;
    }
  }
  for (const std::string& name : names) {
    if (auto err = tag(manifest, name)) {
      return err;
    }
  }
  if (auto err = guard.commit()) {
    return err;
  }
  return get(manifest);
}

llvm::Error ImageStore::tag(const Digest& manifest, llvm::StringRef name) {
  auto stmt = db_->prepare(
      "INSERT INTO image_names(name, manifest, tagged) "
      "SELECT ?1, digest, ?3 FROM manifests WHERE digest = ?2 "
      "ON CONFLICT(name) DO UPDATE SET manifest = excluded.manifest, tagged = excluded.tagged");
  if (!stmt) {
    return stmt.takeError();
  }
  stmt->bind(1, name).bind(2, manifest.str()).bind(3, now_seconds());
  if (auto err = stmt->run()) {
    return err;
  }
  if (db_->changes() == 0) {
    return no_such_image(manifest.str());
  }
  return llvm::Error::success();
}

llvm::Expected<std::vector<std::pair<std::string, Digest>>> ImageStore::tags_of_repository(
    llvm::StringRef repository) {
  auto stmt = db_->prepare(
      "SELECT name, manifest FROM image_names "
      "WHERE substr(name, 1, length(?1) + 1) = ?1 || ':' ORDER BY name");
  if (!stmt) {
    return stmt.takeError();
  }
  stmt->bind(1, repository);
  std::vector<std::pair<std::string, Digest>> out;
  while (true) {
    auto row = stmt->step();
    if (!row) {
      return row.takeError();
    }
    if (!*row) {
      return out;
    }
    auto manifest = Digest::parse(stmt->text(1));
    if (!manifest) {
      return manifest.takeError();
    }
    out.emplace_back(stmt->text(0), *manifest);
  }
}

llvm::Expected<ImageRecord> ImageStore::resolve(llvm::StringRef text) {
  auto first = [&](llvm::Expected<std::vector<ImageRecord>> found) -> llvm::Expected<ImageRecord> {
    if (!found) {
      return found.takeError();
    }
    if (found->empty()) {
      return no_such_image(text);
    }
    return std::move(found->front());
  };
  if (text.startswith("sha256:")) {
    if (auto digest = Digest::parse(text); !digest) {
      llvm::consumeError(digest.takeError());
      return no_such_image(text);
    }
    return first(query("WHERE config = ?1 OR digest = ?1", text));
  }
  if (oci::is_full_hex_id(text)) {
    return first(query("WHERE config = ?1", ("sha256:" + text).str()));
  }
  if (auto ref = oci::parse_reference(text)) {
    if (!ref->digest.empty()) {
      return first(query("WHERE digest = ?1", ref->digest));
    }
    auto found =
        query("WHERE digest = (SELECT manifest FROM image_names WHERE name = ?1)", ref->str());
    if (!found || !found->empty()) {
      return first(std::move(found));
    }
  } else {
    llvm::consumeError(ref.takeError());
  }
  if (!is_hex(text)) {
    return no_such_image(text);
  }
  auto found = query("WHERE config LIKE ?1", ("sha256:" + text + "%").str());
  if (!found) {
    return found.takeError();
  }
  std::set<Digest> ids;
  for (const ImageRecord& record : *found) {
    ids.insert(record.config);
  }
  if (ids.size() > 1) {
    return make_error("multiple IDs found with provided prefix: " + quote(text));
  }
  return first(std::move(found));
}

llvm::Expected<std::vector<Digest>> ImageStore::delete_manifest(const Digest& manifest) {
  auto blobs = db_->prepare("SELECT blob FROM blob_refs WHERE manifest = ?1");
  if (!blobs) {
    return blobs.takeError();
  }
  blobs->bind(1, manifest.str());
  std::vector<Digest> out;
  while (true) {
    auto row = blobs->step();
    if (!row) {
      return row.takeError();
    }
    if (!*row) {
      break;
    }
    if (auto digest = Digest::parse(blobs->text(0))) {
      out.push_back(*digest);
    } else {
      llvm::consumeError(digest.takeError());
    }
  }
  for (const char* sql :
       {"DELETE FROM image_names WHERE manifest = ?1", "DELETE FROM blob_refs WHERE manifest = ?1",
        "DELETE FROM manifests WHERE digest = ?1"}) {
    auto stmt = db_->prepare(sql);
    if (!stmt) {
      return stmt.takeError();
    }
    stmt->bind(1, manifest.str());
    if (auto err = stmt->run()) {
      return err;
    }
  }
  return out;
}

llvm::Error ImageStore::collect(llvm::ArrayRef<Digest> candidates) {
  if (candidates.empty()) {
    return llvm::Error::success();
  }
  // Writers hold a shared lease from blob commit to reference: with the exclusive
  // lease, a blob without references here stays without them until we delete it.
  auto lease = content_.lease(LeaseMode::exclusive);
  if (!lease) {
    return lease.takeError();
  }
  for (const Digest& blob : candidates) {
    auto stmt = db_->prepare("SELECT 1 FROM blob_refs WHERE blob = ?1 LIMIT 1");
    if (!stmt) {
      return stmt.takeError();
    }
    stmt->bind(1, blob.str());
    auto row = stmt->step();
    if (!row) {
      return row.takeError();
    }
    if (!*row) {
      if (auto err = content_.remove(blob)) {
        return err;
      }
      // A layer record of the build tables that names it would dangle.
      auto layer = db_->prepare("DELETE FROM layer_blobs WHERE blob = ?1");
      if (!layer) {
        return layer.takeError();
      }
      if (auto err = layer->bind(1, blob.str()).run()) {
        return err;
      }
    }
  }
  return llvm::Error::success();
}

llvm::Expected<std::optional<ImageRecord>> ImageStore::find_name(llvm::StringRef text,
                                                                 std::string& name) {
  auto ref = oci::parse_reference(text);
  if (!ref) {
    llvm::consumeError(ref.takeError());
    return std::nullopt;
  }
  if (!ref->digest.empty()) {
    return std::nullopt;
  }
  name = ref->str();
  auto found = query("WHERE digest = (SELECT manifest FROM image_names WHERE name = ?1)", name);
  if (!found) {
    return found.takeError();
  }
  if (found->empty()) {
    return std::nullopt;
  }
  return std::move(found->front());
}

llvm::Error ImageStore::plan_delete_id(llvm::StringRef text, Force force, RemoveResult& result,
                                       std::vector<Digest>& doomed) {
  auto image = resolve(text);
  if (!image) {
    return image.takeError();
  }
  auto same_id = query("WHERE config = ?1", image->config.str());
  if (!same_id) {
    return same_id.takeError();
  }
  std::set<std::string> names, repositories;
  for (const ImageRecord& record : *same_id) {
    doomed.push_back(record.manifest);
    for (const std::string& name : record.names) {
      names.insert(name);
      repositories.insert(repository_of(name));
    }
  }
  if (repositories.size() > 1 && force == Force::no) {
    return make_error("conflict: unable to delete " + quote(image->config.short_hex()) +
                      " (must be forced) - image is referenced in multiple repositories");
  }
  result.untagged.assign(names.begin(), names.end());
  return llvm::Error::success();
}

llvm::Expected<RemoveResult> ImageStore::remove(llvm::StringRef text, Force force) {
  if (auto err = db_->begin()) {
    return err;
  }
  RollbackGuard guard(*db_);
  RemoveResult result;
  std::vector<Digest> doomed;  // manifests to delete
  std::string name;
  auto by_name = find_name(text, name);
  if (!by_name) {
    return by_name.takeError();
  }
  if (!*by_name) {
    if (auto err = plan_delete_id(text, force, result, doomed)) {
      return err;
    }
  } else if ((*by_name)->names.size() == 1) {  // its last name: delete the image
    result.untagged.push_back(name);
    doomed.push_back((*by_name)->manifest);
  } else {
    result.untagged.push_back(name);
    auto stmt = db_->prepare("DELETE FROM image_names WHERE name = ?1");
    if (!stmt) {
      return stmt.takeError();
    }
    if (auto err = stmt->bind(1, name).run()) {
      return err;
    }
  }
  std::vector<Digest> candidates;
  std::set<Digest> deleted_ids;
  for (const Digest& manifest : doomed) {
    auto record = get(manifest);
    if (!record) {
      return record.takeError();
    }
    deleted_ids.insert(record->config);
    auto blobs = delete_manifest(manifest);
    if (!blobs) {
      return blobs.takeError();
    }
    candidates.insert(candidates.end(), blobs->begin(), blobs->end());
  }
  result.deleted.assign(deleted_ids.begin(), deleted_ids.end());
  if (auto err = guard.commit()) {
    return err;
  }
  if (auto err = collect(candidates)) {
    return err;
  }
  return result;
}

}  // namespace kiln::cache
