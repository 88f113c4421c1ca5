// Shared pieces of the image commands: opening the store of --root and docker's
// output conventions (ages, tabwriter-aligned tables; sizes and times are
// support/units.h's).
#pragma once

#include <cstdint>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include <llvm/ADT/StringRef.h>
#include <llvm/Support/Error.h>

#include "cache/image_store.h"
#include "cli/command.h"
#include "oci/reference.h"
#include "support/units.h"

namespace kiln::cli {

/// Opens the image store at `globals.root`.
llvm::Expected<std::unique_ptr<cache::ImageStore>> open_store(const GlobalOptions& globals);
/// Opens it for a command that only reads (which then works on a full disk too).
llvm::Expected<std::unique_ptr<cache::ImageStore>> open_store_read_only(
    const GlobalOptions& globals);

using oci::familiar_name;
using oci::familiar_repo_tag;

/// "<duration> ago" from unix time `then` to now, or "N/A" for cache::kUnknownTime.
std::string since(int64_t then);

/// Writes `rows` aligned like docker's tabwriter (min width 10, padding 3); the last
/// column is not padded.
void print_table(std::ostream& os, const std::vector<std::vector<std::string>>& rows);

}  // namespace kiln::cli
