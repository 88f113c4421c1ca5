#include "cache/image_archive.h"

#include <cstdlib>
#include <map>
#include <optional>
#include <vector>

#include "cache/image_index.h"
#include "cache/layer_unpack.h"
#include "oci/archive_reader.h"
#include "oci/image_config.h"
#include "oci/media_types.h"
#include "oci/reference.h"
#include "support/error.h"

namespace kiln::cache {

namespace {

class IngestWriter : public oci::BlobWriter {
 public:
  IngestWriter(BlobIngest ingest, const ContentStore& content, std::vector<Digest>& added)
      : ingest_(std::move(ingest)), content_(content), added_(added) {}
  llvm::Error write(llvm::StringRef bytes) override { return ingest_.write(bytes); }
  llvm::Error commit(const Digest& digest, int64_t size) override {
    bool existed = content_.exists(digest);
    auto stored = ingest_.commit(digest, static_cast<uint64_t>(size));
    if (stored && !existed) {
      added_.push_back(digest);
    }
    return stored ? llvm::Error::success() : stored.takeError();
  }

 private:
  BlobIngest ingest_;
  const ContentStore& content_;
  std::vector<Digest>& added_;
};

/// Commits blobs to the content store, remembering which ones were new (so a
/// load rejected after its blobs are in can take them out again).
class StoreSink : public oci::BlobSink {
 public:
  explicit StoreSink(const ContentStore& content) : content_(content) {}
  llvm::Expected<std::unique_ptr<oci::BlobWriter>> begin() override {
    auto ingest = content_.begin_ingest();
    if (!ingest) {
      return ingest.takeError();
    }
    return std::make_unique<IngestWriter>(std::move(*ingest), content_, added_);
  }
  /// Removes the blobs this sink added (best effort).
  void remove_added() {
    for (const Digest& d : added_) {
      llvm::consumeError(content_.remove(d));
    }
  }

 private:
  const ContentStore& content_;
  std::vector<Digest> added_;
};

/// Checks that `image`'s config lists one DiffID per layer and that each layer
/// blob inflates (within the InflateLimits) to the tar its DiffID names, so a
/// lying archive fails at load, not at the first run.
llvm::Error verify_layers(const ContentStore& content, const oci::LoadedImage& image) {
  std::string context = "image " + quote(Digest::of(image.config_bytes).str());
  auto config = oci::parse_image_config(image.config_bytes);
  if (!config) {
    return with_context(config.takeError(), context + ": config");
  }
  auto manifest = oci::parse_manifest(image.manifest_bytes);
  if (!manifest) {
    return with_context(manifest.takeError(), context + ": manifest");
  }
  if (config->diff_ids.size() != manifest->layers.size()) {
    return make_error(context + ": config lists " + std::to_string(config->diff_ids.size()) +
                      " diff IDs for " + std::to_string(manifest->layers.size()) + " layers");
  }
  for (size_t i = 0; i < manifest->layers.size(); ++i) {
    const Digest& blob = manifest->layers[i].digest;
    std::string layer = context + ": layer " + quote(blob.str());
    auto diff_id = layer_diff_id(content.blob_path(blob));
    if (!diff_id) {
      return with_context(diff_id.takeError(), layer);
    }
    if (*diff_id != config->diff_ids[i]) {
      return make_error(layer + ": diff ID is " + quote(diff_id->str()) + ", the config says " +
                        quote(config->diff_ids[i].str()));
    }
  }
  return llvm::Error::success();
}

class StoreSource : public oci::BlobSource {
 public:
  explicit StoreSource(const ContentStore& content) : content_(content) {}
  llvm::Expected<std::string> blob_path(const Digest& digest) override {
    if (!content_.exists(digest)) {
      return make_error("blob " + quote(digest.str()) + " not found");
    }
    return content_.blob_path(digest);
  }

 private:
  const ContentStore& content_;
};

// The image a full name points at now, if any.
std::optional<Digest> current_id(ImageStore& store, const std::string& name) {
  auto found = store.resolve(name);
  if (!found) {
    llvm::consumeError(found.takeError());
    return std::nullopt;
  }
  return found->config;
}

}  // namespace

llvm::Expected<std::vector<LoadedRecord>> load_archive(ImageStore& store, int fd) {
  auto lease = store.content().lease(LeaseMode::shared);
  if (!lease) {
    return lease.takeError();
  }
  StoreSink sink(store.content());
  oci::ReadOptions options;
  options.all_platforms = true;  // a saved multi-platform image loads as its index
  auto images = oci::read_archive(fd, sink, options);
  if (!images) {
    return images.takeError();
  }
  for (const oci::LoadedImage& image : *images) {
    if (image.kind == oci::LoadedKind::index) {
      continue;  // its platforms' images are verified
    }
    if (auto err = verify_layers(store.content(), image)) {
      sink.remove_added();
      return err;
    }
  }
  std::vector<LoadedRecord> out;
  for (const oci::LoadedImage& image : *images) {
    if (image.kind == oci::LoadedKind::index_member) {
      continue;  // recorded with its index
    }
    LoadedRecord loaded;
    bool index = image.kind == oci::LoadedKind::index;
    Digest id = index ? image.manifest.digest : Digest::of(image.config_bytes);
    for (const oci::Reference& ref : image.names) {
      loaded.names.push_back(ref.str());
      if (auto old = current_id(store, ref.str()); old && *old != id) {
        loaded.replaced.emplace_back(ref.str(), *old);
      }
    }
    auto record = index ? add_index(store, image.manifest.digest, loaded.names)
                        : store.add(image.manifest.digest, loaded.names);
    if (!record) {
      return record.takeError();
    }
    loaded.image = std::move(*record);
    out.push_back(std::move(loaded));
  }
  return out;
}

namespace {

// The archive entry of the stored manifest `digest`, without names.
llvm::Expected<oci::ArchiveImage> archive_entry(ImageStore& store, const Digest& digest) {
  auto bytes = store.content().read(digest);
  if (!bytes) {
    return bytes.takeError();
  }
  if (auto index = oci::parse_index(*bytes); index && oci::is_index(index->media_type)) {
    oci::ArchiveImage entry;  // a multi-platform image built here (image_index.h)
    entry.manifest = oci::describe(index->media_type, *bytes);
    return entry;
  } else if (!index) {
    llvm::consumeError(index.takeError());
  }
  auto manifest = oci::parse_manifest(*bytes);
  if (!manifest) {
    return with_context(manifest.takeError(), "manifest " + quote(digest.str()));
  }
  llvm::StringRef media_type = manifest->media_type.empty()
                                   ? llvm::StringRef(oci::media_type::kOciManifest)
                                   : llvm::StringRef(manifest->media_type);
  oci::ArchiveImage entry;
  entry.manifest = oci::describe(media_type, *bytes);
  return entry;
}

// `docker save alpine` saves every tag of the repository: one entry per image.
llvm::Error add_repository(ImageStore& store,
                           const std::vector<std::pair<std::string, Digest>>& tags,
                           std::vector<oci::ArchiveImage>& out) {
  std::map<Digest, size_t> index;
  for (const auto& [name, manifest] : tags) {
    auto ref = oci::parse_named(name);
    if (!ref) {
      return ref.takeError();
    }
    if (!index.count(manifest)) {
      auto entry = archive_entry(store, manifest);
      if (!entry) {
        return entry.takeError();
      }
      index[manifest] = out.size();
      out.push_back(std::move(*entry));
    }
    out[index[manifest]].names.push_back(*ref);
  }
  return llvm::Error::success();
}

}  // namespace

llvm::Expected<std::vector<oci::ArchiveImage>> resolve_for_save(ImageStore& store,
                                                                llvm::ArrayRef<std::string> texts) {
  std::vector<oci::ArchiveImage> out;
  for (const std::string& text : texts) {
    auto named = oci::parse_normalized_named(text);
    if (named && named->name_only()) {
      auto tags = store.tags_of_repository(named->name());
      if (!tags) {
        return tags.takeError();
      }
      if (!tags->empty()) {
        if (auto err = add_repository(store, *tags, out)) {
          return err;
        }
        continue;
      }
    } else if (!named) {
      llvm::consumeError(named.takeError());
    }
    auto image = store.resolve(text);
    if (!image) {
      return image.takeError();
    }
    auto entry = archive_entry(store, image->manifest);
    if (!entry) {
      return entry.takeError();
    }
    auto ref = oci::parse_reference(text);
    bool by_id = llvm::StringRef(text).startswith("sha256:") || oci::is_full_hex_id(text) ||
                 llvm::StringRef(image->config.hex()).startswith(text);
    if (ref && ref->digest.empty() && !by_id) {
      entry->names.push_back(*ref);
    } else if (!ref) {
      llvm::consumeError(ref.takeError());
    }
    out.push_back(std::move(*entry));
  }
  return out;
}

llvm::Error save_archive(ImageStore& store, llvm::ArrayRef<oci::ArchiveImage> images,
                         oci::ArchiveFormat format, int fd) {
  StoreSource source(store.content());
  oci::WriteOptions options;
  options.format = format;
  options.all_platforms = true;  // the store holds every platform of its indexes
  if (const char* epoch = std::getenv("SOURCE_DATE_EPOCH"); epoch && *epoch) {
    int64_t value = 0;
    if (llvm::StringRef(epoch).getAsInteger(10, value)) {
      return make_error("invalid SOURCE_DATE_EPOCH " + quote(epoch));
    }
    options.mtime = value;
  }
  return oci::write_archive(fd, images, source, options);
}

std::vector<std::string> load_report_lines(const std::vector<LoadedRecord>& loaded, bool quiet) {
  std::vector<std::string> lines;
  for (const LoadedRecord& record : loaded) {
    for (const auto& [name, old_id] : record.replaced) {
      if (!quiet) {
        lines.push_back("The image " + oci::familiar_name(name) +
                        " already exists, renaming the old one with ID " + old_id.str() +
                        " to empty string");
      }
    }
    for (const std::string& name : record.names) {
      lines.push_back("Loaded image: " + oci::familiar_name(name));
    }
    if (record.names.empty()) {
      lines.push_back("Loaded image ID: " + record.image.config.str());
    }
  }
  return lines;
}

}  // namespace kiln::cache
