// One compose file's services in their long, canonical forms (the loader's
// middle phase): short ports, volumes, depends_on, networks, environment and
// labels lists, string commands, relative paths and durations all become what
// `compose config` prints.
#pragma once

#include <string>
#include <vector>

#include <llvm/Support/Error.h>

#include "compose/interpolate.h"
#include "compose/node.h"

namespace kiln::compose {

/// Normalizes the service `service` (named `name`) of a validated file in place;
/// relative paths are taken from `base_dir`. `env` resolves `environment: [KEY]`
/// entries; env_file entries are read and folded into `environment`.
llvm::Error normalize_service(Node& service, const std::string& name, const std::string& base_dir,
                              const Environment& env);

/// Splits a command string as a POSIX shell would split words (quotes and
/// backslashes), without expansions. Fails on an unterminated quote.
llvm::Expected<std::vector<std::string>> split_command(llvm::StringRef text);

/// `path` made absolute from `base_dir` (and `~` from HOME), cleaned of "." and "..".
std::string absolute_path(llvm::StringRef path, llvm::StringRef base_dir, const Environment& env);

/// Merges `over` into `base` with the Compose Specification's rules for
/// normalized services (maps by key; command/entrypoint/healthcheck.test replace;
/// ports, volumes by target, and other lists append without duplicates).
void merge_service(Node& base, const Node& over);

/// Sorts a mapping's keys (recursively for the maps compose prints sorted).
void sort_keys(Node& node);

}  // namespace kiln::compose
