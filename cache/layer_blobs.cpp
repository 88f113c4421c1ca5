#include "cache/layer_blobs.h"

#include <algorithm>

#include "support/error.h"

namespace kiln::cache {

llvm::StringRef compression_name(Compression compression) {
  switch (compression) {
    case Compression::gzip:
      return "gzip";
    case Compression::zstd:
      return "zstd";
    case Compression::none:
      return "none";
  }
  return "none";
}

Compression compression_of_media_type(llvm::StringRef media_type) {
  if (media_type.endswith("gzip")) {
    return Compression::gzip;
  }
  if (media_type.endswith("zstd")) {
    return Compression::zstd;
  }
  return Compression::none;
}

llvm::Expected<StoredLayer> store_layer(const ContentStore& content, BuildDb& db,
                                        llvm::StringRef dir, const PackOptions& options) {
  auto ingest = content.begin_ingest();
  if (!ingest) {
    return ingest.takeError();
  }
  ingest->trust_caller_digest();  // pack_layer hashes what it writes
  auto packed =
      pack_layer(dir, options, [&](llvm::StringRef bytes) { return ingest->write(bytes); });
  if (!packed) {
    return packed.takeError();
  }
  auto lease = content.lease(LeaseMode::shared);
  if (!lease) {
    return lease.takeError();
  }
  auto blob = ingest->commit(packed->digest, packed->size);
  if (!blob) {
    return blob.takeError();
  }
  StoredLayer layer{packed->diff_id, packed->digest, packed->size, options.compression};
  if (auto err = db.record_layer(layer.diff_id, compression_name(options.compression),
                                 {layer.blob, layer.size})) {
    return err;
  }
  return layer;
}

namespace {

/// The stored blob recorded for `diff_id`, preferring `preferred` compression.
llvm::Expected<std::optional<StoredLayer>> find_stored(const ContentStore& content, BuildDb& db,
                                                       const Digest& diff_id, Compression preferred,
                                                       bool exact) {
  std::vector<Compression> order = {preferred};
  if (!exact) {
    order.insert(order.end(), {Compression::gzip, Compression::zstd, Compression::none});
  }
  for (Compression c : order) {
    auto rec = db.find_layer(diff_id, compression_name(c));
    if (!rec) {
      return rec.takeError();
    }
    if (*rec && content.exists((*rec)->blob)) {
      return StoredLayer{diff_id, (*rec)->blob, (*rec)->size, c};
    }
  }
  return std::nullopt;
}

}  // namespace

llvm::Expected<std::vector<StoredLayer>> chain_layers(const ContentStore& content,
                                                      const SnapshotStore& snapshots, BuildDb& db,
                                                      const Digest& chain,
                                                      const PackOptions& options, bool exact) {
  std::vector<StoredLayer> out;
  std::optional<Digest> cur = chain;
  while (cur) {
    auto diff_id = snapshots.diff_id(*cur);
    if (!diff_id) {
      return diff_id.takeError();
    }
    auto found = find_stored(content, db, *diff_id, options.compression, exact);
    if (!found) {
      return found.takeError();
    }
    if (*found) {
      out.push_back(**found);
    } else {
      auto packed = store_layer(content, db, snapshots.fs_dir(*cur), options);
      if (!packed) {
        return with_context(packed.takeError(), "pack layer " + quote(diff_id->str()));
      }
      if (packed->diff_id != *diff_id) {
        return make_error("layer " + quote(diff_id->str()) +
                          " is no longer stored and packing its snapshot gives " +
                          quote(packed->diff_id.str()) + "; rebuild with --no-cache");
      }
      out.push_back(*packed);
    }
    auto parent = snapshots.parent(*cur);
    if (!parent) {
      return parent.takeError();
    }
    cur = *parent;
  }
  std::reverse(out.begin(), out.end());
  return out;
}

}  // namespace kiln::cache
