// `kiln build`: flag parsing, then one of the paths: `--check` (lint rules, like
// `docker build --check`), `--dump-llb` (the graph as JSON, nothing runs), or a
// real build (the solver's path).

#include <cstdlib>
#include <iostream>
#include <iterator>
#include <sstream>

#include "builder/build_platforms.h"
#include "cli/build_solve.h"
#include "cli/command.h"
#include "cli/registry_store.h"
#include "frontend/dockerignore.h"
#include "frontend/instructions.h"
#include "frontend/lint.h"
#include "frontend/lower.h"
#include "support/error.h"
#include "support/fs.h"
#include "support/shown.h"
#include "support/trace.h"

namespace kiln::cli {
namespace {

/// The flags of `kiln build`.
struct BuildFlags {
  std::string context;
  /// -f: the Dockerfile; "" means CONTEXT/Dockerfile, "-" means stdin.
  std::string file;
  std::string target;
  std::vector<std::string> build_args;
  bool dump_llb = false;
  bool check = false;
  /// The flags of a real build (tags, outputs, progress, ...).
  SolveFlags solve;
};

/// The parsed Dockerfile and the lowering options the flags ask for.
struct BuildInput {
  frontend::Dockerfile dockerfile;
  frontend::LowerOptions options;
};

llvm::Expected<std::map<std::string, std::string>> parse_build_args(
    const std::vector<std::string>& flags) {
  std::map<std::string, std::string> out;
  for (const std::string& flag : flags) {
    auto [key, value] = llvm::StringRef(flag).split('=');
    if (key.empty()) {
      return llvm::make_error<UsageError>("invalid build arg " + quote(flag));
    }
    if (flag.find('=') != std::string::npos) {
      out[key.str()] = value.str();
    } else if (const char* env = std::getenv(key.str().c_str())) {
      out[key.str()] = env;  // `--build-arg NAME` takes the value from the environment.
    }
  }
  return out;
}

// Without -f: CONTEXT/Dockerfile, or a lowercase CONTEXT/dockerfile when that is
// the only one (as BuildKit, moby/moby#10858).
std::string default_dockerfile(const std::string& context) {
  std::string upper = fs::join(context, "Dockerfile");
  std::string lower = fs::join(context, "dockerfile");
  return !fs::exists(upper) && fs::exists(lower) ? lower : upper;
}

llvm::Expected<BuildInput> load_input(const BuildFlags& flags) {
  std::string path = flags.file.empty() ? default_dockerfile(flags.context) : flags.file;
  auto text = frontend::read_dockerfile(path);
  if (!text) {
    return text.takeError();
  }
  std::string name = path == "-" ? "Dockerfile" : llvm::StringRef(path).rsplit('/').second.str();
  if (name.empty()) {
    name = path;
  }
  auto dockerfile = frontend::parse_dockerfile(*text, name);
  if (!dockerfile) {
    return dockerfile.takeError();
  }
  BuildInput input{std::move(*dockerfile), {}};
  input.options.target = flags.target;
  auto args = parse_build_args(flags.build_args);
  if (!args) {
    return args.takeError();
  }
  input.options.build_args = std::move(*args);
  for (const auto& bc : flags.solve.build_contexts) {
    // Malformed values are reported where the solve opens them (build_solve.cpp).
    auto [name, value] = llvm::StringRef(bc).split('=');
    input.options.build_contexts[name.str()] = value.str();
  }
  auto ignore = frontend::load_dockerignore(flags.context, path == "-" ? std::string() : path);
  if (!ignore) {
    return ignore.takeError();
  }
  input.options.context_excludes = std::move(*ignore);
  return input;
}

/// BuildKit's errdefs.Source.Print: "file:line", dashes, the lines around the
/// range with ">>>" on it (about two either side), dashes.
void print_excerpt(std::ostream& os, const std::string& file, const std::string& source,
                   SourceRange range) {
  std::vector<std::string> lines;
  std::stringstream ss(source);
  for (std::string line; std::getline(ss, line);) {
    lines.push_back(line);
  }
  if (source.empty() || source.back() == '\n') {
    lines.emplace_back();  // Go's strings.Split keeps the empty last element.
  }
  int total = static_cast<int>(lines.size());
  int start = range.start_line;
  int end = std::min(range.end_line, total);
  if (start < 1 || start > total) {
    return;
  }
  int pad = start == end ? 4 : 2;
  for (int p = 0; p < pad; ++p) {
    if (start > 1) {
      --start;
      ++p;
    }
    if (end != total) {
      ++end;
      ++p;
    }
  }
  os << file << ":" << range.start_line << "\n--------------------\n";
  for (int i = start; i <= end; ++i) {
    bool marked = i >= range.start_line && i <= range.end_line;
    char num[16];
    snprintf(num, sizeof(num), " %3d | ", i);
    os << num << (marked ? ">>> " : "    ") << shown_start(lines[i - 1]) << "\n";
  }
  os << "--------------------\n";
}

llvm::Expected<int> run_check(const BuildInput& input) {
  auto warnings = frontend::lint_dockerfile(input.dockerfile, input.options);
  if (!warnings) {
    return warnings.takeError();
  }
  if (warnings->empty()) {
    std::cout << "Check complete, no warnings found.\n";
    return 0;
  }
  if (warnings->size() == 1) {
    std::cout << "Check complete, 1 warning has been found!\n";
  } else {
    std::cout << "Check complete, " << warnings->size() << " warnings have been found!\n";
  }
  const frontend::Ast& ast = input.dockerfile.ast;
  for (const auto& w : *warnings) {
    std::cout << "\nWARNING: " << w.rule << " - " << w.url << "\n" << w.detail << "\n";
    print_excerpt(std::cout, ast.file_name, ast.source ? *ast.source : "", w.range);
  }
  return 1;
}

llvm::Expected<int> run_dump_llb(const BuildInput& input, const std::vector<std::string>& flags) {
  auto platforms = builder::target_platforms(flags);
  if (!platforms) {
    return platforms.takeError();
  }
  auto result = builder::lower_for_platforms(input.dockerfile, input.options, *platforms);
  if (!result) {
    return result.takeError();
  }
  std::cout << result->definition.to_json();
  return 0;
}

llvm::Expected<int> run_build(const BuildFlags& flags, const GlobalOptions& globals) {
  trace("run_build");
  auto input = load_input(flags);
  if (!input) {
    return input.takeError();
  }
  if (flags.check) {
    return run_check(*input);
  }
  if (flags.dump_llb) {
    return run_dump_llb(*input, flags.solve.platforms);
  }
  SolveFlags solve = flags.solve;
  solve.context = flags.context;
  solve.dockerfile_path = flags.file.empty() ? default_dockerfile(flags.context) : flags.file;
  return solve_build(globals, solve, input->dockerfile, std::move(input->options));
}

CommandBody setup_build(CLI::App& sub, const GlobalOptions& globals) {
  auto flags = std::make_shared<BuildFlags>();
  sub.add_option("context", flags->context, "Build context directory")->required();
  sub.add_option("-f,--file", flags->file, "Name of the Dockerfile (default: CONTEXT/Dockerfile)");
  sub.add_option("--target", flags->target, "Set the target build stage to build");
  sub.add_option("--build-arg", flags->build_args, "Set build-time variables")
      ->allow_extra_args(false);
  sub.add_flag("--dump-llb", flags->dump_llb, "Print the build graph as JSON and exit");
  sub.add_flag("--check", flags->check, "Run the Dockerfile lint rules and exit");
  SolveFlags& s = flags->solve;
  sub.add_option("-t,--tag", s.tags, "Name and optionally a tag (name:tag)")
      ->allow_extra_args(false);
  sub.add_flag("--no-cache", s.no_cache, "Do not use cache when building the image");
  sub.add_option("--no-cache-filter", s.no_cache_filter, "Do not cache specified stages")
      ->allow_extra_args(false);
  sub.add_option("--progress", s.progress,
                 "Type of progress output (auto, tty, plain, rawjson, quiet)");
  sub.add_flag("-q,--quiet", s.quiet, "Suppress the build output and print the image ID");
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
