// Advisory locks on files and directories (flock): the one implementation, held
// by a move-only handle.
#pragma once

#include <optional>
#include <string>

#include <llvm/ADT/StringRef.h>
#include <llvm/Support/Error.h>

#include "support/cancel.h"

namespace kiln {

/// flock's two modes: many shared holders, or one exclusive holder.
enum class LockMode { shared, exclusive };

/// What a lock is taken on: a lock file (created with mode 0600 when missing; an
/// existing one on a read-only file system is opened read-only) or an existing
/// directory.
enum class LockTarget { file, directory };

/// A flock on a file or directory. Move-only; released on destruction (its
/// descriptor is closed). The descriptor is close-on-exec, so the lock never leaks
/// into a child process. One FileLock is not thread-safe; locks of two FileLocks
/// exclude each other as flock's do, within one process too.
class FileLock {
 public:
  /// Waits for a `mode` lock on `path`.
  static llvm::Expected<FileLock> acquire(llvm::StringRef path, LockMode mode = LockMode::exclusive,
                                          LockTarget target = LockTarget::file);
  /// Takes a `mode` lock on `path` if no one holds a conflicting one; nullopt
  /// when someone does.
  static llvm::Expected<std::optional<FileLock>> try_acquire(llvm::StringRef path,
                                                             LockMode mode = LockMode::exclusive,
                                                             LockTarget target = LockTarget::file);
  /// Waits for a `mode` lock on the lock file `path`, looking every 50 ms; fails
  /// with a CancelledError when `cancel` fires first.
  static llvm::Expected<FileLock> acquire(llvm::StringRef path, LockMode mode,
                                          const CancelToken& cancel);

  /// Changes the held lock to `mode`, waiting as acquire() does. Not atomic (as
  /// with flock): another process may take the lock in between.
  llvm::Error change_mode(LockMode mode);

  FileLock(FileLock&& other) noexcept;
  FileLock& operator=(FileLock&& other) noexcept;
  FileLock(const FileLock&) = delete;
  FileLock& operator=(const FileLock&) = delete;
  ~FileLock();

 private:
  FileLock(int fd, std::string path) : fd_(fd), path_(std::move(path)) {}
  static llvm::Expected<FileLock> open(llvm::StringRef path, LockTarget target);
  int fd_ = -1;
  std::string path_;  // for messages
};

/// Locks the open descriptor `fd` (of the file `path`, named in errors) in
/// `mode`, waiting; the lock lasts until every copy of `fd` is closed. For a file
/// that is its own lock (a blob being written).
llvm::Error lock_fd(int fd, LockMode mode, llvm::StringRef path);
/// As lock_fd() without waiting: false when another holds a conflicting lock.
llvm::Expected<bool> try_lock_fd(int fd, LockMode mode, llvm::StringRef path);

}  // namespace kiln
