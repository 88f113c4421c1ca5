// A file being written under a temporary name, removed unless it is kept: what
// AtomicFile (renamed over its target on commit) and the content store's blob
// ingest (renamed to its digest) both stand on.
#pragma once

#include <string>

#include <llvm/ADT/StringRef.h>
#include <llvm/Support/Error.h>

namespace kiln {

/// An open, exclusively created file at a unique temporary path. Move-only. The
/// destructor (and discard()) closes it and unlinks the path unless keep() or
/// rename_to() took it. Not thread-safe.
class TempFile {
 public:
  /// Creates `dir`/`prefix` + a unique suffix (pid, counter, random) with O_EXCL,
  /// mode `mode` (subject to umask).
  static llvm::Expected<TempFile> create(llvm::StringRef dir, llvm::StringRef prefix,
                                         unsigned mode = 0644);
  TempFile() = default;
  TempFile(TempFile&& other) noexcept;
  TempFile& operator=(TempFile&& other) noexcept;
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;
  ~TempFile();

  /// Appends `bytes` (retrying short writes); an error names the path.
  llvm::Error write(llvm::StringRef bytes);
  /// Renames the file to `target` (replacing it) and closes it: nothing is left to
  /// remove. On failure the file is removed and the error names `target`.
  llvm::Error rename_to(llvm::StringRef target, llvm::StringRef what = "rename into place");
  /// Closes the descriptor but keeps the file (the caller now owns the path).
  void close();
  /// Closes and removes the file.
  void discard();

  /// -1 once closed.
  int fd() const { return fd_; }
  /// Empty once renamed, kept or discarded.
  const std::string& path() const { return path_; }

 private:
  TempFile(std::string path, int fd) : path_(std::move(path)), fd_(fd) {}

  std::string path_;
  int fd_ = -1;
};

/// A new directory `parent`/`prefix` + random suffix, removed with its contents
/// by the destructor. Move-only.
class ScratchDir {
 public:
  static llvm::Expected<ScratchDir> create(llvm::StringRef parent, llvm::StringRef prefix);
  ScratchDir() = default;
  ScratchDir(ScratchDir&& other) noexcept : path_(std::move(other.path_)) { other.path_.clear(); }
  ScratchDir& operator=(ScratchDir&& other) noexcept;
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  ~ScratchDir() { remove(); }

  /// Empty for a default-constructed or moved-from one.
  const std::string& path() const { return path_; }

 private:
  explicit ScratchDir(std::string path) : path_(std::move(path)) {}
  void remove();

  std::string path_;
};

}  // namespace kiln
