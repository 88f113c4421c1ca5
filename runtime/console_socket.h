// Internal to runtime/: the unix socket on which the OCI runtime hands over the
// pseudo-terminal master of a container started with a tty (--console-socket).
#pragma once

#include <string>

#include <llvm/ADT/StringRef.h>
#include <llvm/Support/Error.h>

#include "runtime/spawn.h"

namespace kiln::runtime {

/// A listening unix socket at a path; the file is removed on destruction.
class ConsoleSocket {
 public:
  /// Listens at `path` (shorter than 108 bytes).
  static llvm::Expected<ConsoleSocket> listen(llvm::StringRef path);
  ConsoleSocket(ConsoleSocket&&) = default;
  ConsoleSocket& operator=(ConsoleSocket&&) = default;
  ~ConsoleSocket();
  const std::string& path() const { return path_; }
  /// Accepts the runtime's connection and receives the pty master (SCM_RIGHTS).
  /// Waits at most `timeout_ms` for the connection.
  llvm::Expected<UniqueFd> receive_master(int timeout_ms);

 private:
  ConsoleSocket(std::string path, UniqueFd fd) : path_(std::move(path)), fd_(std::move(fd)) {}
  std::string path_;
  UniqueFd fd_;
};

}  // namespace kiln::runtime
