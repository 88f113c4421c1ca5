// Where pulls write blobs and pushes read them. registry/ cannot see the content
// store (cache/), so the CLI (and the solver, the exporter) hand it an adapter;
// MemoryBlobStore serves tests and benchmarks.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include <llvm/ADT/StringRef.h>
#include <llvm/Support/Error.h>

#include "support/digest.h"

namespace kiln::registry {

/// A blob being written. The destructor drops what was written unless commit()
/// succeeded. Not thread-safe.
class BlobWriter {
 public:
  virtual ~BlobWriter() = default;
  /// Appends `bytes`.
  virtual llvm::Error write(llvm::StringRef bytes) = 0;
  /// Verifies the written bytes against `expected` and `size` and makes the blob
  /// visible; on a mismatch nothing is kept and the error says what differed.
  virtual llvm::Error commit(const Digest& expected, uint64_t size) = 0;
};

/// A blob being read, front to back. Not thread-safe.
class BlobReader {
 public:
  virtual ~BlobReader() = default;
  /// Fills `buffer` with up to `size` bytes; returns 0 at the end.
  virtual llvm::Expected<size_t> read(char* buffer, size_t size) = 0;
};

/// A set of blobs addressed by digest. Implementations are thread-safe.
class BlobStore {
 public:
  virtual ~BlobStore() = default;
  /// True when blob `digest` is stored.
  virtual bool has(const Digest& digest) const = 0;
  /// Starts writing a new blob.
  virtual llvm::Expected<std::unique_ptr<BlobWriter>> begin_write() = 0;
  /// The whole blob (manifests, configs); an error naming the digest when missing.
  virtual llvm::Expected<std::string> read(const Digest& digest) const = 0;
  /// Opens the blob for streaming (layers).
  virtual llvm::Expected<std::unique_ptr<BlobReader>> open(const Digest& digest) const = 0;
};

/// Blobs in memory. Thread-safe.
class MemoryBlobStore : public BlobStore {
 public:
  bool has(const Digest& digest) const override;
  llvm::Expected<std::unique_ptr<BlobWriter>> begin_write() override;
  llvm::Expected<std::string> read(const Digest& digest) const override;
  llvm::Expected<std::unique_ptr<BlobReader>> open(const Digest& digest) const override;
  /// Stores `bytes` and returns their digest.
  Digest put(llvm::StringRef bytes);
  /// Every blob (a copy), by digest.
  std::map<Digest, std::string> blobs() const;

 private:
  friend class MemoryBlobWriter;
  mutable std::mutex mutex_;
  std::map<Digest, std::string> blobs_;
};

}  // namespace kiln::registry
