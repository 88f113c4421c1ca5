// Commands on containers that outlive one kiln process (`kiln exec`, `stop`, `kill`,
// `rm`, health checks): each runs the OCI runtime binary once against a container
// that the Executor started under a known id (RunRequest::container_id).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <llvm/ADT/StringRef.h>
#include <llvm/Support/Error.h>

#include "runtime/executor.h"
#include "runtime/user.h"

namespace kiln::runtime {

/// A signal by name ("SIGTERM", "TERM", "term") or number ("15"), as docker's
/// --signal and STOPSIGNAL accept it. Fails with a UsageError otherwise.
llvm::Expected<int> parse_signal(llvm::StringRef text);

/// A process to start in a running container, like `docker exec`.
struct ExecRequest {
  /// argv; not empty.
  std::vector<std::string> args;
  /// "KEY=VALUE" entries added to (and overriding) the container's environment.
  std::vector<std::string> env;
  /// Working directory; empty: the container's.
  std::string cwd;
  /// The identity to run as; nullopt: the container's.
  std::optional<ResolvedUser> user;
  /// A pseudo-terminal (the runtime copies it to and from its own stdio).
  bool tty = false;
};

/// What a captured exec printed and how it ended.
struct ExecResult {
  ExitStatus status;
  /// stdout and stderr together, at most the requested number of bytes.
  std::string output;
  /// True when the process was killed for running past the timeout.
  bool timed_out = false;
};

/// The OCI runtime named by ExecutorOptions (kind, binary, runtime root), as a
/// handle for one-shot commands. Cheap to copy; thread-safe.
class ContainerControl {
 public:
  /// Finds the runtime binary (PATH when `options.runtime_binary` is empty).
  static llvm::Expected<ContainerControl> open(const ExecutorOptions& options);

  /// Sends `signal` to the container's first process. A container that exists
  /// but has stopped is fine; a missing one is an error.
  llvm::Error kill(llvm::StringRef id, int signal) const;
  /// Freezes or thaws every process of the container.
  llvm::Error pause(llvm::StringRef id) const;
  llvm::Error resume(llvm::StringRef id) const;
  /// Kills the container's processes and deletes it; a missing container is fine.
  llvm::Error remove(llvm::StringRef id) const;
  /// The runtime's status of `id` ("created", "running", "paused", "stopped"), or
  /// nullopt when the runtime does not know it.
  llvm::Expected<std::optional<std::string>> status(llvm::StringRef id) const;

  /// The argv of the runtime's `exec` for `request` in container `id`: run with
  /// the caller's stdio, it is `docker exec` (exit code, signals, tty included).
  std::vector<std::string> exec_argv(llvm::StringRef id, const ExecRequest& request) const;
  /// Runs `request` (no tty) in container `id` with stdin from /dev/null,
  /// keeping at most `max_output` bytes of its output; after `timeout_ms` (0: no
  /// limit) the process is killed and `timed_out` set. Fails when the runtime
  /// cannot start it.
  llvm::Expected<ExecResult> exec_capture(llvm::StringRef id, const ExecRequest& request,
                                          int64_t timeout_ms, size_t max_output) const;

  const std::string& binary() const { return binary_; }

 private:
  ContainerControl(std::string binary, std::string root)
      : binary_(std::move(binary)), root_(std::move(root)) {}
  std::vector<std::string> command(std::vector<std::string> args) const;
  llvm::Error simple(llvm::StringRef what, std::vector<std::string> args) const;

  std::string binary_;
  std::string root_;
};

}  // namespace kiln::runtime
