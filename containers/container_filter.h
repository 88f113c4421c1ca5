// docker ps --filter: name=, id=, status=, label=KEY[=VALUE], ancestor=IMAGE,
// network=. Filters of one key match when any value does; all keys must match.
#pragma once

#include <map>
#include <string>
#include <vector>

#include <llvm/Support/Error.h>

#include "containers/container_store.h"

namespace kiln::containers {

struct ContainerFilter {
  std::map<std::string, std::vector<std::string>> values;  ///< key -> values
  bool empty() const { return values.empty(); }
  /// True when a status= filter is given (docker then lists stopped ones too).
  bool has_status() const { return values.count("status") != 0; }
};

/// Parses KEY=VALUE filters. Fails with a UsageError for an unknown key.
llvm::Expected<ContainerFilter> parse_container_filters(const std::vector<std::string>& filters);

bool filter_matches(const ContainerFilter& filter, const ContainerSpec& spec,
                    const ContainerState& state);

}  // namespace kiln::containers
