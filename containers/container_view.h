// How containers are shown: docker's ps columns and status words, and the JSON
// of `kiln inspect CONTAINER`.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <llvm/Support/Error.h>
#include <nlohmann/json.hpp>

#include "containers/container_store.h"

namespace kiln::containers {

/// A container as read now (its state already reconciled).
struct ContainerView {
  ContainerSpec spec;
  ContainerState state;
};

/// Container `id` of `store` as read now.
llvm::Expected<ContainerView> load_view(const ContainerStore& store, const std::string& id);

/// Every container of `store`, newest first. Containers whose record cannot be
/// read (being created or removed) are skipped.
llvm::Expected<std::vector<ContainerView>> list_containers(const ContainerStore& store);

/// docker's status text: "Up 3 seconds", "Up 2 minutes (healthy)", "Exited (7) 2
/// minutes ago", "Restarting (1) 1 second ago", "Created".
std::string status_text(const ContainerState& state, int64_t now_ns);
/// "httpd -f -p 80": the process's path and arguments joined by spaces.
std::string command_text(const ContainerSpec& spec);
/// "127.0.0.1:8080->80/tcp, ...".
std::string ports_text(const ContainerView& view);

/// `kiln ps`'s choices of containers and columns.
struct PsOptions {
  /// Stopped containers too (else only running ones, unless a status filter).
  bool all = false;
  /// Whole IDs and commands.
  bool no_trunc = false;
  /// `--filter` values (container_filter.h).
  std::vector<std::string> filters;
};

/// A container as one line of `docker ps --format json`: Command (Go-quoted, cut
/// to 20 characters unless `no_trunc`), CreatedAt, ID (12 characters unless
/// `no_trunc`), Image, Labels, LocalVolumes, Mounts, Names, Networks, Ports,
/// RunningFor, Size, State, Status, in that order.
nlohmann::ordered_json ps_row(const ContainerView& view, bool no_trunc, int64_t now_ns);

/// docker's column names of ps_row()'s fields, for `table` templates.
const nlohmann::ordered_json& ps_header();

/// `kiln ps`: ps_row() of each container `options` select, newest first. First
/// removes (best effort) the --rm containers whose runner died, which docker
/// never lists. Fails on a bad filter or when the store cannot be read.
llvm::Expected<std::vector<nlohmann::ordered_json>> ps_rows(const ContainerStore& store,
                                                            const PsOptions& options,
                                                            int64_t now_ns);

/// `kiln port`: "80/tcp -> 127.0.0.1:8080" for each port `view` publishes now, or
/// for `wanted` ("80" or "80/tcp") its host addresses ("127.0.0.1:8080"). Fails,
/// worded as docker, when nothing is published for `wanted`.
llvm::Expected<std::vector<std::string>> port_lines(const ContainerView& view,
                                                    llvm::StringRef wanted);

/// The JSON object `docker inspect` gives for a container (Id, Created, Path,
/// Args, State, Image, Name, RestartCount, HostConfig, Config, NetworkSettings,
/// GraphDriver, ...).
nlohmann::ordered_json inspect_json(const ContainerStore& store, const ContainerView& view);

/// For `kiln inspect NAME`: the container `text` names, as inspect JSON, or
/// nullopt when no container has that name or ID.
llvm::Expected<std::optional<nlohmann::ordered_json>> inspect_container(llvm::StringRef root,
                                                                        llvm::StringRef text);

}  // namespace kiln::containers
