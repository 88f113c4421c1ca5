// Streaming layer compression: parallel gzip (libdeflate), multithreaded zstd, none.
#pragma once

#include <functional>
#include <memory>

#include <llvm/ADT/StringRef.h>
#include <llvm/Support/Error.h>

#include "oci/media_types.h"

namespace kiln::cache {

/// How a layer blob is compressed (oci/media_types.h maps it to media types).
using Compression = oci::Compression;

/// Receives output bytes in order; an error stops the stream.
using ByteSink = std::function<llvm::Error(llvm::StringRef bytes)>;

/// Compresses one stream into `sink`. The output depends only on the input bytes,
/// the compression and the level, never on `threads` or timing. Not thread-safe:
/// one writer calls write() then finish(); the destructor stops any worker threads.
class StreamCompressor {
 public:
  /// `level`: gzip 1..12 (libdeflate), zstd 1..19; -1 picks gzip 6 / zstd 3.
  /// `threads`: worker threads, 0 for the number of cores.
  static std::unique_ptr<StreamCompressor> create(Compression compression, int level,
                                                  unsigned threads, ByteSink sink);
  virtual ~StreamCompressor() = default;
  /// Feeds `bytes`; may call the sink. Fails when the sink or the compressor fails.
  virtual llvm::Error write(llvm::StringRef bytes) = 0;
  /// Flushes everything and writes the trailer. Call exactly once, last.
  virtual llvm::Error finish() = 0;
};

/// A gzip compressor that splits the input into fixed 1 MiB blocks compressed in
/// parallel by libdeflate and joined (pigz style, with a sync marker between
/// blocks) into one gzip member with no name, no mtime and OS byte 255.
std::unique_ptr<StreamCompressor> make_parallel_gzip(int level, unsigned threads, ByteSink sink);

/// The media-type suffix of `compression`: "" (none), "+gzip" or "+zstd".
llvm::StringRef media_type_suffix(Compression compression);

}  // namespace kiln::cache
