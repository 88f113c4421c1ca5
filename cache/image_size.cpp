#include "cache/image_size.h"

#include <archive.h>
#include <unistd.h>

#include <memory>

#include "cache/image_index.h"
#include "cache/layer_blobs.h"
#include "oci/image_config.h"
#include "oci/types.h"
#include "support/error.h"

namespace kiln::cache {
namespace {

llvm::Expected<std::optional<int64_t>> known_size(StoreDb& db, const Digest& diff_id) {
  for (const char* sql :
       {"SELECT size FROM layer_sizes WHERE diff_id = ?1",
        "SELECT size FROM layer_blobs WHERE diff_id = ?1 AND compression = 'none'"}) {
    auto st = db.prepare(sql);
    if (!st) {
      return st.takeError();
    }
    auto row = st->bind(1, diff_id.str()).step();
    if (!row) {
      return row.takeError();
    }
    if (*row) {
      return std::optional<int64_t>(st->integer(0));
    }
  }
  return std::nullopt;
}

/// Inflates the blob (any compression libarchive knows) and counts its bytes.
llvm::Expected<int64_t> inflated_size(const ContentStore& content, const Digest& blob) {
  std::string path = content.blob_path(blob);
  std::unique_ptr<archive, int (*)(archive*)> a(archive_read_new(), archive_read_free);
  archive_read_support_filter_all(a.get());
  archive_read_support_format_raw(a.get());
  if (archive_read_open_filename(a.get(), path.c_str(), 1 << 20) != ARCHIVE_OK) {
    return make_error("read layer " + quote(blob.str()) + ": " + archive_error_string(a.get()));
  }
  archive_entry* entry = nullptr;
  if (archive_read_next_header(a.get(), &entry) != ARCHIVE_OK) {
    return make_error("read layer " + quote(blob.str()) + ": " + archive_error_string(a.get()));
  }
  int64_t total = 0;
  std::vector<char> buf(1 << 20);
  while (true) {
    la_ssize_t n = archive_read_data(a.get(), buf.data(), buf.size());
    if (n < 0) {
      return make_error("inflate layer " + quote(blob.str()) + ": " +
                        archive_error_string(a.get()));
    }
    if (n == 0) {
      return total;
    }
    total += n;
  }
}

}  // namespace

namespace {

/// The uncompressed size of the layers of one image manifest and its config.
llvm::Expected<int64_t> manifest_size(ImageStore& images, const Digest& manifest_digest,
                                      const Digest& config_digest) {
  auto manifest_json = images.content().read(manifest_digest);
  if (!manifest_json) {
    return manifest_json.takeError();
  }
  auto manifest = oci::parse_manifest(*manifest_json);
  if (!manifest) {
    return manifest.takeError();
  }
  auto config_json = images.content().read(config_digest);
  if (!config_json) {
    return config_json.takeError();
  }
  auto config = oci::parse_image_config(*config_json);
  if (!config) {
    return config.takeError();
  }
  int64_t total = 0;
  for (size_t i = 0; i < manifest->layers.size(); ++i) {
    const oci::Descriptor& layer = manifest->layers[i];
    if (compression_of_media_type(layer.media_type) == Compression::none ||
        i >= config->diff_ids.size()) {
      total += layer.size;
      continue;
    }
    const Digest& diff_id = config->diff_ids[i];
    auto known = known_size(images.db(), diff_id);
    if (!known) {
      return known.takeError();
    }
    if (*known) {
      total += **known;
      continue;
    }
    auto size = inflated_size(images.content(), layer.digest);
    if (!size) {
      return size.takeError();
    }
    total += *size;
    if (auto st = images.db().prepare(
            "INSERT OR REPLACE INTO layer_sizes (diff_id, size) VALUES (?1, ?2)")) {
      llvm::consumeError(st->bind(1, diff_id.str()).bind(2, *size).run());  // read-only: not kept
    } else {
      llvm::consumeError(st.takeError());
    }
  }
  return total;
}

}  // namespace

llvm::Expected<int64_t> uncompressed_size(ImageStore& images, const ImageRecord& record) {
  // An image index (a multi-platform image): the sum of its platforms' images.
  auto platforms = index_manifests(images.content(), record.manifest);
  if (!platforms) {
    return platforms.takeError();
  }
  if (!*platforms) {
    return manifest_size(images, record.manifest, record.config);
  }
  int64_t total = 0;
  for (const PlatformManifest& p : **platforms) {
    auto size = manifest_size(images, p.manifest, p.config);
    if (!size) {
      return size.takeError();
    }
    total += *size;
  }
  return total;
}

}  // namespace kiln::cache
