// The JSON files of a container directory: config.json (ContainerSpec) and
// state.json (ContainerState). Fields kiln does not know are ignored; missing
// ones take their defaults, so older files stay readable.
#pragma once

#include <string>

#include <llvm/ADT/StringRef.h>
#include <llvm/Support/Error.h>

#include "containers/container_store.h"

namespace kiln::containers {

/// config.json's text for `spec` (pretty-printed).
std::string serialize_spec(const ContainerSpec& spec);
/// Parses config.json; fails on invalid JSON or a missing id or process.
llvm::Expected<ContainerSpec> parse_spec(llvm::StringRef text);

/// state.json's text for `state` (one line).
std::string serialize_state(const ContainerState& state);
/// Parses state.json; fails on invalid JSON.
llvm::Expected<ContainerState> parse_state(llvm::StringRef text);

}  // namespace kiln::containers
