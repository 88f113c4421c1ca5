// Tools around kiln: `kiln debug parse FILE` prints a Dockerfile's syntax tree in
// BuildKit's dump format; `kiln debug dockerignore CONTEXT PATH...` shows which paths
// the context's ignore file excludes (for people and conformance tests). `kiln setup
// binfmt` registers qemu-user-static's emulators with binfmt_misc (fix-binary), so
// RUN steps of other platforms can run (needs root; idempotent). `kiln version`.

#include <iostream>
#include <iterator>

#include "cli/command.h"
#include "frontend/ast.h"
#include "frontend/dockerignore.h"
#include "frontend/instructions.h"
#include "runtime/binfmt.h"
#include "support/error.h"
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

llvm::Expected<int> run_binfmt(NoFlags&, const GlobalOptions&) {
  KILN_TRY(auto done, with_context(runtime::register_emulators(), "setup binfmt"));
  for (const auto& r : done) {
    std::cout << r.name << ": " << r.action << "\n";
  }
  return 0;
}

CommandGroup setup_reg{"setup", "Set up this machine for kiln (binfmt)", 95};
Command<NoFlags> binfmt_reg{
    "setup binfmt",
    "Register qemu-user-static emulators (binfmt_misc, fix-binary) for other platforms",
    [](CLI::App&, NoFlags&) {}, run_binfmt};

Command<NoFlags> version_reg{"version", "Show the kiln version information", 90,
                             [](CLI::App&, NoFlags&) {},
                             [](NoFlags&, const GlobalOptions&) -> llvm::Expected<int> {
                               std::cout << "Client: kiln\n"
                                         << " Version:           " << KILN_VERSION << "\n"
                                         << " API version:       1.41\n"
                                         << " OS/Arch:           linux/amd64\n";
                               return 0;
                             }};

}  // namespace
}  // namespace kiln::cli
