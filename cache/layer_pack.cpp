#include "cache/layer_pack.h"

#include "cache/layer_tar.h"
#include "support/atomic_file.h"
#include "support/error.h"

namespace kiln::cache {

llvm::Expected<PackedLayer> pack_layer(llvm::StringRef dir, const PackOptions& options,
                                       const ByteSink& sink) {
  // An uncompressed blob is the tar itself: one hash serves as both digests.
  const bool same = options.compression == Compression::none;
  Sha256 blob_hash;
  uint64_t blob_size = 0;
  auto compressor = StreamCompressor::create(options.compression, options.level, options.threads,
                                             [&](llvm::StringRef bytes) {
                                               if (!same) {
                                                 blob_hash.update(bytes);
                                               }
                                               blob_size += bytes.size();
                                               return sink(bytes);
                                             });
  Sha256 tar_hash;
  TarOptions tar_options;
  tar_options.source_date_epoch = options.source_date_epoch;
  auto err = write_layer_tar(dir, tar_options, [&](llvm::StringRef bytes) {
    tar_hash.update(bytes);
    return compressor->write(bytes);
  });
  if (!err) {
    err = compressor->finish();
  }
  if (err) {
    return with_context(std::move(err), "pack layer " + quote(dir));
  }
  PackedLayer out;
  out.diff_id = tar_hash.finish();
  out.digest = same ? out.diff_id : blob_hash.finish();
  out.size = blob_size;
  return out;
}

llvm::Expected<PackedLayer> pack_layer_to_file(llvm::StringRef dir, llvm::StringRef path,
                                               const PackOptions& options) {
  auto file = AtomicFile::create(path);
  if (!file) {
    return file.takeError();
  }
  auto packed = pack_layer(dir, options, [&](llvm::StringRef bytes) { return file->write(bytes); });
  if (!packed) {
    return packed.takeError();
  }
  if (auto err = file->commit()) {
    return err;
  }
  return packed;
}

}  // namespace kiln::cache
