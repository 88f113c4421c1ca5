// The content store: blobs named by their sha256 under ROOT/blobs/sha256/<hex>.
// Writes stream into ROOT/tmp/, are hashed on the way and renamed into place on
// commit, so a reader never sees a partial blob and several processes may write
// the same blob at once.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <llvm/ADT/StringRef.h>
#include <llvm/Support/Error.h>

#include "support/digest.h"
#include "support/file_lock.h"
#include "support/temp_file.h"

namespace kiln::cache {

/// A blob being written. Move-only; the destructor removes the temp file unless
/// commit() succeeded. Not thread-safe (one writer per ingest).
class BlobIngest {
 public:
  /// Appends `bytes` and feeds them to the hash (unless trust_caller_digest()).
  llvm::Error write(llvm::StringRef bytes);
  /// For writers that hash the bytes themselves (layer packing computes the
  /// digest as it writes): the ingest stops hashing, and commit() requires the
  /// `expected` digest and takes it as the blob's. Call before the first write().
  void trust_caller_digest() { hashing_ = false; }
  /// Bytes written so far.
  uint64_t size() const { return size_; }
  /// Verifies the written bytes against `expected` digest and `expected_size` when
  /// given, then renames the blob into place (an existing blob with that digest is
  /// kept and the new copy dropped). Returns the digest. On a mismatch the temp
  /// file is removed and the error says what differed.
  llvm::Expected<Digest> commit(std::optional<Digest> expected = std::nullopt,
                                std::optional<uint64_t> expected_size = std::nullopt);

 private:
  friend class ContentStore;
  BlobIngest(std::string blobs_dir, TempFile temp)
      : blobs_dir_(std::move(blobs_dir)), temp_(std::move(temp)) {}

  std::string blobs_dir_;
  TempFile temp_;  // ROOT/tmp/ingest-*, flock'ed while open
  uint64_t size_ = 0;
  uint64_t flushed_ = 0;  // bytes handed to writeback so far
  Sha256 hash_;
  bool hashing_ = true;
};

/// A shared or exclusive hold on the store's blob set (a FileLock on ROOT/blobs/lock).
/// Writers that commit blobs and then record references hold a shared lease
/// across both, so that garbage collection (exclusive) never deletes a blob
/// between its commit and its reference. Move-only; released by the destructor.
using BlobLease = FileLock;
using LeaseMode = LockMode;

/// The blob directory of one store root. Cheap to copy; every method is
/// thread-safe and safe against other processes using the same root.
class ContentStore {
 public:
  /// Opens the store at `root`, creating blobs/sha256 and tmp/ when missing, and
  /// marks this process as its user, reclaiming what dead users left (use_store()).
  static llvm::Expected<ContentStore> open(llvm::StringRef root);

  /// Starts writing a blob into tmp/.
  llvm::Expected<BlobIngest> begin_ingest() const;
  /// Stores `bytes` (verifying `expected` when given) and returns their digest.
  llvm::Expected<Digest> put(llvm::StringRef bytes,
                             std::optional<Digest> expected = std::nullopt) const;
  /// Copies the file at `path` in, streaming; verified against `expected` when
  /// given (see BlobIngest::commit()).
  llvm::Expected<Digest> put_file(llvm::StringRef path,
                                  std::optional<Digest> expected = std::nullopt) const;

  /// The path of blob `digest` (whether or not it exists).
  std::string blob_path(const Digest& digest) const;
  bool exists(const Digest& digest) const;
  /// The blob's size in bytes; an error naming the digest when it is missing.
  llvm::Expected<uint64_t> size(const Digest& digest) const;
  /// The whole blob in memory (for manifests and configs).
  llvm::Expected<std::string> read(const Digest& digest) const;
  /// Opens the blob for reading; the caller closes the fd.
  llvm::Expected<int> open_blob(const Digest& digest) const;
  /// Removes the blob; a missing blob is fine.
  llvm::Error remove(const Digest& digest) const;
  /// Every stored blob, sorted.
  llvm::Expected<std::vector<Digest>> list() const;
  /// Takes the blob-set lock (blocking).
  llvm::Expected<BlobLease> lease(LeaseMode mode) const;

  const std::string& root() const { return root_; }
  /// ROOT/tmp: the place for temp files that are renamed into the store.
  std::string tmp_dir() const;

 private:
  explicit ContentStore(std::string root) : root_(std::move(root)) {}
  std::string blobs_dir() const;
  std::string root_;
};

}  // namespace kiln::cache
