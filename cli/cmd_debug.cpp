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

llvm::Expected<int> run_parse(const DebugOptions& opts) {
  auto text = read_input(opts.file);
  if (!text) {
    return text.takeError();
  }
  std::string name = opts.file == "-" ? "Dockerfile" : opts.file;
  auto ast = frontend::parse_ast(*text, name);
  if (!ast) {
    return ast.takeError();
  }
  for (const auto& warning : ast->warnings) {
    std::cerr << "[WARNING]: " << warning.message << " (" << name << ":" << warning.range.start_line
              << ")\n";
  }
  std::cout << frontend::dump_ast(*ast) << std::flush;
  if (opts.instructions) {
    auto file = frontend::parse_dockerfile(*text, name);
    if (!file) {
      return file.takeError();
    }
  }
  return 0;
}

llvm::Expected<int> run_dockerignore(const DebugOptions& opts) {
  auto excluded = frontend::dockerignore_excludes(opts.context, opts.dockerfile, opts.paths);
  if (!excluded) {
    return excluded.takeError();
  }
  for (size_t i = 0; i < opts.paths.size(); ++i) {
    std::cout << ((*excluded)[i] ? "excluded " : "included ") << opts.paths[i] << "\n";
  }
  return 0;
}

CommandBody setup_debug(CLI::App& sub, const GlobalOptions&) {
  auto opts = std::make_shared<DebugOptions>();
  sub.require_subcommand(1);
  CLI::App* parse = sub.add_subcommand("parse", "Print a Dockerfile's syntax tree (BuildKit dump)");
  parse->add_option("file", opts->file, "Dockerfile to parse ('-' for stdin)")->required();
  parse->add_flag("--instructions", opts->instructions,
                  "Also check every instruction's flags and arguments");
  CLI::App* ignore =
      sub.add_subcommand("dockerignore", "Show which context paths .dockerignore excludes");
  ignore->add_option("context", opts->context, "Build context directory")->required();
  ignore->add_option("paths", opts->paths, "Paths relative to the context")->required();
  ignore->add_option("-f,--file", opts->dockerfile, "Dockerfile (for <Dockerfile>.dockerignore)");
  return [opts, parse]() -> llvm::Expected<int> {
    if (parse->parsed()) {
      return run_parse(*opts);
    }
    return run_dockerignore(*opts);
  };
}

CommandRegistration reg{{"debug", "Inspect how kiln reads build inputs", setup_debug, 95}};

}  // namespace
}  // namespace kiln::cli
