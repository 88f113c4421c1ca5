#include "exporter/cache_import.h"

#include <sys/stat.h>
#include <unistd.h>

#include <unordered_map>

#include <oneapi/tbb/parallel_for.h>
#include <nlohmann/json.hpp>

#include "cache/layer_blobs.h"
#include "cache/layer_unpack.h"
#include "oci/media_types.h"
#include "support/error.h"
#include "support/fs.h"

namespace kiln::exporter {

CacheSource::~CacheSource() = default;

namespace {

/// The inline cache config in the image config `json`.
llvm::Expected<CacheConfig> inline_config(llvm::StringRef json) {
  auto j = nlohmann::json::parse(json.begin(), json.end(), nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    return make_error("invalid image config");
  }
  auto it = j.find(kInlineCacheField.str());
  if (it == j.end()) {
    return make_error("the image has no inline cache (build it with --cache-to type=inline)");
  }
  return parse_cache_config(it->dump());
}

using ReadDocument = std::function<llvm::Expected<std::string>(const oci::Descriptor&)>;

/// The config of a manifest: a kiln cache config, or an image config with an
/// inline cache. `read_blob` returns a blob's bytes.
llvm::Expected<CacheConfig> config_of_manifest(llvm::StringRef manifest_json,
                                               const ReadDocument& read_blob) {
  auto manifest = oci::parse_manifest(manifest_json);
  if (!manifest) {
    return manifest.takeError();
  }
  auto bytes = read_blob(manifest->config);
  if (!bytes) {
    return bytes.takeError();
  }
  if (manifest->config.media_type == kCacheConfigMediaType) {
    return parse_cache_config(*bytes);
  }
  return inline_config(*bytes);
}

/// The cache config of `json`, a manifest (config_of_manifest) or an index: its
/// kiln cache manifest when it has one, else the inline caches of all its
/// platforms' images merged (as BuildKit imports a multi-platform image's inline
/// cache), those without one passed over. `read_manifest` returns a manifest's
/// bytes.
llvm::Expected<CacheConfig> config_of_document(llvm::StringRef json,
                                               const ReadDocument& read_manifest,
                                               const ReadDocument& read_blob) {
  auto j = nlohmann::json::parse(json.begin(), json.end(), nullptr, false);
  if (!j.is_object() || !j.contains("manifests")) {
    return config_of_manifest(json, read_blob);
  }
  auto index = oci::parse_index(json);
  if (!index) {
    return index.takeError();
  }
  for (const auto& m : index->manifests) {
    if (m.artifact_type == kCacheArtifactType) {
      auto inner = read_manifest(m);
      if (!inner) {
        return inner.takeError();
      }
      return config_of_manifest(*inner, read_blob);
    }
  }
  std::vector<CacheConfig> configs;
  std::string last_error = "the index lists no image";
  for (const auto& m : index->manifests) {
    if (!oci::is_manifest(m.media_type) ||
        (m.platform && m.platform->os == "unknown")) {  // attestations
      continue;
    }
    auto inner = read_manifest(m);
    if (!inner) {
      return inner.takeError();
    }
    auto config = config_of_manifest(*inner, read_blob);
    if (!config) {
      last_error = error_message(config.takeError());
      continue;
    }
    configs.push_back(std::move(*config));
  }
  if (configs.empty()) {
    return make_error(last_error);
  }
  return configs.size() == 1 ? std::move(configs[0]) : merge_cache_configs(configs);
}

class LocalSource : public CacheSource {
 public:
  LocalSource(std::string dir, std::string tag) : dir_(std::move(dir)), tag_(std::move(tag)) {}
  std::string name() const override { return "local cache " + quote(dir_); }

  llvm::Expected<CacheConfig> read_config() override {
    auto text = fs::read_file(fs::join(dir_, "index.json"));
    if (!text) {
      return text.takeError();
    }
    auto index = oci::parse_index(*text);
    if (!index) {
      return index.takeError();
    }
    const oci::Descriptor* chosen = nullptr;
    for (const auto& m : index->manifests) {
      auto it = m.annotations.find(oci::annotation::kRefName.str());
      if (it != m.annotations.end() && it->second == tag_) {
        chosen = &m;
      }
    }
    if (!chosen) {
      return make_error("no cache tagged " + quote(tag_) + " in index.json");
    }
    auto document = read_blob(chosen->digest);
    if (!document) {
      return document.takeError();
    }
    ReadDocument read = [this](const oci::Descriptor& d) { return read_blob(d.digest); };
    return config_of_document(*document, read, read);
  }

  llvm::Error fetch(const oci::Descriptor& blob, const cache::ContentStore& content) override {
    std::string path = blob_path(blob.digest);
    // On one file system the verified file is hard-linked into the store (an
    // atomic, complete appearance, like the store's own rename): no copy.
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) {
      return make_io_error("open", path, errno);
    }
    if (st.st_size != blob.size) {
      return make_error("size mismatch: expected " + llvm::Twine(blob.size) + " bytes, got " +
                        llvm::Twine(static_cast<int64_t>(st.st_size)));
    }
    auto sum = digest_file(path);
    if (!sum) {
      return sum.takeError();
    }
    if (*sum != blob.digest) {
      return make_error("digest mismatch: the file's bytes are " + quote(sum->str()));
    }
    std::string dest = content.blob_path(blob.digest);
    if (::link(path.c_str(), dest.c_str()) == 0 || errno == EEXIST) {
      return llvm::Error::success();
    }
    auto copied = content.put_file(path, blob.digest);  // another file system: copy
    return copied ? llvm::Error::success() : copied.takeError();
  }

 private:
  std::string blob_path(const Digest& d) const { return fs::join(dir_, "blobs/sha256/" + d.hex()); }
  llvm::Expected<std::string> read_blob(const Digest& d) const {
    auto bytes = fs::read_file(blob_path(d));
    if (bytes && Digest::of(*bytes) != d) {
      return make_error("blob " + quote(d.str()) + " is corrupt (its bytes do not match)");
    }
    return bytes;
  }

  std::string dir_;
  std::string tag_;
};

class RegistrySource : public CacheSource {
 public:
  RegistrySource(registry::Client& client, registry::BlobStore& blobs, oci::Reference ref)
      : client_(client), blobs_(blobs), ref_(std::move(ref)) {}
  std::string name() const override { return "registry cache " + quote(ref_.str()); }

  llvm::Expected<CacheConfig> read_config() override {
    std::string reference = !ref_.digest.empty() ? ref_.digest
                            : ref_.tag.empty()   ? std::string("latest")
                                                 : ref_.tag;
    auto fetched = client_.get_manifest(ref_, reference);
    if (!fetched) {
      return fetched.takeError();
    }
    return config_of_document(
        fetched->bytes,
        [this](const oci::Descriptor& d) -> llvm::Expected<std::string> {
          auto inner = client_.get_manifest(ref_, d.digest.str());
          if (!inner) {
            return inner.takeError();
          }
          return std::move(inner->bytes);
        },
        [this](const oci::Descriptor& d) -> llvm::Expected<std::string> {
          registry::MemoryBlobStore mem;
          if (auto err = client_.fetch_blob(ref_, d, mem)) {
            return err;
          }
          return mem.read(d.digest);
        });
  }

  llvm::Error fetch(const oci::Descriptor& blob, const cache::ContentStore&) override {
    return client_.fetch_blob(ref_, blob, blobs_);
  }

 private:
  registry::Client& client_;
  registry::BlobStore& blobs_;
  oci::Reference ref_;
};

class StoredImageSource : public CacheSource {
 public:
  StoredImageSource(cache::ContentStore content, Digest manifest, std::string name)
      : content_(std::move(content)), manifest_(manifest), name_(std::move(name)) {}
  std::string name() const override { return "image " + quote(name_); }

  llvm::Expected<CacheConfig> read_config() override {
    auto document = content_.read(manifest_);
    if (!document) {
      return document.takeError();
    }
    ReadDocument read = [this](const oci::Descriptor& d) { return content_.read(d.digest); };
    return config_of_document(*document, read, read);
  }

  llvm::Error fetch(const oci::Descriptor& blob, const cache::ContentStore& content) override {
    if (content.exists(blob.digest)) {
      return llvm::Error::success();
    }
    return make_error("blob " + quote(blob.digest.str()) + " is not in the local store");
  }

 private:
  cache::ContentStore content_;
  Digest manifest_;
  std::string name_;
};

}  // namespace

std::unique_ptr<CacheSource> local_cache_source(std::string dir, std::string tag) {
  return std::make_unique<LocalSource>(std::move(dir), std::move(tag));
}

std::unique_ptr<CacheSource> registry_cache_source(registry::Client& client,
                                                   registry::BlobStore& blobs, oci::Reference ref) {
  return std::make_unique<RegistrySource>(client, blobs, std::move(ref));
}

std::unique_ptr<CacheSource> stored_image_cache_source(cache::ContentStore content, Digest manifest,
                                                       std::string name) {
  return std::make_unique<StoredImageSource>(std::move(content), manifest, std::move(name));
}

struct CacheImporter::Source {
  std::unique_ptr<CacheSource> source;
  bool ignore_error = true;
  CacheConfig config;
  std::unordered_map<Digest, size_t> records;  // key -> index into config.records
  std::unordered_map<Digest, oci::Descriptor> blobs;
};

CacheImporter::CacheImporter(cache::ContentStore content, cache::SnapshotStore snapshots,
                             cache::BuildDb& db, CacheWarning warn)
    : content_(std::move(content)),
      snapshots_(std::move(snapshots)),
      db_(db),
      warn_(std::move(warn)) {}

CacheImporter::~CacheImporter() = default;

llvm::Error CacheImporter::add(std::unique_ptr<CacheSource> source, bool ignore_error) {
  auto config = source->read_config();
  if (!config) {
    std::string msg =
        "importing cache from " + source->name() + ": " + error_message(config.takeError());
    if (!ignore_error) {
      return make_error(msg);
    }
    warn_(msg + " (building without it)");
    return llvm::Error::success();
  }
  auto s = std::make_unique<Source>();
  s->source = std::move(source);
  s->ignore_error = ignore_error;
  s->config = std::move(*config);
  for (size_t i = 0; i < s->config.records.size(); ++i) {
    s->records.emplace(s->config.records[i].key, i);
  }
  for (const auto& b : s->config.all_blobs()) {
    s->blobs.emplace(b.digest, b);
  }
  sources_.push_back(std::move(s));
  return llvm::Error::success();
}

std::optional<std::vector<CacheLayer>> CacheImporter::layers(const Digest& key) const {
  for (const auto& s : sources_) {
    auto it = s->records.find(key);
    if (it != s->records.end()) {
      std::vector<CacheLayer> out;
      for (uint32_t i : s->config.records[it->second].layers) {
        out.push_back(s->config.layers[i]);
      }
      return out;
    }
  }
  return std::nullopt;
}

const CacheImporter::Source* CacheImporter::source_of_blob(const Digest& digest) const {
  for (const auto& s : sources_) {
    if (s->blobs.count(digest)) {
      return s.get();
    }
  }
  return nullptr;
}

llvm::Error CacheImporter::fetch(const Source& source, const oci::Descriptor& blob) {
  std::shared_ptr<std::mutex> one;
  {
    std::lock_guard lock(mu_);
    auto& slot = fetching_[blob.digest];
    if (!slot) {
      slot = std::make_shared<std::mutex>();
    }
    one = slot;
  }
  std::lock_guard lock(*one);  // one download per blob at a time
  if (content_.exists(blob.digest)) {
    return llvm::Error::success();
  }
  if (auto err = source.source->fetch(blob, content_)) {
    std::lock_guard bad(mu_);
    bad_.insert(blob.digest);
    return with_context(std::move(err), "blob " + quote(blob.digest.str()));
  }
  std::lock_guard count(mu_);
  ++fetched_;
  return llvm::Error::success();
}

llvm::Error CacheImporter::fetch_blob(const Digest& digest) {
  if (content_.exists(digest)) {
    return llvm::Error::success();
  }
  const Source* s = source_of_blob(digest);
  if (!s) {
    return make_error("blob " + quote(digest.str()) + " is in no imported cache");
  }
  return fetch(*s, s->blobs.at(digest));
}

namespace {

/// True when kiln.db names a stored blob of `diff_id` (in any compression).
bool has_stored_blob(cache::BuildDb& db, const cache::ContentStore& content,
                     const Digest& diff_id) {
  for (auto c : {cache::Compression::gzip, cache::Compression::zstd, cache::Compression::none}) {
    auto rec = db.find_layer(diff_id, cache::compression_name(c));
    if (!rec) {
      llvm::consumeError(rec.takeError());
      continue;
    }
    if (*rec && content.exists((*rec)->blob)) {
      return true;
    }
  }
  return false;
}

}  // namespace

llvm::Expected<cache::CachedStep> CacheImporter::materialize(const Source& source,
                                                             const std::vector<CacheLayer>& layers,
                                                             const Digest& key) {
  cache::CachedStep step;
  if (!layers.empty()) {
    std::vector<Digest> diff_ids;
    for (const auto& l : layers) {
      diff_ids.push_back(l.diff_id);
    }
    std::vector<Digest> ids = cache::chain_ids(diff_ids);
    // Held from the first blob to the last record, so that a concurrent
    // garbage collection cannot take a blob in between.
    auto lease = content_.lease(cache::LeaseMode::shared);
    if (!lease) {
      return lease.takeError();
    }
    std::vector<cache::LayerBlob> blobs;
    std::vector<size_t> needed;
    for (size_t i = 0; i < layers.size(); ++i) {
      const CacheLayer& l = layers[i];
      // The blob is needed to unpack a missing snapshot, and for the image
      // (the same bytes as the exporter's, so the image digest is the same).
      if (!snapshots_.contains(ids[i]) || !has_stored_blob(db_, content_, l.diff_id)) {
        needed.push_back(i);
      }
      blobs.push_back({content_.blob_path(l.blob.digest), l.diff_id});
    }
    std::vector<std::string> errors(needed.size());
    tbb::parallel_for(size_t{0}, needed.size(), [&](size_t n) {
      if (auto err = fetch(source, layers[needed[n]].blob)) {
        errors[n] = error_message(std::move(err));
      }
    });
    for (const auto& e : errors) {
      if (!e.empty()) {
        return make_error(e);
      }
    }
    auto unpacked = snapshots_.unpack_chain(blobs);
    if (!unpacked) {
      return unpacked.takeError();
    }
    for (const auto& l : layers) {
      if (!content_.exists(l.blob.digest)) {
        continue;
      }
      auto c = cache::compression_of_media_type(l.blob.media_type);
      if (auto err = db_.record_layer(l.diff_id, cache::compression_name(c),
                                      {l.blob.digest, static_cast<uint64_t>(l.blob.size)})) {
        return err;
      }
    }
    step.chain = ids.back();
  }
  if (auto err = db_.save_key(key, step)) {
    return err;
  }
  return step;
}

llvm::Expected<std::optional<cache::CachedStep>> CacheImporter::load(const Digest& key,
                                                                     llvm::StringRef step) {
  {
    std::lock_guard lock(mu_);
    if (failed_.count(key)) {
      return std::nullopt;
    }
  }
  for (const auto& s : sources_) {
    auto it = s->records.find(key);
    if (it == s->records.end()) {
      continue;
    }
    std::vector<CacheLayer> layers;
    for (uint32_t i : s->config.records[it->second].layers) {
      layers.push_back(s->config.layers[i]);
    }
    auto done = materialize(*s, layers, key);
    if (done) {
      return std::optional<cache::CachedStep>(*done);
    }
    std::string msg = "importing cache from " + s->source->name() + " for " + quote(step) + ": " +
                      error_message(done.takeError());
    if (!s->ignore_error) {
      return make_error(msg);
    }
    {
      std::lock_guard lock(mu_);
      failed_.insert(key);
    }
    std::lock_guard warn_lock(warn_mu_);
    warn_(msg + " (running the step instead)");
    return std::nullopt;
  }
  return std::nullopt;
}

llvm::Expected<bool> CacheImporter::seed_cache_mount(const std::string& id,
                                                     const std::string& dest) {
  for (const auto& s : sources_) {
    for (const auto& m : s->config.mounts) {
      if (m.id != id) {
        continue;
      }
      const CacheLayer& layer = s->config.layers[m.layer];
      llvm::Error err = fetch(*s, layer.blob);
      if (!err) {
        auto unpacked =
            cache::unpack_layer(content_.blob_path(layer.blob.digest), dest, layer.diff_id);
        err = unpacked ? llvm::Error::success() : unpacked.takeError();
      }
      if (err) {
        std::string msg = "importing cache mount " + quote(id) + " from " + s->source->name() +
                          ": " + error_message(std::move(err));
        if (!s->ignore_error) {
          return make_error(msg);
        }
        std::lock_guard warn_lock(warn_mu_);
        warn_(msg + " (starting with an empty cache mount)");
        return false;
      }
      return true;
    }
  }
  return false;
}

std::vector<std::string> CacheImporter::step_records() const {
  std::vector<std::string> out;
  for (const auto& s : sources_) {
    if (!s->config.steps.empty()) {
      out.push_back(s->config.steps);
    }
  }
  return out;
}

std::set<Digest> CacheImporter::bad_blobs() const {
  std::lock_guard lock(mu_);
  return bad_;
}

int CacheImporter::blobs_fetched() const {
  std::lock_guard lock(mu_);
  return fetched_;
}

}  // namespace kiln::exporter
