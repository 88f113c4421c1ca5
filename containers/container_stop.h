// Stopping and removing containers from any kiln process: a stop is a request
// (the stop-requested file, so that the monitor does not restart the container)
// and a signal through the OCI runtime; the container has stopped once nothing
// holds its monitor.lock.
#pragma once

#include <cstdint>
#include <string>

#include <llvm/Support/Error.h>

#include "containers/container_store.h"
#include "runtime/container_control.h"

namespace kiln::containers {

/// Waits up to `timeout_ms` (negative: forever) until nothing runs container `id`.
/// False on a timeout.
bool wait_for_exit(const ContainerStore& store, const std::string& id, int64_t timeout_ms);

/// Marks the container as stopped by the user, so that its monitor does not
/// restart it. Best effort.
void request_stop(const ContainerPaths& paths);

/// The OCI runtime's control of the containers of `store` (container_runtime()).
llvm::Expected<runtime::ContainerControl> control(const ContainerStore& store);

/// Stops `id`: its stop signal, then SIGKILL after `timeout_s` seconds (negative:
/// its --stop-timeout); returns once nothing runs it. Fails when it did not exit
/// after SIGKILL.
llvm::Error stop_container(const ContainerStore& store, const std::string& id, int timeout_s);

/// Sends `signal` to the running container `id`'s process (docker's `kill`); a
/// signal that ends a process (KILL, TERM, INT or the container's stop signal)
/// counts as a stop by the user, so no restart follows. Fails, worded as docker,
/// when the container is not running.
llvm::Error kill_container(const ContainerStore& store, const std::string& id, int signal);

/// Removes `id` (see ContainerStore::remove) under its op.lock; a running
/// container only with `force` (killed first), else a docker-worded error.
llvm::Error remove_container(const ContainerStore& store, const std::string& id, bool force,
                             bool anonymous_volumes = false);

}  // namespace kiln::containers
