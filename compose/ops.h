// The compose commands over an Engine: what docker compose v2 does for up, down,
// ps, start, stop, restart, rm and kill, reported as ComposeEvents. Each takes
// the loaded project; the service names given select services (none: all).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <llvm/Support/Error.h>

#include "compose/engine.h"
#include "compose/events.h"
#include "compose/project.h"
#include "compose/service.h"

namespace kiln::compose {

/// Builds the images of the services named (for up: the buildable services whose
/// image is missing, or all of them with --build).
using BuildFn =
    std::function<llvm::Error(const std::vector<ServiceConfig>& services, bool missing_only)>;

struct UpOptions {
  std::vector<std::string> services;
  bool build = false;
  bool no_build = false;
  bool force_recreate = false;
  bool no_recreate = false;
  bool no_deps = false;
  bool remove_orphans = false;
  /// --wait: until every container runs (healthy, with a health check).
  bool wait = false;
  /// --wait-timeout in seconds; 0 waits as long as it takes.
  int wait_timeout_s = 0;
  /// --scale SERVICE=N
  std::map<std::string, int> scale;
};

/// Adds `--scale` values ("SERVICE=NUM") to `scale`; a malformed one is a
/// UsageError.
llvm::Error parse_scale(const std::vector<std::string>& values, std::map<std::string, int>& scale);

/// `compose up`: builds what must be built, creates the networks and volumes,
/// then, service after service in dependency order (waiting for each
/// depends_on condition), creates, recreates (changed config hash) or starts
/// its containers, and removes surplus replicas. A second `up` of an unchanged
/// project only reports "Running".
llvm::Error up(Engine& engine, const Project& project, const UpOptions& options,
               const BuildFn& build, ComposeEvents& events);

struct DownOptions {
  /// -v: remove the project's named and anonymous volumes too.
  bool volumes = false;
  /// --rmi: "" (none), "local" (images compose named) or "all".
  std::string rmi;
  bool remove_orphans = false;
  int timeout_s = -1;
};

/// `compose down`: stops and removes the project's containers (one-off ones
/// too), its networks, and with the options its volumes and images.
llvm::Error down(Engine& engine, const Project& project, const DownOptions& options,
                 ComposeEvents& events);

/// The project's containers (of `services`, all when empty), ordered by service
/// and number; one-off containers only with `oneoff`.
llvm::Expected<std::vector<ContainerInfo>> project_containers(
    Engine& engine, const Project& project, const std::vector<std::string>& services,
    bool oneoff = false);

enum class Lifecycle { start, stop, restart, kill, rm };

struct LifecycleOptions {
  int timeout_s = -1;
  int signal = 9;
  /// rm: also running containers (stopped first); rm -s stops them.
  bool force = false;
  bool stop_first = false;
};

/// start/stop/restart/kill/rm of the services' containers, in dependency order
/// (reverse order for stop, kill and rm).
llvm::Error lifecycle(Engine& engine, const Project& project, Lifecycle action,
                      const std::vector<std::string>& services, const LifecycleOptions& options,
                      ComposeEvents& events);

/// The container a command such as exec addresses: replica `index` (1-based) of
/// `service`. Fails when the service has no running container.
llvm::Expected<ContainerInfo> service_container(Engine& engine, const Project& project,
                                                const std::string& service, int index);

struct RunOptions {
  std::string service;
  std::vector<std::string> command;
  std::optional<std::string> entrypoint;
  std::vector<std::string> env;
  std::string name;
  std::string user;
  std::string workdir;
  bool remove = false;
  bool no_deps = false;
  bool service_ports = false;
  std::vector<std::string> publish;
  /// Keep stdin open (docker compose run's -i, on by default) and give the
  /// process a terminal (off with -T or when stdin is not one).
  bool interactive = true;
  bool tty = false;
};

/// The networks and volumes (named and anonymous) a container of `service`
/// made from `request` needs, created when missing (as `up` creates them).
llvm::Error ensure_service_resources(Engine& engine, const Project& project,
                                     const ServiceConfig& service, const ContainerRequest& request,
                                     ComposeEvents& events);

/// `compose run`: starts the service's dependencies (unless no_deps), creates
/// the networks and volumes it needs, and creates a one-off container
/// `<project>-<service>-run-<id>` (not started); returns it.
llvm::Expected<ContainerInfo> create_run_container(Engine& engine, const Project& project,
                                                   const RunOptions& options, const BuildFn& build,
                                                   ComposeEvents& events);

}  // namespace kiln::compose
