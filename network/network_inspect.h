// A network as `docker network inspect` shows it.
#pragma once

#include <nlohmann/json.hpp>

#include "network/network_store.h"

namespace kiln::network {

/// The JSON object docker gives for network `record` of `networks`: Name, Id,
/// Created, Driver, IPAM, Containers (its endpoints; none when they cannot be
/// read), Labels, ...
nlohmann::ordered_json inspect_json(const NetworkStore& networks, const NetworkRecord& record);

}  // namespace kiln::network
