// The blob interfaces through which archives are written from and read into a store.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include <llvm/ADT/StringRef.h>
#include <llvm/Support/Error.h>

#include "support/digest.h"

namespace kiln::oci {

/// Where the archive writer finds blobs (manifests, indexes, configs, layers).
class BlobSource {
 public:
  virtual ~BlobSource() = default;
  /// The path of a regular file holding exactly the bytes of blob `digest`; the file
  /// must stay in place until the write ends. Fails when the blob is not stored.
  virtual llvm::Expected<std::string> blob_path(const Digest& digest) = 0;
};

/// One blob being ingested. Move-only by pointer; the destructor discards whatever
/// was written unless commit() succeeded. Used from one thread.
class BlobWriter {
 public:
  virtual ~BlobWriter() = default;
  /// Appends `bytes`.
  virtual llvm::Error write(llvm::StringRef bytes) = 0;
  /// Stores the blob under `digest`. The reader passes the sha256 and size it
  /// computed itself over the written bytes; the sink verifies them (a mismatch is an
  /// error and nothing is stored). An already stored blob is success.
  virtual llvm::Error commit(const Digest& digest, int64_t size) = 0;
};

/// Where the archive reader puts blobs. The reader holds one writer per regular file
/// of the archive until the archive is resolved (a tar is read in one pass and its
/// manifest may come last), so a writer should not keep a file descriptor open
/// between write() calls if archives with hundreds of entries must load. The reader
/// commits only the blobs that a loaded image references, none when the archive is
/// rejected.
class BlobSink {
 public:
  virtual ~BlobSink() = default;
  /// Starts a new blob.
  virtual llvm::Expected<std::unique_ptr<BlobWriter>> begin() = 0;
};

}  // namespace kiln::oci
