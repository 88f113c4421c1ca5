// `kiln debug parse FILE`: prints a Dockerfile's syntax tree in BuildKit's dump
// format; `kiln debug dockerignore CONTEXT PATH...`: shows which paths the
// context's ignore file excludes. Tools for people and conformance tests.
#include <iostream>
#include <iterator>

#include "cli/command.h"
#include "frontend/ast.h"
#include "frontend/dockerignore.h"
#include "frontend/instructions.h"
#include "support/fs.h"

namespace kiln::cli {
namespace {

struct DebugOptions {
  std::string file;
  bool instructions = false;
  std::string context;
  std::string dockerfile;
  std::vector<std::string> paths;
};

llvm::Expected<std::string> read_input(const std::string& path) {
  if (path == "-") {
    return std::string(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
  }
  return fs::read_file(path);
}

llvm::Expected<int> run_parse(DebugOptions& opts, const GlobalOptions&) {
  KILN_TRY(std::string text, read_input(opts.file));
  std::string name = opts.file == "-" ? "Dockerfile" : opts.file;
  KILN_TRY(auto ast, frontend::parse_ast(text, name));
  for (const auto& warning : ast.warnings) {
    std::cerr << "[WARNING]: " << warning.message << " (" << name << ":" << warning.range.start_line
              << ")\n";
  }
  std::cout << frontend::dump_ast(ast) << std::flush;
  if (opts.instructions) {
    KILN_CHECK(frontend::parse_dockerfile(text, name).takeError());
  }
  return 0;
}

llvm::Expected<int> run_dockerignore(DebugOptions& opts, const GlobalOptions&) {
  KILN_TRY(auto excluded,
           frontend::dockerignore_excludes(opts.context, opts.dockerfile, opts.paths));
  for (size_t i = 0; i < opts.paths.size(); ++i) {
    std::cout << (excluded[i] ? "excluded " : "included ") << opts.paths[i] << "\n";
  }
  return 0;
}

CommandGroup debug_reg{"debug", "Inspect how kiln reads build inputs", 95};

Command<DebugOptions> parse_reg{
    "debug parse", "Print a Dockerfile's syntax tree (BuildKit dump)",
    [](CLI::App& sub, DebugOptions& opts) {
      sub.add_option("file", opts.file, "Dockerfile to parse ('-' for stdin)")->required();
      sub.add_flag("--instructions", opts.instructions,
                   "Also check every instruction's flags and arguments");
    },
    run_parse};

Command<DebugOptions> dockerignore_reg{
    "debug dockerignore", "Show which context paths .dockerignore excludes",
    [](CLI::App& sub, DebugOptions& opts) {
      sub.add_option("context", opts.context, "Build context directory")->required();
      sub.add_option("paths", opts.paths, "Paths relative to the context")->required();
      sub.add_option("-f,--file", opts.dockerfile, "Dockerfile (for <Dockerfile>.dockerignore)");
    },
    run_dockerignore};

}  // namespace
}  // namespace kiln::cli
