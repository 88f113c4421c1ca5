// Publishing a container port on the host without bridges or NAT: a userspace TCP
// forwarder that accepts on a host address and connects, for each connection, to
// 127.0.0.1:PORT inside the container's own network namespace.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include <llvm/Support/Error.h>

#include "runtime/spawn.h"

namespace kiln::runtime {

/// One published port. Owns a listening socket and the threads that serve it;
/// the destructor closes every connection and joins the threads.
class PortForwarder {
 public:
  /// Listens on `host_ip`:`host_port` (an IPv4 loopback address; port 0 picks a
  /// free one) in the caller's network namespace and starts accepting.
  /// Connections are closed at once until set_target() names a container; each
  /// goes to `target_ip`:`container_port` in the container's namespace (its
  /// address on its network: a server bound to its 127.0.0.1 is not reached).
  static llvm::Expected<std::unique_ptr<PortForwarder>> start(
      const std::string& host_ip, uint16_t host_port, uint16_t container_port,
      const std::string& target_ip = "127.0.0.1");
  /// The same for UDP: datagrams from each client go to `target_ip`:
  /// `container_port` in the container's namespace, replies back to the client.
  static llvm::Expected<std::unique_ptr<PortForwarder>> start_udp(
      const std::string& host_ip, uint16_t host_port, uint16_t container_port,
      const std::string& target_ip = "127.0.0.1");
  virtual ~PortForwarder() = default;
  /// Sends new connections into the network namespace of the process `pid` (the
  /// container's first process); 0 refuses them (the container is not running).
  /// Thread-safe.
  virtual llvm::Error set_target(int pid) = 0;
  /// The port listened on (the chosen one when 0 was asked for).
  virtual uint16_t host_port() const = 0;
};

/// The network namespace of process `pid`, opened (no fd for pid 0).
llvm::Expected<UniqueFd> open_netns_of(int pid);

}  // namespace kiln::runtime
