// Network namespaces that outlive the process that made them (kept by a bind
// mount of their nsfs file on a path, like `ip netns add` but anywhere), and
// iproute2 run inside one of them. Never touches the caller's namespace.
#pragma once

#include <string>

#include <llvm/ADT/StringRef.h>
#include <llvm/Support/Error.h>

namespace kiln::network {

/// Creates a new network namespace and bind-mounts it on `path` (created as an
/// empty file). Only `lo` exists in it, down.
llvm::Error create_netns(llvm::StringRef path);

/// True when `path` is a mounted namespace file.
bool netns_mounted(llvm::StringRef path);

/// Unmounts (lazily) and removes `path`; the namespace ends once nothing else
/// holds it (its veths go with it). Missing is fine; best effort.
void remove_netns(llvm::StringRef path);

/// Runs `ip -batch -` with `commands` (one iproute2 command a line) inside the
/// network namespace mounted on `netns_path`. Fails with ip's message.
llvm::Error ip_batch(llvm::StringRef netns_path, llvm::StringRef commands);

}  // namespace kiln::network
