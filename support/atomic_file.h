// Crash-safe file writes: a temp file beside the target, fsync, rename on commit.
#pragma once

#include <string>

#include <llvm/ADT/StringRef.h>
#include <llvm/Support/Error.h>

namespace kiln {

enum class Overwrite { yes, no };

/// Whether a commit waits for the disk (fsync of the file and its directory).
/// `no` is for run-time state that a crash may lose but must never half-write.
enum class Durable { yes, no };

/// A file being written under a temporary name next to `path`. Move-only. The
/// destructor removes the temp file unless commit() succeeded; it never commits.
/// Not thread-safe.
class AtomicFile {
 public:
  /// Creates the temp file (mode `mode`, subject to umask) in `path`'s directory,
  /// or in `tmp_dir` when given (it must be on the same file system).
  static llvm::Expected<AtomicFile> create(llvm::StringRef path, unsigned mode = 0644,
                                           llvm::StringRef tmp_dir = {});
  AtomicFile(AtomicFile&& other) noexcept;
  AtomicFile& operator=(AtomicFile&& other) noexcept;
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;
  ~AtomicFile();

  /// Appends `bytes`.
  llvm::Error write(llvm::StringRef bytes);
  llvm::Error write(const void* data, size_t size) {
    return write(llvm::StringRef(static_cast<const char*>(data), size));
  }
  /// fsyncs, renames to the target and fsyncs the directory (without the fsyncs
  /// when `durable` is no). With Overwrite::no an existing target is kept and the
  /// temp file dropped (success: the content is addressed by name, so the existing
  /// file is as good).
  llvm::Error commit(Overwrite overwrite = Overwrite::yes, Durable durable = Durable::yes);

  /// The file descriptor, for writers that stream (valid until commit).
  int fd() const { return fd_; }
  const std::string& temp_path() const { return temp_path_; }
  const std::string& path() const { return path_; }

 private:
  AtomicFile(std::string path, std::string temp_path, int fd)
      : path_(std::move(path)), temp_path_(std::move(temp_path)), fd_(fd) {}
  void discard();

  std::string path_;
  std::string temp_path_;
  int fd_ = -1;
};

/// Writes `bytes` to `path` through an AtomicFile.
llvm::Error write_file_atomic(llvm::StringRef path, llvm::StringRef bytes, unsigned mode = 0644);

}  // namespace kiln
