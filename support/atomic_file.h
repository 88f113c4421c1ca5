// Crash-safe file writes: a temp file beside the target, fsync, rename on commit.
#pragma once

#include <string>

#include <llvm/ADT/StringRef.h>
#include <llvm/Support/Error.h>

#include "support/temp_file.h"

namespace kiln {

enum class Overwrite { yes, no };

/// Whether a commit waits for the disk (fsync of the file and its directory).
/// `no` is for run-time state that a crash may lose but must never half-write.
enum class Durable { yes, no };

/// A file being written under a temporary name (a TempFile) next to `path`.
/// Move-only. The destructor removes the temp file unless commit() succeeded; it
/// never commits.
/// Not thread-safe.
class AtomicFile {
 public:
  /// Creates the temp file (mode `mode`, subject to umask) in `path`'s directory,
  /// or in `tmp_dir` when given (it must be on the same file system).
  static llvm::Expected<AtomicFile> create(llvm::StringRef path, unsigned mode = 0644,
                                           llvm::StringRef tmp_dir = {});
  /// Appends `bytes`.
  llvm::Error write(llvm::StringRef bytes) { return temp_.write(bytes); }
  llvm::Error write(const void* data, size_t size) {
    return write(llvm::StringRef(static_cast<const char*>(data), size));
  }
  /// fsyncs, renames to the target and fsyncs the directory (without the fsyncs
  /// when `durable` is no). With Overwrite::no an existing target is kept and the
  /// temp file dropped (success: the content is addressed by name, so the existing
  /// file is as good).
  llvm::Error commit(Overwrite overwrite = Overwrite::yes, Durable durable = Durable::yes);

  /// The file descriptor, for writers that stream (valid until commit).
  int fd() const { return temp_.fd(); }
  const std::string& temp_path() const { return temp_.path(); }
  const std::string& path() const { return path_; }

 private:
  AtomicFile(std::string path, TempFile temp) : path_(std::move(path)), temp_(std::move(temp)) {}

  std::string path_;
  TempFile temp_;
};

/// Writes `bytes` to `path` through an AtomicFile.
llvm::Error write_file_atomic(llvm::StringRef path, llvm::StringRef bytes, unsigned mode = 0644);

}  // namespace kiln
