// Running a process in a sandboxed container through an OCI runtime (runc, crun).
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <string>

#include <llvm/ADT/StringRef.h>
#include <llvm/Support/Error.h>

#include "runtime/process_spec.h"
#include "support/cancel.h"
#include "support/error.h"

namespace kiln::runtime {

/// Which of a container's output streams a line came from.
enum class OutputStream { out, err };

/// Receives the process's output one line at a time (without the '\n'), on the
/// thread that called Executor::run. Lines longer than 64 KiB arrive in pieces; the
/// last line may lack its newline. With a tty, all output arrives as `out`.
using OutputCallback = std::function<void(OutputStream stream, llvm::StringRef line)>;

/// What stops a run (the executor kills the container and cleans up) and carries
/// signals to pass on to the container's first process (docker's --sig-proxy):
/// support's one token.
using kiln::CancelToken;

/// A container that has started: its id and the host pid of its first process.
struct StartedContainer {
  std::string id;
  int pid = 0;
};

/// Where the process's standard streams go. An fd given here is borrowed (never
/// closed) and passed to the process directly (or copied to/from the pty with
/// `tty`); -1 means: stdin reads /dev/null, stdout/stderr go to `on_output`.
struct Stdio {
  int stdin_fd = -1;
  int stdout_fd = -1;
  int stderr_fd = -1;
  OutputCallback on_output;
};

/// One container run: `rootfs` is a host directory (already mounted by the caller).
struct RunRequest {
  std::string rootfs;
  ProcessSpec process;
  Stdio stdio;
  /// Called once the process runs (e.g. to record the id for `kiln ps`); optional.
  std::function<void(const StartedContainer&)> on_started;
  /// The runtime's name for the container (letters, digits, '_', '-', '.'); empty:
  /// a random one. Must not name a container that exists in the runtime.
  std::string container_id;
};

/// How the process ended: `signal` is 0 when it exited with `exit_code`.
struct ExitStatus {
  int exit_code = 0;
  int signal = 0;
  /// The shell's convention: exit_code, or 128+signal.
  int code() const { return signal != 0 ? 128 + signal : exit_code; }
  bool operator==(const ExitStatus&) const = default;
};

/// Runs processes in containers. Implementations: the OCI runtime executor (runc,
/// crun) and fakes in tests.
class Executor {
 public:
  virtual ~Executor() = default;
  /// Runs `request` to completion and returns how the process ended (a non-zero exit
  /// is not an error). Fails when the container cannot be set up or started (a
  /// StartError when the runtime refused to start the process), with a
  /// CancelledError when `cancel` fires (the container is killed first). After it
  /// returns, no container and no state of this run remain. Thread-safe: runs may
  /// proceed concurrently.
  virtual llvm::Expected<ExitStatus> run(const RunRequest& request, const CancelToken* cancel) = 0;
  /// The runtime's name ("runc", "crun", "fake").
  virtual llvm::StringRef name() const = 0;
};

/// Why an OCI runtime could not start a process, read from its message as docker
/// reads it: "executable file not found" or "no such file or directory" is
/// not_found, "permission denied" not_executable, anything else other.
StartFailure start_failure_of(llvm::StringRef runtime_message);

/// The OCI runtimes kiln knows.
enum class RuntimeKind { runc, crun };

struct ExecutorOptions {
  RuntimeKind kind = RuntimeKind::runc;
  /// Directory under which each run keeps its bundle (`<state_dir>/<id>/`); created.
  std::string state_dir;
  /// The runtime binary; empty: `runc` or `crun` from PATH.
  std::string runtime_binary;
  /// The runtime's own state root (--root); empty: the runtime's default, so that
  /// `runc list` shows kiln's containers.
  std::string runtime_root;
  /// True when `runtime_root` holds only containers of runs under `state_dir`:
  /// then a container there without a state dir is an orphan, deleted on reclaim.
  bool runtime_root_exclusive = false;
};

/// The runtime named by `value` ("runc", "crun"; "" is runc), e.g. from the
/// KILN_OCI_RUNTIME environment variable. Fails with a UsageError otherwise.
llvm::Expected<RuntimeKind> parse_runtime_kind(llvm::StringRef value);

/// An executor using the OCI runtime in `options`. Fails when the binary is not
/// found or the state dir cannot be created. Makes the calling process a child
/// subreaper (prctl) so that it can wait for container processes.
///
/// Each run's container dies with the process that started it: a guard process
/// deletes it (`delete --force`) when its owner dies, even by SIGKILL. Creating an
/// executor reclaims the runs under `state_dir` that no living process owns (and
/// at least 10 s old): deletes their containers and state dirs, and with an
/// exclusive `runtime_root`, every container there without a state dir.
llvm::Expected<std::unique_ptr<Executor>> make_oci_executor(const ExecutorOptions& options);

/// The OCI runtime binary of `options`: `runtime_binary`, else runc or crun (by
/// `kind`) found in PATH ("OCI runtime 'runc' not found in PATH").
llvm::Expected<std::string> find_runtime_binary(const ExecutorOptions& options);

}  // namespace kiln::runtime
