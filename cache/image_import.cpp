#include "cache/image_import.h"

#include <archive.h>
#include <archive_entry.h>
#include <sys/stat.h>

#include <ctime>
#include <set>
#include <vector>

#include "oci/image_config.h"
#include "oci/media_types.h"
#include "oci/reference.h"
#include "oci/types.h"
#include "support/error.h"

namespace kiln::cache {

namespace {

constexpr size_t kBuffer = 1 << 20;

// The compressed side: a raw-format libarchive writer whose gzip filter output goes
// to the blob ingest.
struct LayerOutput {
  explicit LayerOutput(BlobIngest in) : ingest(std::move(in)) {}
  BlobIngest ingest;
  llvm::Error error = llvm::Error::success();
  Sha256 diff_id;           // of the uncompressed tar
  archive* gzip = nullptr;  // raw writer with the gzip filter
  std::string gzip_error;
};

la_ssize_t write_blob(archive*, void* ctx, const void* buf, size_t size) {
  auto* out = static_cast<LayerOutput*>(ctx);
  if (auto err = out->ingest.write(llvm::StringRef(static_cast<const char*>(buf), size))) {
    out->error = std::move(err);
    return -1;
  }
  return static_cast<la_ssize_t>(size);
}

la_ssize_t write_tar(archive*, void* ctx, const void* buf, size_t size) {
  auto* out = static_cast<LayerOutput*>(ctx);
  out->diff_id.update(buf, size);
  if (archive_write_data(out->gzip, buf, size) < 0) {
    out->gzip_error = archive_error_string(out->gzip) ? archive_error_string(out->gzip) : "";
    return -1;
  }
  return static_cast<la_ssize_t>(size);
}

// Cleans `name` lexically; fails when it is absolute or climbs out of the root.
llvm::Expected<std::string> clean_entry_path(llvm::StringRef name, llvm::StringRef entry) {
  if (name.startswith("/")) {
    return make_error("entry " + quote(entry) + ": absolute path");
  }
  llvm::SmallVector<llvm::StringRef, 16> parts, kept;
  name.split(parts, '/');
  for (llvm::StringRef part : parts) {
    if (part.empty() || part == ".") {
      continue;
    }
    if (part == "..") {
      if (kept.empty()) {
        return make_error("entry " + quote(entry) + ": path escapes the root filesystem");
      }
      kept.pop_back();
      continue;
    }
    kept.push_back(part);
  }
  std::string out;
  for (llvm::StringRef part : kept) {
    out += out.empty() ? "" : "/";
    out += part.str();
  }
  return out;
}

// Fails when a proper parent of `path` is a symlink from the archive.
llvm::Error check_parents(const std::string& path, const std::set<std::string>& symlinks,
                          llvm::StringRef entry) {
  for (size_t slash = path.find('/'); slash != std::string::npos;
       slash = path.find('/', slash + 1)) {
    std::string parent = path.substr(0, slash);
    if (symlinks.count(parent)) {
      return make_error("entry " + quote(entry) + ": parent " + quote(parent) + " is a symlink");
    }
  }
  return llvm::Error::success();
}

// Checks one entry and rewrites its names; returns false for the root entry.
llvm::Expected<bool> sanitize_entry(archive_entry* entry, std::set<std::string>& symlinks) {
  const char* raw = archive_entry_pathname(entry);
  std::string name = raw ? raw : "";
  mode_t type = archive_entry_filetype(entry);
  if (type == AE_IFCHR || type == AE_IFBLK) {
    return make_error("entry " + quote(name) + ": device nodes are not allowed");
  }
  auto path = clean_entry_path(name, name);
  if (!path) {
    return path.takeError();
  }
  if (path->empty()) {
    return false;
  }
  if (auto err = check_parents(*path, symlinks, name)) {
    return err;
  }
  if (const char* link = archive_entry_hardlink(entry)) {
    auto target = clean_entry_path(link, name);
    if (!target || target->empty()) {
      llvm::consumeError(target.takeError());
      return make_error("entry " + quote(name) + ": link target " + quote(link) +
                        " escapes the root filesystem");
    }
    if (auto err = check_parents(*target, symlinks, name)) {
      return err;
    }
    archive_entry_set_hardlink(entry, target->c_str());
  }
  if (type == AE_IFLNK) {
    symlinks.insert(*path);
  }
  archive_entry_set_pathname(entry, (type == AE_IFDIR ? *path + "/" : *path).c_str());
  archive_entry_set_uname(entry, nullptr);
  archive_entry_set_gname(entry, nullptr);
  return true;
}

llvm::Error archive_failure(archive* a, llvm::StringRef what) {
  const char* message = archive_error_string(a);
  return make_error(what + ": " + (message ? message : "unknown libarchive error"));
}

// Copies every entry of `in` into the tar writer `out`, checking each.
llvm::Error copy_entries(archive* in, archive* out) {
  std::set<std::string> symlinks;
  std::vector<char> buf(kBuffer);
  while (true) {
    archive_entry* entry = nullptr;
    int rc = archive_read_next_header(in, &entry);
    if (rc == ARCHIVE_EOF) {
      return llvm::Error::success();
    }
    if (rc < ARCHIVE_WARN) {
      return archive_failure(in, "invalid tar");
    }
    auto keep = sanitize_entry(entry, symlinks);
    if (!keep) {
      return keep.takeError();
    }
    if (!*keep) {
      continue;
    }
    if (archive_write_header(out, entry) < ARCHIVE_WARN) {
      return archive_failure(out, "write layer");
    }
    while (true) {
      la_ssize_t n = archive_read_data(in, buf.data(), buf.size());
      if (n < 0) {
        return archive_failure(in, "invalid tar");
      }
      if (n == 0) {
        break;
      }
      if (archive_write_data(out, buf.data(), static_cast<size_t>(n)) < 0) {
        return archive_failure(out, "write layer");
      }
    }
  }
}

struct Layer {
  Digest digest;
  int64_t size = 0;
  Digest diff_id;
};

struct ArchiveCloser {
  void operator()(archive* a) const { archive_free(a); }
};
using ArchivePtr = std::unique_ptr<archive, ArchiveCloser>;

ArchivePtr open_gzip_writer(LayerOutput& out) {
  ArchivePtr gzip(archive_write_new());
  archive_write_set_format_raw(gzip.get());
  archive_write_add_filter_gzip(gzip.get());
  // No mtime in the gzip header: equal layers give equal bytes.
  archive_write_set_filter_option(gzip.get(), "gzip", "timestamp", nullptr);
  archive_write_set_bytes_in_last_block(gzip.get(), 1);
  if (archive_write_open(gzip.get(), &out, nullptr, write_blob, nullptr) != ARCHIVE_OK) {
    return nullptr;
  }
  archive_entry* raw = archive_entry_new();
  archive_entry_set_filetype(raw, AE_IFREG);
  archive_entry_set_pathname(raw, "layer.tar");
  int rc = archive_write_header(gzip.get(), raw);
  archive_entry_free(raw);
  return rc == ARCHIVE_OK ? std::move(gzip) : nullptr;
}

// Reads the rootfs tar on `fd` and writes the layer blob (gzip) into the store.
llvm::Expected<Layer> write_layer(const ContentStore& content, int fd) {
  auto ingest = content.begin_ingest();
  if (!ingest) {
    return ingest.takeError();
  }
  LayerOutput out(std::move(*ingest));
  ArchivePtr gzip = open_gzip_writer(out);
  if (!gzip) {
    return make_error("write layer: cannot start gzip");
  }
  out.gzip = gzip.get();
  ArchivePtr in(archive_read_new());
  archive_read_support_filter_all(in.get());
  archive_read_support_format_tar(in.get());
  if (archive_read_open_fd(in.get(), fd, kBuffer) != ARCHIVE_OK) {
    return archive_failure(in.get(), "invalid tar");
  }
  ArchivePtr tar(archive_write_new());
  archive_write_set_format_pax_restricted(tar.get());
  archive_write_set_bytes_in_last_block(tar.get(), 1);
  if (archive_write_open(tar.get(), &out, nullptr, write_tar, nullptr) != ARCHIVE_OK) {
    return archive_failure(tar.get(), "write layer");
  }
  llvm::Error copied = copy_entries(in.get(), tar.get());
  if (!copied && archive_write_close(tar.get()) != ARCHIVE_OK) {
    copied = archive_failure(tar.get(), "write layer");
  }
  if (!copied && archive_write_close(gzip.get()) != ARCHIVE_OK) {
    copied = archive_failure(gzip.get(), "write layer");
  }
  if (out.error) {
    llvm::consumeError(std::move(copied));
    return std::move(out.error);
  }
  if (copied) {
    return copied;
  }
  Layer layer;
  layer.size = static_cast<int64_t>(out.ingest.size());
  layer.diff_id = out.diff_id.finish();
  auto digest = out.ingest.commit();
  if (!digest) {
    return digest.takeError();
  }
  layer.digest = *digest;
  return layer;
}

std::string format_rfc3339(int64_t seconds) {
  time_t t = static_cast<time_t>(seconds);
  struct tm tm {};
  ::gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

}  // namespace

llvm::Expected<ImageRecord> import_rootfs(ImageStore& store, int fd, const ImportOptions& options) {
  auto lease = store.content().lease(LeaseMode::shared);
  if (!lease) {
    return lease.takeError();
  }
  auto layer = write_layer(store.content(), fd);
  if (!layer) {
    return layer.takeError();
  }
  oci::ImageConfig config;
  config.created = format_rfc3339(options.created >= 0 ? options.created
                                                       : static_cast<int64_t>(::time(nullptr)));
  oci::Platform platform = oci::host_platform();
  config.architecture = platform.architecture;
  config.os = platform.os;
  config.variant = platform.variant;
  config.diff_ids.push_back(layer->diff_id);
  oci::HistoryEntry history;
  history.created = config.created;
  history.comment = options.comment;
  config.history.push_back(history);
  std::string config_bytes = oci::to_json(config);

  oci::Manifest manifest;
  manifest.media_type = oci::media_type::kOciManifest.str();
  manifest.config = oci::describe(oci::media_type::kOciConfig, config_bytes);
  oci::Descriptor layer_desc;
  layer_desc.media_type = oci::media_type::kOciLayerGzip.str();
  layer_desc.digest = layer->digest;
  layer_desc.size = layer->size;
  manifest.layers.push_back(layer_desc);
  std::string manifest_bytes = oci::to_json(manifest);

  if (auto stored = store.content().put(config_bytes); !stored) {
    return stored.takeError();
  }
  auto manifest_digest = store.content().put(manifest_bytes);
  if (!manifest_digest) {
    return manifest_digest.takeError();
  }
  std::vector<std::string> names;
  if (!options.name.empty()) {
    names.push_back(options.name);
  }
  return store.add(*manifest_digest, names);
}

llvm::Expected<ImportOptions> import_options(llvm::StringRef name, llvm::StringRef message,
                                             llvm::StringRef source_date_epoch) {
  ImportOptions options;
  if (!name.empty()) {
    auto ref = oci::parse_reference(name);
    if (!ref) {
      return with_context(ref.takeError(), "import");
    }
    if (!ref->digest.empty()) {
      return llvm::make_error<UsageError>(
          "import: refusing to create a tag with a digest reference");
    }
    options.name = ref->str();
  }
  if (!message.empty()) {
    options.comment = message.str();
  }
  if (!source_date_epoch.empty() &&
      (source_date_epoch.getAsInteger(10, options.created) || options.created < 0)) {
    return llvm::make_error<UsageError>("invalid SOURCE_DATE_EPOCH " + quote(source_date_epoch));
  }
  return options;
}

}  // namespace kiln::cache
