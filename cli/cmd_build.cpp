// `kiln build`: flag parsing, then one of the paths: `--check` (lint rules, like
// `docker build --check`), `--dump-llb` (the graph as JSON, nothing runs), or a
// real build (builder::build()).

#include <iostream>

#include "builder/build.h"
#include "builder/build_input.h"
#include "cli/command.h"
#include "exporter/registry_store.h"
#include "frontend/lint.h"
#include "support/trace.h"

namespace kiln::cli {
namespace {

/// The flags of `kiln build`.
struct BuildFlags {
  builder::DockerfileFlags input;
  bool dump_llb = false;
  bool check = false;
  /// The flags of a real build (tags, outputs, ...).
  builder::BuildOptions build;
  std::string progress = "auto";
  bool quiet = false;
};

llvm::Expected<int> run_check(const builder::LoadedDockerfile& input) {
  KILN_TRY(auto warnings, frontend::lint_dockerfile(input.dockerfile, input.lower));
  std::cout << frontend::lint_check_text(warnings, input.dockerfile.ast);
  return warnings.empty() ? 0 : 1;
}

llvm::Expected<int> run_build(BuildFlags& flags, const GlobalOptions& globals) {
  trace("run_build");
  flags.input.build_contexts = flags.build.build_contexts;
  KILN_TRY(auto input, builder::load_dockerfile(flags.input));
  if (flags.check) {
    return run_check(input);
  }
  if (flags.dump_llb) {
    KILN_TRY(std::string json, builder::dump_llb(input, flags.build.platforms));
    std::cout << json;
    return 0;
  }
  builder::BuildRequest request{"", globals.root, &input.dockerfile, std::move(input.lower),
                                flags.build};
  request.options.context = flags.input.context;
  request.options.dockerfile_path = input.path;
  auto events = printed_build_events(flags.progress, flags.quiet);
  KILN_TRY(auto built, builder::build(request, *events));
  if (flags.quiet) {
    std::cout << built.config_digest.str() << "\n";
  }
  return 0;
}

Command<BuildFlags> reg{
    "build", "Build an image from a Dockerfile", 10,
    [](CLI::App& sub, BuildFlags& flags) {
      sub.add_option("context", flags.input.context, "Build context directory")->required();
      sub.add_option("-f,--file", flags.input.file,
                     "Name of the Dockerfile (default: CONTEXT/Dockerfile)");
      sub.add_option("--target", flags.input.target, "Set the target build stage to build");
      add_list(sub, "--build-arg", flags.input.build_args, "Set build-time variables");
      sub.add_flag("--dump-llb", flags.dump_llb, "Print the build graph as JSON and exit");
      sub.add_flag("--check", flags.check, "Run the Dockerfile lint rules and exit");
      builder::BuildOptions& s = flags.build;
      add_list(sub, "-t,--tag", s.tags, "Name and optionally a tag (name:tag)");
      sub.add_flag("--no-cache", s.no_cache, "Do not use cache when building the image");
      add_list(sub, "--no-cache-filter", s.no_cache_filter, "Do not cache specified stages");
      sub.add_option("--progress", flags.progress,
                     "Type of progress output (auto, tty, plain, rawjson, quiet)");
      sub.add_flag("-q,--quiet", flags.quiet, "Suppress the build output and print the image ID");
      add_list(sub, "-o,--output", s.outputs, "Output destination (type=local,dest=path)");
      sub.add_option("--iidfile", s.iidfile, "Write the image ID to the file");
      sub.add_option("--metadata-file", s.metadata_file, "Write build result metadata to the file");
      add_list(sub, "--label", s.labels, "Set metadata for an image");
      add_list(sub, "--secret", s.secrets, "Secret to expose to the build (id=mysecret,src=file)");
      add_list(sub, "--ssh", s.ssh,
               "SSH agent socket to expose to the build (default|<id>[=<socket>])");
      add_list(sub, "--build-context", s.build_contexts, "Additional build contexts (name=path)");
      sub.add_option("--network", s.network, "Networking mode for RUN instructions (host, none)");
      sub.add_option("--jobs", s.jobs, "How many RUN steps may run at once (default: cores)");
      add_list(sub, "--cache-to", s.cache.cache_to,
               "Cache export destination (type=local,dest=DIR | type=registry,ref=REF | "
               "type=inline; mode=min|max, cache-mounts=true, ignore-error=false)");
      add_list(sub, "--cache-from", s.cache.cache_from,
               "Cache import source (type=local,src=DIR | type=registry,ref=REF | IMAGE)");
      sub.add_flag("--explain-cache", s.cache.explain,
                   "Say why each step that ran missed the cache");
      sub.add_flag("--pull", s.pull, "Always attempt to pull a newer version of the base images");
      add_list(sub, "--platform", s.platforms, "Set target platform(s) for the build");
      sub.add_flag("--push", s.push,
                   "Push the image to its registry (shorthand for --output=type=registry)");
      add_registry_flags(sub, s.registry);
    },
    run_build};

}  // namespace
}  // namespace kiln::cli
