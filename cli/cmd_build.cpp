// `kiln build`: flag parsing, then one of the paths: `--check` (lint rules, like
// `docker build --check`), `--dump-llb` (the graph as JSON, nothing runs), or a
// real build (builder::build()).

#include <iostream>

#include "builder/build.h"
#include "builder/build_input.h"
#include "cli/command.h"
#include "cli/progress.h"
#include "cli/registry_store.h"
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
  auto warnings = frontend::lint_dockerfile(input.dockerfile, input.lower);
  if (!warnings) {
    return warnings.takeError();
  }
  std::cout << frontend::lint_check_text(*warnings, input.dockerfile.ast);
  return warnings->empty() ? 0 : 1;
}

llvm::Expected<int> run_build(BuildFlags& flags, const GlobalOptions& globals) {
  trace("run_build");
  flags.input.build_contexts = flags.build.build_contexts;
  auto input = builder::load_dockerfile(flags.input);
  if (!input) {
    return input.takeError();
  }
  if (flags.check) {
    return run_check(*input);
  }
  if (flags.dump_llb) {
    auto json = builder::dump_llb(*input, flags.build.platforms);
    if (!json) {
      return json.takeError();
    }
    std::cout << *json;
    return 0;
  }
  builder::BuildRequest request{"", globals.root, &input->dockerfile, std::move(input->lower),
                                flags.build};
  request.options.context = flags.input.context;
  request.options.dockerfile_path = input->path;
  auto events = printed_build_events(flags.progress, flags.quiet);
  auto built = builder::build(request, *events);
  if (!built) {
    return built.takeError();
  }
  if (flags.quiet) {
    std::cout << built->config_digest.str() << "\n";
  }
  return 0;
}

CommandBody setup_build(CLI::App& sub, const GlobalOptions& globals) {
  auto flags = std::make_shared<BuildFlags>();
  sub.add_option("context", flags->input.context, "Build context directory")->required();
  sub.add_option("-f,--file", flags->input.file,
                 "Name of the Dockerfile (default: CONTEXT/Dockerfile)");
  sub.add_option("--target", flags->input.target, "Set the target build stage to build");
  sub.add_option("--build-arg", flags->input.build_args, "Set build-time variables")
      ->allow_extra_args(false);
  sub.add_flag("--dump-llb", flags->dump_llb, "Print the build graph as JSON and exit");
  sub.add_flag("--check", flags->check, "Run the Dockerfile lint rules and exit");
  builder::BuildOptions& s = flags->build;
  sub.add_option("-t,--tag", s.tags, "Name and optionally a tag (name:tag)")
      ->allow_extra_args(false);
  sub.add_flag("--no-cache", s.no_cache, "Do not use cache when building the image");
  sub.add_option("--no-cache-filter", s.no_cache_filter, "Do not cache specified stages")
      ->allow_extra_args(false);
  sub.add_option("--progress", flags->progress,
                 "Type of progress output (auto, tty, plain, rawjson, quiet)");
  sub.add_flag("-q,--quiet", flags->quiet, "Suppress the build output and print the image ID");
  sub.add_option("-o,--output", s.outputs, "Output destination (type=local,dest=path)")
      ->allow_extra_args(false);
  sub.add_option("--iidfile", s.iidfile, "Write the image ID to the file");
  sub.add_option("--metadata-file", s.metadata_file, "Write build result metadata to the file");
  sub.add_option("--label", s.labels, "Set metadata for an image")->allow_extra_args(false);
  sub.add_option("--secret", s.secrets, "Secret to expose to the build (id=mysecret,src=file)")
      ->allow_extra_args(false);
  sub.add_option("--ssh", s.ssh,
                 "SSH agent socket to expose to the build (default|<id>[=<socket>])")
      ->allow_extra_args(false);
  sub.add_option("--build-context", s.build_contexts, "Additional build contexts (name=path)")
      ->allow_extra_args(false);
  sub.add_option("--network", s.network, "Networking mode for RUN instructions (host, none)");
  sub.add_option("--jobs", s.jobs, "How many RUN steps may run at once (default: cores)");
  sub.add_option("--cache-to", s.cache.cache_to,
                 "Cache export destination (type=local,dest=DIR | type=registry,ref=REF | "
                 "type=inline; mode=min|max, cache-mounts=true, ignore-error=false)")
      ->allow_extra_args(false);
  sub.add_option("--cache-from", s.cache.cache_from,
                 "Cache import source (type=local,src=DIR | type=registry,ref=REF | IMAGE)")
      ->allow_extra_args(false);
  sub.add_flag("--explain-cache", s.cache.explain, "Say why each step that ran missed the cache");
  sub.add_flag("--pull", s.pull, "Always attempt to pull a newer version of the base images");
  sub.add_option("--platform", s.platforms, "Set target platform(s) for the build")
      ->allow_extra_args(false);
  sub.add_flag("--push", s.push,
               "Push the image to its registry (shorthand for --output=type=registry)");
  add_registry_flags(sub, s.registry);
  return [flags, &globals]() { return run_build(*flags, globals); };
}

CommandRegistration reg{{"build", "Build an image from a Dockerfile", setup_build, 10}};

}  // namespace
}  // namespace kiln::cli
