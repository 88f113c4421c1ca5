// `kiln build`'s inputs from its flags: the Dockerfile read and parsed (-f, or the
// context's Dockerfile), the lowering options (--target, --build-arg,
// --build-context, .dockerignore), and the graph of `--dump-llb`.
#pragma once

#include <map>
#include <string>
#include <vector>

#include <llvm/Support/Error.h>

#include "frontend/instructions.h"
#include "frontend/lower.h"

namespace kiln::builder {

/// The flags that say what to lower, as given.
struct DockerfileFlags {
  /// The build context directory.
  std::string context;
  /// -f: the Dockerfile; "" means default_dockerfile(context), "-" means stdin.
  std::string file;
  std::string target;
  /// --build-arg values: "NAME=VALUE", or "NAME" (the value from the environment,
  /// skipped when unset).
  std::vector<std::string> build_args;
  /// --build-context values "name=value" (checked where the build opens them).
  std::vector<std::string> build_contexts;
};

/// A parsed Dockerfile and the lowering options its flags ask for.
struct LoadedDockerfile {
  /// The Dockerfile's path ("-" for stdin), for BuildOptions::dockerfile_path.
  std::string path;
  frontend::Dockerfile dockerfile;
  frontend::LowerOptions lower;
};

/// Without -f: CONTEXT/Dockerfile, or a lowercase CONTEXT/dockerfile when that is
/// the only one (as BuildKit, moby/moby#10858).
std::string default_dockerfile(const std::string& context);

/// The --build-arg values as a map. Fails with a UsageError on a value with an
/// empty name ("invalid build arg '=x'").
llvm::Expected<std::map<std::string, std::string>> parse_build_args(
    const std::vector<std::string>& flags);

/// Reads and parses the Dockerfile `flags` name (named after its file name,
/// "Dockerfile" for stdin) and fills the lowering options, with the context's
/// .dockerignore patterns. Fails with the read, parse or build-arg error.
llvm::Expected<LoadedDockerfile> load_dockerfile(const DockerfileFlags& flags);

/// `--dump-llb`: the graph of `input` for the `--platform` values `platforms`, as
/// JSON (llb::Definition::to_json()). Nothing runs.
llvm::Expected<std::string> dump_llb(const LoadedDockerfile& input,
                                     const std::vector<std::string>& platforms);

}  // namespace kiln::builder
