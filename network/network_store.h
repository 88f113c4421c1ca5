// User networks without touching the host's network namespace. A network is a
// record in the store (ROOT/networks/<name>/network.json) and, while at least one
// container is attached, a network namespace of its own (netns) holding a bridge
// `br0` with the gateway address; each attached container has its own namespace
// with a veth whose other end is on that bridge, and an address from the
// network's subnet (IPAM in endpoints.json, under the network's lock). Names:
// every attached container's /etc/hosts (a file kiln keeps current) lists the
// other containers of its networks by name and alias.
//
//   ROOT/networks/<name>/network.json   NetworkRecord (written once)
//   ROOT/networks/<name>/endpoints.json  the attached containers and the last address
//   ROOT/networks/<name>/lock            flock for endpoints.json and the namespace
//   ROOT/networks/<name>/netns           the network's namespace (mounted while in use)
//   ROOT/networks/.lock                  flock for create/rm (names, subnets)
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <llvm/ADT/StringRef.h>
#include <llvm/Support/Error.h>

namespace kiln::network {

/// The default network `kiln run` joins without --network (created on first use).
inline constexpr llvm::StringLiteral kDefaultNetwork = "kiln";

struct NetworkRecord {
  std::string id;  ///< 64 hex digits
  std::string name;
  std::string driver = "bridge";
  std::string subnet;   ///< "10.89.0.0/24"
  std::string gateway;  ///< "10.89.0.1"
  int64_t created_ns = 0;
  std::map<std::string, std::string> labels;
};

/// What a container asks for when it joins a network.
struct EndpointRequest {
  std::string container_id;
  std::string container_name;
  std::vector<std::string> aliases;
  std::string hostname;  ///< the container's own name in its /etc/hosts
  /// docker's --add-host entries, "NAME:IP", added to its /etc/hosts.
  std::vector<std::string> extra_hosts;
  std::string netns;       ///< the container's network namespace file (mounted)
  std::string hosts_file;  ///< the file bind-mounted on its /etc/hosts
  std::string interface = "eth0";
  bool default_route = true;
};

/// A container attached to a network.
struct Endpoint {
  EndpointRequest request;
  std::string ip;  ///< without the prefix length
  int prefix_len = 24;
  std::string veth;  ///< the bridge side's name, in the network's namespace
};

/// The content of /etc/hosts for `self` given the endpoints of its networks.
std::string hosts_content(const Endpoint& self, const std::vector<Endpoint>& peers);

/// Parses "A.B.C.D/LEN" (LEN 8..30). Fails with a UsageError.
llvm::Expected<std::pair<uint32_t, int>> parse_subnet(llvm::StringRef text);

/// `--label` values ("KEY=VALUE", or "KEY" for an empty value) as a map; a later
/// KEY wins.
std::map<std::string, std::string> parse_labels(const std::vector<std::string>& flags);

/// The networks of one kiln root. Cheap to copy; safe from several processes.
class NetworkStore {
 public:
  static llvm::Expected<NetworkStore> open(llvm::StringRef root);

  /// A new network; `subnet` empty picks a free 10.89.N.0/24. Fails when the
  /// name is taken or the subnet overlaps another network's.
  llvm::Expected<NetworkRecord> create(llvm::StringRef name, llvm::StringRef subnet,
                                       const std::map<std::string, std::string>& labels) const;
  /// By name, full ID or unique ID prefix. Fails with "network NAME not found".
  llvm::Expected<NetworkRecord> get(llvm::StringRef name_or_id) const;
  /// get(), creating the default network `kiln` when that is the one asked for.
  llvm::Expected<NetworkRecord> get_or_create_default(llvm::StringRef name) const;
  llvm::Expected<std::vector<NetworkRecord>> list() const;
  /// Removes a network no container is attached to.
  llvm::Error remove(llvm::StringRef name_or_id) const;
  /// `network rm`: remove(), refusing the default network `kiln` as docker
  /// refuses its pre-defined ones.
  llvm::Error remove_user_network(llvm::StringRef name_or_id) const;

  /// The containers attached to `name` now.
  llvm::Expected<std::vector<Endpoint>> endpoints(llvm::StringRef name) const;
  /// Attaches a container: the network's namespace and bridge (when it is the
  /// first), a veth into `request.netns`, an address, the hosts files of every
  /// container on the network. Returns the endpoint.
  llvm::Expected<Endpoint> attach(llvm::StringRef name, const EndpointRequest& request) const;
  /// Detaches a container (a missing one is fine); the network's namespace goes
  /// when it was the last.
  llvm::Error detach(llvm::StringRef name, llvm::StringRef container_id) const;
  /// Renames container `container_id` on every network it is attached to (its
  /// peers' /etc/hosts follow); best effort.
  void rename_everywhere(llvm::StringRef container_id, llvm::StringRef new_name) const;
  /// Detaches `container_id` from every network; best effort.
  void detach_everywhere(llvm::StringRef container_id) const;

 private:
  explicit NetworkStore(std::string dir) : dir_(std::move(dir)) {}
  std::string net_dir(llvm::StringRef name) const { return dir_ + "/" + name.str(); }
  void refresh_hosts(const std::vector<Endpoint>& changed) const;

  std::string dir_;  // ROOT/networks
};

}  // namespace kiln::network
