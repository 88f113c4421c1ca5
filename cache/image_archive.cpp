#include "cache/image_archive.h"

#include <cstdlib>
#include <optional>

#include "oci/archive_reader.h"
#include "oci/reference.h"
#include "support/error.h"

namespace kiln::cache {

namespace {

class IngestWriter : public oci::BlobWriter {
 public:
  explicit IngestWriter(BlobIngest ingest) : ingest_(std::move(ingest)) {}
  llvm::Error write(llvm::StringRef bytes) override { return ingest_.write(bytes); }
  llvm::Error commit(const Digest& digest, int64_t size) override {
    auto stored = ingest_.commit(digest, static_cast<uint64_t>(size));
    return stored ? llvm::Error::success() : stored.takeError();
  }

 private:
  BlobIngest ingest_;
};

class StoreSink : public oci::BlobSink {
 public:
  explicit StoreSink(const ContentStore& content) : content_(content) {}
  llvm::Expected<std::unique_ptr<oci::BlobWriter>> begin() override {
    auto ingest = content_.begin_ingest();
    if (!ingest) {
      return ingest.takeError();
    }
    return std::make_unique<IngestWriter>(std::move(*ingest));
  }

 private:
  const ContentStore& content_;
};

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
  auto images = oci::read_archive(fd, sink);
  if (!images) {
    return images.takeError();
  }
  std::vector<LoadedRecord> out;
  for (const oci::LoadedImage& image : *images) {
    LoadedRecord loaded;
    Digest id = Digest::of(image.config_bytes);
    for (const oci::Reference& ref : image.names) {
      loaded.names.push_back(ref.str());
      if (auto old = current_id(store, ref.str()); old && *old != id) {
        loaded.replaced.emplace_back(ref.str(), *old);
      }
    }
    auto record = store.add(image.manifest.digest, loaded.names);
    if (!record) {
      return record.takeError();
    }
    loaded.image = std::move(*record);
    out.push_back(std::move(loaded));
  }
  return out;
}

llvm::Expected<std::vector<oci::ArchiveImage>> resolve_for_save(ImageStore& store,
                                                                llvm::ArrayRef<std::string> texts) {
  std::vector<oci::ArchiveImage> out;
  for (const std::string& text : texts) {
    auto image = store.resolve(text);
    if (!image) {
      return image.takeError();
    }
    oci::ArchiveImage entry;
    auto bytes = store.content().read(image->manifest);
    if (!bytes) {
      return bytes.takeError();
    }
    auto manifest = oci::parse_manifest(*bytes);
    if (!manifest) {
      return with_context(manifest.takeError(), "manifest " + quote(image->manifest.str()));
    }
    std::string media_type = manifest->media_type.empty()
                                 ? "application/vnd.oci.image.manifest.v1+json"
                                 : manifest->media_type;
    entry.manifest = oci::describe(media_type, *bytes);
    bool by_id = llvm::StringRef(text).startswith("sha256:") || oci::is_full_hex_id(text) ||
                 llvm::StringRef(image->config.hex()).startswith(text);
    if (!by_id) {
      if (auto ref = oci::parse_reference(text); ref && ref->digest.empty()) {
        entry.names.push_back(*ref);
      } else if (!ref) {
        llvm::consumeError(ref.takeError());
      }
    }
    out.push_back(std::move(entry));
  }
  return out;
}

llvm::Error save_archive(ImageStore& store, llvm::ArrayRef<oci::ArchiveImage> images,
                         oci::ArchiveFormat format, int fd) {
  StoreSource source(store.content());
  oci::WriteOptions options;
  options.format = format;
  if (const char* epoch = std::getenv("SOURCE_DATE_EPOCH"); epoch && *epoch) {
    int64_t value = 0;
    if (llvm::StringRef(epoch).getAsInteger(10, value)) {
      return make_error("invalid SOURCE_DATE_EPOCH " + quote(epoch));
    }
    options.mtime = value;
  }
  return oci::write_archive(fd, images, source, options);
}

}  // namespace kiln::cache
