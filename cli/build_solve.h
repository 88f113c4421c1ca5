// `kiln build` after its flags are parsed: builder::build() with the progress,
// warnings and cache explanations printed as --progress says.
#pragma once

#include <memory>
#include <string>

#include <llvm/Support/Error.h>

#include "builder/build.h"
#include "cli/command.h"
#include "cli/registry_store.h"
#include "frontend/instructions.h"
#include "frontend/lower.h"

namespace kiln::cli {

using builder::CacheFlags;

/// What `kiln build` was asked beyond the lowering options.
struct SolveFlags : builder::BuildOptions {
  std::string progress = "auto";
  bool quiet = false;
};

/// A build's events printed on stderr as `progress` ("auto", "plain", ...) says,
/// as `kiln build` prints them.
std::unique_ptr<builder::BuildEvents> printed_build_events(const std::string& progress);

/// Builds `dockerfile` with `lower` options into the store of `globals`.
/// Returns the exit code; errors (a failed RUN with its lines) are returned.
llvm::Expected<int> solve_build(const GlobalOptions& globals, const SolveFlags& flags,
                                const frontend::Dockerfile& dockerfile,
                                frontend::LowerOptions lower);

}  // namespace kiln::cli
