// An exclusive advisory lock on a file (flock), held by a move-only handle.
#pragma once

#include <optional>

#include <llvm/ADT/StringRef.h>
#include <llvm/Support/Error.h>

namespace kiln {

/// An exclusive flock on a file (created when missing). Move-only; released on
/// destruction. The descriptor is close-on-exec, so the lock never leaks into a
/// child process.
class FileLock {
 public:
  /// Waits for the lock.
  static llvm::Expected<FileLock> acquire(llvm::StringRef path);
  /// Takes the lock if it is free; nullopt when someone holds it.
  static llvm::Expected<std::optional<FileLock>> try_acquire(llvm::StringRef path);
  FileLock(FileLock&& other) noexcept;
  FileLock& operator=(FileLock&& other) noexcept;
  FileLock(const FileLock&) = delete;
  FileLock& operator=(const FileLock&) = delete;
  ~FileLock();

 private:
  explicit FileLock(int fd) : fd_(fd) {}
  int fd_ = -1;
};

}  // namespace kiln
