#include "exporter/cache_export.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <mutex>
#include <set>

#include <oneapi/tbb/parallel_for_each.h>

#include "oci/media_types.h"
#include "support/atomic_file.h"
#include "support/error.h"
#include "support/fs.h"

namespace kiln::exporter {

namespace {

constexpr const char* kOciLayout = R"({"imageLayoutVersion":"1.0.0"})";

/// True when `path` is a regular file of `size` bytes.
bool has_file(const std::string& path, int64_t size) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) && st.st_size == size;
}

/// Copies the file `from` to `to` through a temp file in `to`'s directory.
llvm::Error copy_file(const std::string& from, const std::string& to) {
  int in = ::open(from.c_str(), O_RDONLY | O_CLOEXEC);
  if (in < 0) {
    return make_io_error("open", from, errno);
  }
  auto out = AtomicFile::create(to, 0644);
  if (!out) {
    ::close(in);
    return out.takeError();
  }
  std::string buf(1 << 20, '\0');
  llvm::Error err = llvm::Error::success();
  for (;;) {
    ssize_t n = ::read(in, buf.data(), buf.size());
    if (n < 0) {
      err = make_io_error("read", from, errno);
      break;
    }
    if (n == 0) {
      break;
    }
    if ((err = out->write(llvm::StringRef(buf.data(), static_cast<size_t>(n))))) {
      break;
    }
  }
  ::close(in);
  if (err) {
    return err;
  }
  return out->commit(Overwrite::no);
}

/// Puts blob `blob` (from the content store) at `dest`: a hard link when the
/// file systems allow, else a copy. Returns true when it wrote something.
llvm::Expected<bool> place_blob(const cache::ContentStore& content, const oci::Descriptor& blob,
                                const std::string& dest, const BlobFetcher& fetch) {
  if (has_file(dest, blob.size)) {
    return false;
  }
  if (fetch && !content.exists(blob.digest)) {
    if (auto err = fetch(blob.digest)) {
      return err;
    }
  }
  std::string src = content.blob_path(blob.digest);
  if (!fs::exists(src)) {
    return make_error("blob " + quote(blob.digest.str()) + " is not in the store");
  }
  ::unlink(dest.c_str());  // a truncated leftover of an interrupted copy
  if (::link(src.c_str(), dest.c_str()) == 0 || errno == EEXIST) {
    return true;
  }
  if (auto err = copy_file(src, dest)) {
    return err;
  }
  return true;
}

/// Writes `bytes` as the blob of their digest under `blobs_dir` unless present.
llvm::Expected<bool> place_bytes(const std::string& blobs_dir, llvm::StringRef bytes) {
  std::string dest = fs::join(blobs_dir, Digest::of(bytes).hex());
  if (has_file(dest, static_cast<int64_t>(bytes.size()))) {
    return false;
  }
  if (auto err = write_file_atomic(dest, bytes)) {
    return err;
  }
  return true;
}

/// The index of the layout at `dir` with `entry` under `tag` (replacing that
/// tag's entry); a missing or unreadable index.json starts a new one.
oci::Index updated_index(const std::string& dir, const oci::Descriptor& entry,
                         const std::string& tag) {
  oci::Index index;
  index.schema_version = 2;
  index.media_type = oci::media_type::kOciIndex.str();
  auto text = fs::read_file(fs::join(dir, "index.json"));
  if (text) {
    auto parsed = oci::parse_index(*text);
    if (parsed) {
      index = std::move(*parsed);
    } else {
      llvm::consumeError(parsed.takeError());
    }
  } else {
    llvm::consumeError(text.takeError());
  }
  std::vector<oci::Descriptor> kept;
  for (auto& m : index.manifests) {
    auto it = m.annotations.find(oci::annotation::kRefName.str());
    if (it == m.annotations.end() || it->second != tag) {
      kept.push_back(std::move(m));
    }
  }
  kept.push_back(entry);
  index.manifests = std::move(kept);
  return index;
}

/// Every blob the manifests of `index` need (themselves, configs, layers), read
/// from `blobs_dir`; nullopt when one cannot be read (then nothing is pruned).
std::optional<std::set<std::string>> referenced_blobs(const std::string& blobs_dir,
                                                      const oci::Index& index) {
  std::set<std::string> out;
  for (const auto& m : index.manifests) {
    out.insert(m.digest.hex());
    auto text = fs::read_file(fs::join(blobs_dir, m.digest.hex()));
    if (!text) {
      llvm::consumeError(text.takeError());
      return std::nullopt;
    }
    auto manifest = oci::parse_manifest(*text);
    if (!manifest) {
      llvm::consumeError(manifest.takeError());
      return std::nullopt;
    }
    out.insert(manifest->config.digest.hex());
    for (const auto& l : manifest->layers) {
      out.insert(l.digest.hex());
    }
  }
  return out;
}

/// Removes the files of `blobs_dir` named by a digest not in `keep`.
int prune_blobs(const std::string& blobs_dir, const std::set<std::string>& keep) {
  DIR* d = ::opendir(blobs_dir.c_str());
  if (!d) {
    return 0;
  }
  std::vector<std::string> doomed;
  while (struct dirent* e = ::readdir(d)) {
    llvm::StringRef name(e->d_name);
    if (name.size() == 64 && name.find_first_not_of("0123456789abcdef") == llvm::StringRef::npos &&
        !keep.count(name.str())) {
      doomed.push_back(name.str());
    }
  }
  ::closedir(d);
  int removed = 0;
  for (const auto& name : doomed) {
    removed += ::unlink(fs::join(blobs_dir, name).c_str()) == 0 ? 1 : 0;
  }
  return removed;
}

}  // namespace

llvm::Expected<CacheExportStats> export_cache_local(const cache::ContentStore& content,
                                                    const CacheConfig& config,
                                                    const std::string& dir, const std::string& tag,
                                                    const BlobFetcher& fetch,
                                                    const std::set<Digest>& replace) {
  std::string blobs_dir = fs::join(dir, "blobs/sha256");
  if (auto err = fs::make_dirs(blobs_dir)) {
    return err;
  }
  CacheExportStats stats;
  std::vector<oci::Descriptor> blobs = config.all_blobs();
  std::mutex mu;
  std::string first_error;
  std::atomic<int> written{0};
  std::atomic<uint64_t> bytes{0};
  for (const auto& d : replace) {
    ::unlink(fs::join(blobs_dir, d.hex()).c_str());
  }
  tbb::parallel_for_each(blobs.begin(), blobs.end(), [&](const oci::Descriptor& b) {
    auto placed = place_blob(content, b, fs::join(blobs_dir, b.digest.hex()), fetch);
    if (!placed) {
      std::lock_guard lock(mu);
      std::string msg = error_message(placed.takeError());
      if (first_error.empty()) {
        first_error = msg;
      }
      return;
    }
    if (*placed) {
      ++written;
      bytes += static_cast<uint64_t>(b.size);
    }
  });
  if (!first_error.empty()) {
    return make_error(first_error);
  }
  stats.blobs_written = written;
  stats.bytes_written = bytes;
  stats.blobs_present = static_cast<int>(blobs.size()) - stats.blobs_written;

  std::string config_json = to_json(config);
  std::string manifest_json = cache_manifest_json(config, config_json);
  for (llvm::StringRef doc : {llvm::StringRef(config_json), llvm::StringRef(manifest_json)}) {
    auto placed = place_bytes(blobs_dir, doc);
    if (!placed) {
      return placed.takeError();
    }
    (*placed ? stats.blobs_written : stats.blobs_present) += 1;
  }
  oci::Descriptor entry = oci::describe(oci::media_type::kOciManifest, manifest_json);
  entry.artifact_type = kCacheArtifactType.str();
  entry.annotations[oci::annotation::kRefName.str()] = tag;
  stats.manifest = entry.digest;
  oci::Index index = updated_index(dir, entry, tag);
  std::string index_json = oci::to_json(index);
  auto old = fs::read_file(fs::join(dir, "index.json"));
  if (!old || *old != index_json) {
    if (!old) {
      llvm::consumeError(old.takeError());
    }
    if (!fs::exists(fs::join(dir, "oci-layout"))) {
      if (auto err = write_file_atomic(fs::join(dir, "oci-layout"), kOciLayout)) {
        return err;
      }
    }
    if (auto err = write_file_atomic(fs::join(dir, "index.json"), index_json)) {
      return err;
    }
  }
  if (auto keep = referenced_blobs(blobs_dir, index)) {
    stats.blobs_removed = prune_blobs(blobs_dir, *keep);
  }
  return stats;
}

llvm::Expected<CacheExportStats> export_cache_registry(
    registry::Client& client, const registry::BlobStore& blobs, const cache::ContentStore& content,
    const CacheConfig& config, const oci::Reference& ref, const BlobFetcher& fetch) {
  CacheExportStats stats;
  std::string config_json = to_json(config);
  std::string manifest_json = cache_manifest_json(config, config_json);
  Digest manifest_digest = Digest::of(manifest_json);
  stats.manifest = manifest_digest;
  std::string tag = ref.tag.empty() ? "latest" : ref.tag;
  auto head = client.head_manifest(ref, tag);
  if (head && *head && (*head)->digest == manifest_digest) {
    stats.blobs_present = static_cast<int>(config.all_blobs().size()) + 2;
    return stats;  // the registry has exactly this cache: nothing to upload
  }
  if (!head) {
    llvm::consumeError(head.takeError());
  }
  auto stored = content.put(config_json);
  if (!stored) {
    return stored.takeError();
  }
  std::vector<oci::Descriptor> todo = config.all_blobs();
  todo.push_back(oci::describe(kCacheConfigMediaType, config_json));
  std::mutex mu;
  std::string first_error;
  std::atomic<int> written{0};
  std::atomic<uint64_t> bytes{0};
  tbb::parallel_for_each(todo.begin(), todo.end(), [&](const oci::Descriptor& b) {
    auto fail = [&](llvm::Error err) {
      std::lock_guard lock(mu);
      std::string msg = error_message(std::move(err));
      if (first_error.empty()) {
        first_error = msg;
      }
    };
    auto has = client.has_blob(ref, b.digest);
    if (!has) {
      return fail(has.takeError());
    }
    if (*has) {
      return;
    }
    if (fetch && !content.exists(b.digest)) {
      if (auto err = fetch(b.digest)) {
        return fail(std::move(err));
      }
    }
    auto pushed = client.push_blob(ref, b, blobs);
    if (!pushed) {
      return fail(pushed.takeError());
    }
    ++written;
    bytes += static_cast<uint64_t>(b.size);
  });
  if (!first_error.empty()) {
    return make_error(first_error);
  }
  auto put = client.put_manifest(ref, tag, oci::media_type::kOciManifest, manifest_json);
  if (!put) {
    return put.takeError();
  }
  stats.blobs_written = written + 1;
  stats.blobs_present = static_cast<int>(todo.size()) - written;
  stats.bytes_written = bytes + manifest_json.size();
  return stats;
}

void add_inline_cache(oci::ImageConfig& image, const CacheConfig& config) {
  std::string json = to_json(config);
  for (auto& [key, value] : image.extra) {
    if (key == kInlineCacheField) {
      value = std::move(json);
      return;
    }
  }
  image.extra.emplace_back(kInlineCacheField.str(), std::move(json));
}

}  // namespace kiln::exporter
