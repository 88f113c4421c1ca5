// The real `kiln build`: lower the Dockerfile, solve the graph with the
// scheduler over the store, assemble the image and write the outputs.
#pragma once

#include <map>
#include <string>
#include <vector>

#include <llvm/Support/Error.h>

#include "cli/build_cache.h"
#include "cli/command.h"
#include "cli/registry_store.h"
#include "frontend/instructions.h"
#include "frontend/lower.h"

namespace kiln::cli {

/// What `kiln build` was asked beyond the lowering options.
struct SolveFlags {
  std::string context;
  /// The Dockerfile's path ("-" for stdin), for `<Dockerfile>.dockerignore`.
  std::string dockerfile_path;
  std::vector<std::string> tags;
  bool no_cache = false;
  std::vector<std::string> no_cache_filter;
  std::string progress = "auto";
  bool quiet = false;
  std::vector<std::string> outputs;
  std::string iidfile;
  std::string metadata_file;
  std::vector<std::string> labels;
  std::vector<std::string> secrets;
  std::vector<std::string> build_contexts;
  std::string network;
  unsigned jobs = 0;
  /// --pull: re-resolve every base image in its registry.
  bool pull = false;
  /// --push: upload the image under every -t name.
  bool push = false;
  RegistryFlags registry;
  /// --cache-to, --cache-from, --explain-cache.
  CacheFlags cache;
};

/// Builds `dockerfile` with `lower` options into the store of `globals`.
/// Returns the exit code; errors (a failed RUN with its lines) are returned.
llvm::Expected<int> solve_build(const GlobalOptions& globals, const SolveFlags& flags,
                                const frontend::Dockerfile& dockerfile,
                                frontend::LowerOptions lower);

}  // namespace kiln::cli
