// Small file-system helpers that return llvm::Error with the path in the message.
#pragma once

#include <string>

#include <llvm/ADT/StringRef.h>
#include <llvm/Support/Error.h>

namespace kiln::fs {

/// Reads the whole file at `path`.
llvm::Expected<std::string> read_file(llvm::StringRef path);
/// Creates `path` and its missing parents with `mode`.
llvm::Error make_dirs(llvm::StringRef path, unsigned mode = 0755);
/// Removes `path` recursively, without following symlinks; a missing path is fine.
/// Does not cross mount points' contents if something is mounted below (fails).
llvm::Error remove_all(llvm::StringRef path);
/// True when `path` exists (lstat).
bool exists(llvm::StringRef path);
/// Joins path components with '/'.
std::string join(llvm::StringRef a, llvm::StringRef b);
/// Writes all of `data` to `fd`, retrying short writes and EINTR. Returns false
/// (errno set) when a write fails or writes nothing. Thread-safe per fd.
bool write_all(int fd, llvm::StringRef data);
/// write_all() for a socket, with send(MSG_NOSIGNAL): a peer that has gone gives
/// false (EPIPE), not SIGPIPE.
bool send_all(int fd, llvm::StringRef data);
/// A new empty directory under `parent` named `prefix` + random suffix.
llvm::Expected<std::string> make_temp_dir(llvm::StringRef parent, llvm::StringRef prefix);

}  // namespace kiln::fs
