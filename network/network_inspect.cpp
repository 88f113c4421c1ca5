#include "network/network_inspect.h"

#include "support/units.h"

namespace kiln::network {

nlohmann::ordered_json inspect_json(const NetworkStore& networks, const NetworkRecord& r) {
  nlohmann::ordered_json containers = nlohmann::ordered_json::object();
  auto endpoints = networks.endpoints(r.name);
  if (endpoints) {
    for (const auto& e : *endpoints) {
      containers[e.request.container_id] = {
          {"Name", e.request.container_name},
          {"EndpointID", e.veth},
          {"MacAddress", ""},
          {"IPv4Address", e.ip + "/" + std::to_string(e.prefix_len)},
          {"IPv6Address", ""}};
    }
  } else {
    llvm::consumeError(endpoints.takeError());
  }
  return {{"Name", r.name},
          {"Id", r.id},
          {"Created", rfc3339_utc(r.created_ns, 9)},
          {"Scope", "local"},
          {"Driver", r.driver},
          {"EnableIPv6", false},
          {"IPAM",
           {{"Driver", "default"},
            {"Options", nlohmann::ordered_json::object()},
            {"Config", {{{"Subnet", r.subnet}, {"Gateway", r.gateway}}}}}},
          {"Internal", false},
          {"Attachable", false},
          {"Ingress", false},
          {"ConfigFrom", {{"Network", ""}}},
          {"ConfigOnly", false},
          {"Containers", containers},
          {"Options", nlohmann::ordered_json::object()},
          {"Labels", r.labels}};
}

}  // namespace kiln::network
