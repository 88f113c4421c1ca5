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

/// The JSON object `docker inspect` gives for a container (Id, Created, Path,
/// Args, State, Image, Name, RestartCount, HostConfig, Config, NetworkSettings,
/// GraphDriver, ...).
nlohmann::ordered_json inspect_json(const ContainerStore& store, const ContainerView& view);

/// For `kiln inspect NAME`: the container `text` names, as inspect JSON, or
/// nullopt when no container has that name or ID.
llvm::Expected<std::optional<nlohmann::ordered_json>> inspect_container(llvm::StringRef root,
                                                                        llvm::StringRef text);

}  // namespace kiln::containers
