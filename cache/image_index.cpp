#include "cache/image_index.h"

#include <ctime>
#include <set>

#include "oci/image_config.h"
#include "oci/media_types.h"
#include "support/error.h"

namespace kiln::cache {
namespace {

/// What one platform's manifest brings to the index's record.
struct ChildFacts {
  int64_t created = kUnknownTime;
  int64_t size = 0;
  std::vector<Digest> blobs;
};

llvm::Expected<ChildFacts> child_facts(const ContentStore& content, const Digest& manifest) {
  auto bytes = content.read(manifest);
  if (!bytes) {
    return bytes.takeError();
  }
  auto parsed = oci::parse_manifest(*bytes);
  if (!parsed) {
    return with_context(parsed.takeError(), "manifest " + quote(manifest.str()));
  }
  ChildFacts facts;
  facts.blobs = {manifest, parsed->config.digest};
  auto config = content.read(parsed->config.digest);
  if (!config) {
    return config.takeError();
  }
  facts.size = static_cast<int64_t>(config->size());
  if (auto image = oci::parse_image_config(*config)) {
    if (auto created = parse_rfc3339(image->created)) {
      facts.created = *created;
    } else {
      llvm::consumeError(created.takeError());
    }
  } else {
    llvm::consumeError(image.takeError());
  }
  for (const oci::Descriptor& layer : parsed->layers) {
    if (!content.exists(layer.digest)) {
      return make_error("manifest " + quote(manifest.str()) + ": blob " +
                        quote(layer.digest.str()) + " not found");
    }
    facts.blobs.push_back(layer.digest);
    facts.size += layer.size;
  }
  return facts;
}

llvm::Error run_sql(StoreDb& db, const char* sql, llvm::ArrayRef<std::string> args) {
  auto stmt = db.prepare(sql);
  if (!stmt) {
    return stmt.takeError();
  }
  for (size_t i = 0; i < args.size(); ++i) {
    stmt->bind(static_cast<int>(i + 1), args[i]);
  }
  return stmt->run();
}

}  // namespace

llvm::Expected<std::optional<std::vector<PlatformManifest>>> index_manifests(
    const ContentStore& content, const Digest& digest) {
  auto bytes = content.read(digest);
  if (!bytes) {
    return bytes.takeError();
  }
  auto index = oci::parse_index(*bytes);
  if (!index || !(oci::is_index(index->media_type) ||
                  (index->media_type.empty() && !index->manifests.empty()))) {
    if (!index) {
      llvm::consumeError(index.takeError());
    }
    return std::nullopt;
  }
  std::vector<PlatformManifest> out;
  for (const oci::Descriptor& d : index->manifests) {
    if (!d.platform || d.platform->os == "unknown" || !oci::is_manifest(d.media_type)) {
      continue;  // BuildKit's attestation manifests are "unknown/unknown"
    }
    auto manifest = content.read(d.digest);
    if (!manifest) {
      return manifest.takeError();
    }
    auto parsed = oci::parse_manifest(*manifest);
    if (!parsed) {
      return with_context(parsed.takeError(), "manifest " + quote(d.digest.str()));
    }
    out.push_back({d.digest, parsed->config.digest, *d.platform});
  }
  return out;
}

llvm::Expected<PlatformManifest> manifest_for_platform(const ContentStore& content,
                                                       const Digest& digest,
                                                       const oci::Platform& platform) {
  auto children = index_manifests(content, digest);
  if (!children) {
    return children.takeError();
  }
  if (!*children) {
    auto bytes = content.read(digest);
    if (!bytes) {
      return bytes.takeError();
    }
    auto parsed = oci::parse_manifest(*bytes);
    if (!parsed) {
      return with_context(parsed.takeError(), "manifest " + quote(digest.str()));
    }
    auto config = content.read(parsed->config.digest);
    if (!config) {
      return config.takeError();
    }
    auto image = oci::parse_image_config(*config);
    if (!image) {
      return with_context(image.takeError(), "config " + quote(parsed->config.digest.str()));
    }
    if (image->architecture.empty()) {
      return PlatformManifest{digest, parsed->config.digest, platform};  // says nothing
    }
    oci::Platform has;
    has.os = image->os.empty() ? "linux" : image->os;
    has.architecture = image->architecture;
    has.variant = image->variant;
    has = oci::normalize_platform(std::move(has));
    if (!oci::platform_matches(oci::normalize_platform(platform), has)) {
      return make_error("image " + quote(digest.str()) + " is for platform " + quote(has.str()) +
                        ", not " + quote(platform.str()));
    }
    return PlatformManifest{digest, parsed->config.digest, has};
  }
  std::vector<std::string> have;
  for (const PlatformManifest& child : **children) {
    if (oci::platform_matches(oci::normalize_platform(platform),
                              oci::normalize_platform(child.platform))) {
      return child;
    }
    have.push_back(child.platform.str());
  }
  return make_error("image " + quote(digest.str()) + " has no manifest for platform " +
                    quote(platform.str()) + " (it has " + llvm::join(have, ", ") + ")");
}

llvm::Expected<ImageRecord> add_index(ImageStore& store, const Digest& index,
                                      llvm::ArrayRef<std::string> names) {
  auto children = index_manifests(store.content(), index);
  if (!children) {
    return children.takeError();
  }
  if (!*children) {
    return make_error("blob " + quote(index.str()) + " is not an image index");
  }
  std::set<Digest> blobs = {index};
  int64_t created = kUnknownTime;
  int64_t size = 0;
  for (const PlatformManifest& child : **children) {
    auto facts = child_facts(store.content(), child.manifest);
    if (!facts) {
      return with_context(facts.takeError(), "index " + quote(index.str()));
    }
    blobs.insert(facts->blobs.begin(), facts->blobs.end());
    created = std::max(created, facts->created);
    size += facts->size;
  }
  StoreDb& db = store.db();
  if (auto err = db.begin()) {
    return std::move(err);
  }
  auto fail = [&db](llvm::Error err) {
    db.rollback();
    return err;
  };
  auto insert = db.prepare(
      "INSERT OR IGNORE INTO manifests(digest, config, created, size, added) "
      "VALUES (?1, ?1, ?2, ?3, ?4)");
  if (!insert) {
    return fail(insert.takeError());
  }
  insert->bind(1, index.str()).bind(2, created).bind(3, size);
  insert->bind(4, static_cast<int64_t>(::time(nullptr)));
  if (auto err = insert->run()) {
    return fail(std::move(err));
  }
  for (const Digest& blob : blobs) {
    if (auto err = run_sql(db, "INSERT OR IGNORE INTO blob_refs(manifest, blob) VALUES (?1, ?2)",
                           {index.str(), blob.str()})) {
      return fail(std::move(err));
    }
  }
  for (const std::string& name : names) {
    if (auto err = store.tag(index, name)) {
      return fail(std::move(err));
    }
  }
  if (auto err = db.commit()) {
    return std::move(err);
  }
  return store.get(index);
}

}  // namespace kiln::cache
