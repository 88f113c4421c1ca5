// A detached container's monitor: a process of its own (kiln's hidden
// `kiln container-monitor ID` command, whose argv cli/ hands in), started in a new
// session by a double fork, that holds the container's monitor.lock and runs it
// (see container_runner.h) for as long as it runs.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <llvm/Support/Error.h>

#include "containers/container_store.h"

namespace kiln::containers {

/// The hidden kiln command that runs a monitor: `kiln --root ROOT container-monitor ID`.
inline constexpr const char* kMonitorCommand = "container-monitor";

/// This kiln binary's path (/proc/self/exe).
llvm::Expected<std::string> kiln_executable();

/// This kiln binary's monitor command line for container `id` of `store`
/// (/proc/self/exe, so only a kiln process may call it). Fails when the binary
/// cannot be found.
llvm::Expected<std::vector<std::string>> monitor_argv(const ContainerStore& store,
                                                      const std::string& id);

/// Starts a monitor for container `id` (which nothing runs: the caller holds its
/// op.lock and checked) by running `argv` (argv[0] an absolute path; a command
/// that calls run_monitor() for the same root and `id`) and waits until the
/// container's process runs or could not be started. Fails with a StartError
/// (docker's exit code in it) when the container could not be started, with
/// another error when the monitor itself could not be started.
llvm::Error start_monitor(const ContainerStore& store, const std::string& id,
                          const std::vector<std::string>& argv);

/// `kiln start` of container `id`: unless something runs it, clears its stop
/// request and starts a monitor running `argv` for it (start_monitor()), under
/// its op.lock (after cleaning up behind a monitor that was lost). Returns where
/// in its log file the output of this start begins, or nullopt when it was
/// running already. Fails as start_monitor() does.
llvm::Expected<std::optional<int64_t>> start_container(const ContainerStore& store,
                                                       const std::string& id,
                                                       const std::vector<std::string>& argv);

/// `kiln run -d`: starts the just created container `id` under a monitor
/// (monitor_argv()), under its op.lock. A container that could not be started
/// is kept (Created, with the error), as docker does. Fails as start_monitor().
llvm::Error start_created(const ContainerStore& store, const std::string& id);

/// Whether `kiln start` follows the container's output.
enum class Attach { yes, no };

/// `kiln start [-a]`: start_container() with monitor_argv(). With `attach`
/// (unless it was running already) prints its output from this start on (stdout
/// lines to fd 1, stderr lines to fd 2) until it exits and returns its exit
/// code; else returns 0.
llvm::Expected<int> start_stopped(const ContainerStore& store, const std::string& id,
                                  Attach attach);

/// `kiln restart`: stop_container() (`timeout_s` negative: its --stop-timeout),
/// then start_stopped() without attaching.
llvm::Error restart_container(const ContainerStore& store, const std::string& id, int timeout_s);

/// The body of a monitor process started by start_monitor(): takes the
/// container's monitor.lock, runs it until it ends for good (reporting on the
/// ready fd when its process runs or could not be started), removes it if it was
/// started with --rm. Hands an error of the run, as text, to `log_error` (the
/// monitor's stderr is its monitor.log). Returns the process's exit code.
int run_monitor(llvm::StringRef root, const std::string& id,
                const std::function<void(const std::string& message)>& log_error);

}  // namespace kiln::containers
