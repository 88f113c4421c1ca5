// How compose's containers read in `compose ps`, `port` and `top`: docker
// compose v2's rows, words and JSON, as data for cli/ to print.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <llvm/Support/Error.h>
#include <nlohmann/json.hpp>

#include "compose/engine.h"
#include "compose/project.h"

namespace kiln::compose {

/// The containers `compose ps` lists: the services' (all when empty) running
/// and restarting ones, or every one with `all`.
llvm::Expected<std::vector<ContainerInfo>> ps_containers(Engine& engine, const Project& project,
                                                         const std::vector<std::string>& services,
                                                         bool all);

/// `compose ps --services`: the containers' service names, each once, in order.
std::vector<std::string> service_names(const std::vector<ContainerInfo>& containers);

/// docker's status words at `now_ns`: "Up 3 seconds", "Up 2 minutes (healthy)",
/// "Exited (7) 2 minutes ago", "Restarting (1) 1 second ago", "Created".
std::string ps_status(const ContainerInfo& container, int64_t now_ns);
/// The COMMAND column: the command line quoted, cut to 20 characters with "…".
std::string ps_command(const ContainerInfo& container);

/// `compose ps --format json`'s object for one container of project `project`.
nlohmann::ordered_json ps_json(const ContainerInfo& container, const std::string& project,
                               int64_t now_ns);

/// `compose ps`'s table: the header (NAME IMAGE COMMAND SERVICE CREATED STATUS
/// PORTS), then a row per container.
std::vector<std::vector<std::string>> ps_table(const std::vector<ContainerInfo>& containers,
                                               int64_t now_ns);

/// `compose images`' table: the header (CONTAINER REPOSITORY TAG IMAGE ID), then
/// a row per container (its image's familiar repository and tag, the short ID).
std::vector<std::vector<std::string>> images_table(const std::vector<ContainerInfo>& containers);

/// `compose port`: the host address ("127.0.0.1:49153") replica `index` of
/// `service` publishes container port `port`/`protocol` on. Fails when the
/// service has no running container or does not publish that port.
llvm::Expected<std::string> published_port(Engine& engine, const Project& project,
                                           const std::string& service, int index, int port,
                                           const std::string& protocol);

/// A running container and its processes, for `compose top`.
struct ContainerProcesses {
  std::string name;
  std::vector<containers::ProcessInfo> processes;
};

/// `compose top`: the services' running containers with their processes. A
/// container that stopped meanwhile is left out.
llvm::Expected<std::vector<ContainerProcesses>> top(Engine& engine, const Project& project,
                                                    const std::vector<std::string>& services);

/// `compose top`'s table for one container: the header (UID PID PPID CMD), then
/// a row per process.
std::vector<std::vector<std::string>> top_rows(const ContainerProcesses& container);

}  // namespace kiln::compose
