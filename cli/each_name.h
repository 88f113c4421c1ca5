// docker's commands over several names (rm, rmi, stop, kill, network rm, volume
// inspect, ...): each name is handled in turn, an error for one is printed and
// the others go on, and the exit code tells that one failed.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include <llvm/Support/Error.h>

#include "cli/command.h"
#include "containers/container_store.h"

namespace kiln::cli {

/// Whether the name of each one handled is printed on stdout (docker's stop,
/// kill, rm, pause, network rm, ...).
enum class EchoName { yes, no };

/// Runs `each` on every name of `names` in order; prints an error as main would
/// (stdout flushed first) and goes on. Returns 0, or the exit code of the last
/// failure.
int for_each_name(const std::vector<std::string>& names, EchoName echo,
                  const std::function<llvm::Error(const std::string& name)>& each);

/// for_each_name() over the containers of the store at `globals.root`: `each`
/// gets the store and the ID of the container a name or short ID names. Fails
/// when the store cannot be opened.
llvm::Expected<int> for_each_container(
    const GlobalOptions& globals, const std::vector<std::string>& names, EchoName echo,
    const std::function<llvm::Error(const containers::ContainerStore& store,
                                    const std::string& id)>& each);

}  // namespace kiln::cli
