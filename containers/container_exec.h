// `kiln exec`: a process in a running container. kiln becomes the OCI runtime's
// `exec` (which joins the container's namespaces and passes on stdio, signals and
// the exit code).
#pragma once

#include <string>
#include <vector>

#include <llvm/Support/Error.h>

#include "containers/container_store.h"

namespace kiln::containers {

/// docker exec's options.
struct ExecOptions {
  /// The process's argv; not empty.
  std::vector<std::string> args;
  /// Runs it in the background: it keeps no stdio of this process.
  bool detach = false;
  /// Hands it this process's stdin (else /dev/null).
  bool interactive = false;
  /// A pseudo-terminal.
  bool tty = false;
  /// "KEY=VALUE", or "KEY" for this process's own value (dropped when unset).
  std::vector<std::string> env;
  /// <name|uid>[:<group|gid>] in the container; empty: the container's.
  std::string user;
  /// Working directory; empty: the container's.
  std::string workdir;
};

/// The environment entries `flags` (ExecOptions::env) give, "KEY" taking this
/// process's value as docker does and dropped when it has none.
std::vector<std::string> exec_env(const std::vector<std::string>& flags);

/// The OCI runtime's command line that runs `options` in container `id` of
/// `store`. Fails, worded as docker, when it is not running, or when its user does
/// not resolve in its root file system.
llvm::Expected<std::vector<std::string>> exec_command(const ContainerStore& store,
                                                      const std::string& id,
                                                      const ExecOptions& options);

/// Replaces this process by the runtime's exec of `options` in the container
/// `name` (a name or (short) ID) of the store at `root`, with stdin (and for
/// `detach` stdout and stderr) from /dev/null as the options say. Returns only
/// when it could not (exec_command()'s errors, or the exec's own).
llvm::Error exec_in_container(llvm::StringRef root, llvm::StringRef name,
                              const ExecOptions& options);

}  // namespace kiln::containers
