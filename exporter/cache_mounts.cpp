#include "exporter/cache_mounts.h"

#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <vector>

#include <nlohmann/json.hpp>

#include "cache/layer_blobs.h"
#include "oci/media_types.h"
#include "support/atomic_file.h"
#include "support/error.h"
#include "support/fs.h"

namespace kiln::exporter {

namespace {

/// Feeds every entry below `dir` (sorted) into `h`.
llvm::Error fingerprint_dir(const std::string& dir, const std::string& rel, Sha256& h) {
  DIR* d = ::opendir(dir.c_str());
  if (!d) {
    return make_io_error("open", dir, errno);
  }
  std::vector<std::string> names;
  while (struct dirent* e = ::readdir(d)) {
    llvm::StringRef n(e->d_name);
    if (n != "." && n != "..") {
      names.push_back(n.str());
    }
  }
  ::closedir(d);
  std::sort(names.begin(), names.end());
  for (const auto& n : names) {
    std::string path = fs::join(dir, n);
    struct stat st {};
    if (::lstat(path.c_str(), &st) != 0) {
      return make_io_error("stat", path, errno);
    }
    h.field("path", rel + "/" + n);
    h.field("mode", static_cast<uint64_t>(st.st_mode));
    h.field("uid", static_cast<uint64_t>(st.st_uid));
    h.field("gid", static_cast<uint64_t>(st.st_gid));
    h.field("size", static_cast<uint64_t>(st.st_size));
    h.field("mtime", static_cast<uint64_t>(st.st_mtim.tv_sec) * 1000000000u +
                         static_cast<uint64_t>(st.st_mtim.tv_nsec));
    h.field("ctime", static_cast<uint64_t>(st.st_ctim.tv_sec) * 1000000000u +
                         static_cast<uint64_t>(st.st_ctim.tv_nsec));
    h.field("ino", static_cast<uint64_t>(st.st_ino));
    if (S_ISDIR(st.st_mode)) {
      if (auto err = fingerprint_dir(path, rel + "/" + n, h)) {
        return err;
      }
    }
  }
  return llvm::Error::success();
}

std::string media_type(cache::Compression c) { return oci::layer_media_type(c).str(); }

}  // namespace

llvm::Expected<CacheLayer> pack_cache_mount(const cache::ContentStore& content,
                                            const std::string& dir,
                                            const cache::PackOptions& options) {
  Sha256 h;
  h.field("kiln.cache-mount-fingerprint", uint64_t{1});
  h.field("compression", cache::compression_name(options.compression));
  if (auto err = fingerprint_dir(dir, "", h)) {
    return err;
  }
  std::string fingerprint = h.finish().str();
  std::string memo_path = dir + ".export";
  if (auto memo = fs::read_file(memo_path)) {
    auto j = nlohmann::json::parse(*memo, nullptr, false);
    if (j.is_object() && j.value("fingerprint", "") == fingerprint) {
      auto blob = oci::parse_descriptor(j.value("blob", nlohmann::json()).dump());
      auto diff_id = Digest::parse(j.value("diffID", ""));
      if (blob && diff_id && content.exists(blob->digest)) {
        return CacheLayer{*blob, *diff_id};
      }
      if (!blob) {
        llvm::consumeError(blob.takeError());
      }
      if (!diff_id) {
        llvm::consumeError(diff_id.takeError());
      }
    }
  } else {
    llvm::consumeError(memo.takeError());
  }
  auto ingest = content.begin_ingest();
  if (!ingest) {
    return ingest.takeError();
  }
  auto packed =
      cache::pack_layer(dir, options, [&](llvm::StringRef bytes) { return ingest->write(bytes); });
  if (!packed) {
    return packed.takeError();
  }
  auto committed = ingest->commit(packed->digest, packed->size);
  if (!committed) {
    return committed.takeError();
  }
  CacheLayer layer;
  layer.blob.media_type = media_type(options.compression);
  layer.blob.digest = packed->digest;
  layer.blob.size = static_cast<int64_t>(packed->size);
  layer.diff_id = packed->diff_id;
  nlohmann::json memo;
  memo["fingerprint"] = fingerprint;
  memo["blob"] = nlohmann::json::parse(oci::to_json(layer.blob));
  memo["diffID"] = layer.diff_id.str();
  llvm::consumeError(write_file_atomic(memo_path, memo.dump()));
  return layer;
}

}  // namespace kiln::exporter
