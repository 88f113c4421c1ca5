// Where compose's commands meet the process they run in: the project named by
// the command line, the current directory, the environment and stdin; kiln's
// own binary, whose commands compose runs (a detached container's monitor,
// `pull`, `push`, `exec`); the engine over the store.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <llvm/Support/Error.h>

#include "compose/engine.h"
#include "compose/project.h"

namespace kiln::compose {

/// The process's environment as a map.
Environment process_environment();

/// load_project() with what the process says filled in: `working_dir` (the
/// current directory), `environment` (the process's) and `stdin_text` (stdin,
/// read when `files` holds "-"). The other fields are the command line's.
llvm::Expected<Project> load_project_here(LoadOptions options, const WarnFn& warn);

/// Runs this kiln binary as `kiln --root ROOT ARGS...` in the foreground (same
/// stdio, same process group) and waits; returns its exit code (128+N after
/// signal N).
llvm::Expected<int> run_kiln(const std::string& root, const std::vector<std::string>& args);

/// A loaded project, the store root and the engine over it.
struct Session {
  Project project;
  std::string root;
  std::unique_ptr<Engine> engine;
};

/// load_project_here(), and kiln's own engine over the store at `root`
/// (detached containers run under this binary's `container-monitor`).
llvm::Expected<Session> open_session(const std::string& root, const LoadOptions& options,
                                     const WarnFn& warn);

/// `compose exec`: what `kiln exec` is given for the process.
struct ExecOptions {
  std::string service;
  /// Which replica (1-based).
  int index = 1;
  /// COMMAND [ARGS...]
  std::vector<std::string> command;
  bool detach = false;
  /// Give the process a terminal (-it); otherwise stdin is attached (-i)
  /// unless `detach`.
  bool tty = false;
  std::vector<std::string> env;  ///< KEY=VALUE
  std::string user;
  std::string workdir;
};

/// `kiln exec`'s arguments for `options` in container `id`.
std::vector<std::string> exec_args(const ExecOptions& options, const std::string& id);

/// `compose exec`: runs `kiln exec` in the service's replica; returns its exit
/// code. Fails when the service has no running container.
llvm::Expected<int> exec_in_service(Session& session, const ExecOptions& options);

}  // namespace kiln::compose
