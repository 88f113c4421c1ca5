// The smaller container commands' logic: wait, pause/unpause, the processes of a
// running container (top) and its resource use (stats).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <llvm/Support/Error.h>

#include "containers/container_store.h"

namespace kiln::containers {

/// Waits until container `id` is not running and returns its exit code.
llvm::Expected<int> wait_container(const ContainerStore& store, llvm::StringRef id);

/// Freezes (or thaws) every process of a running container.
llvm::Error pause_container(const ContainerStore& store, llvm::StringRef id, bool pause);

/// The host pids of a running container's processes: its first process and
/// every descendant. Fails when it is not running.
llvm::Expected<std::vector<int>> container_pids(const ContainerStore& store, llvm::StringRef id);

/// `kiln top`: what `ps PS_ARGS -p PIDS` prints for container_pids() (PS_ARGS
/// `ps_args`, "-f" when empty). Fails as container_pids(), with a UsageError for
/// an argument that holds other than letters, digits, '-' and ',', or when ps
/// cannot be run.
llvm::Expected<std::string> top_output(const ContainerStore& store, llvm::StringRef id,
                                       const std::vector<std::string>& ps_args);

/// A process of a container as `compose top` shows it.
struct ProcessInfo {
  int pid = 0;
  std::string uid;      ///< real uid, "?" when /proc does not say
  std::string ppid;     ///< "?" when /proc does not say
  std::string command;  ///< the command line, its words joined by spaces
};

/// The processes of running container `id` (container_pids(), in pid order),
/// read from /proc; a process gone meanwhile is left out. Fails when the
/// container is not running.
llvm::Expected<std::vector<ProcessInfo>> container_processes(const ContainerStore& store,
                                                             llvm::StringRef id);

/// A running container's resource use, as `docker stats --no-stream` shows it.
struct ContainerStats {
  double cpu_percent = 0;    ///< over a short sample, 100 = one CPU
  int64_t memory_bytes = 0;  ///< resident memory of its processes
  int64_t memory_limit = 0;  ///< its --memory, else the host's memory
  int64_t net_rx = 0;
  int64_t net_tx = 0;
  int64_t block_read = 0;
  int64_t block_write = 0;
  int pids = 0;
};

llvm::Expected<ContainerStats> container_stats(const ContainerStore& store, llvm::StringRef id);

/// The IDs of the containers of `store` that run now (`kiln stats` without names);
/// one whose state cannot be read is left out.
llvm::Expected<std::vector<std::string>> running_ids(const ContainerStore& store);

/// `docker stats --no-stream`'s header row.
std::vector<std::string> stats_header();

/// The row `docker stats --no-stream` shows for `stats` of container `id` named
/// `name`: short ID, name, CPU %, memory, memory %, net and block I/O, pids.
std::vector<std::string> stats_columns(llvm::StringRef id, llvm::StringRef name,
                                       const ContainerStats& stats);

/// stats_columns() of container `id` now (container_stats(), its errors).
llvm::Expected<std::vector<std::string>> stats_row(const ContainerStore& store, llvm::StringRef id);

}  // namespace kiln::containers
