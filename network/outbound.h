// Outbound traffic of a network without touching the host's namespace: Debian's
// `pasta` (passt) attached to the network's namespace gives it a tap interface
// with the host's addresses and routes, and turns its packets into the host's
// sockets; the namespace routes its containers' packets there (ip_forward, no
// NAT, no iptables anywhere).
#pragma once

#include <llvm/ADT/StringRef.h>
#include <llvm/Support/Error.h>

namespace kiln::network {

/// Starts pasta for the namespace mounted on `netns` (its pid in `pid_file`),
/// after turning on forwarding there. Without a pasta binary the network keeps
/// to itself (no error).
llvm::Error start_outbound(llvm::StringRef netns, llvm::StringRef pid_file);

/// Stops the pasta recorded in `pid_file` (only when that pid is still a pasta
/// of `netns`) and removes the file; best effort.
void stop_outbound(llvm::StringRef netns, llvm::StringRef pid_file);

}  // namespace kiln::network
