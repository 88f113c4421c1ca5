// Subcommand registration. Each cli/cmd_*.cpp registers its verbs with a static
// CommandRegistration, so adding a command touches only its own file.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include <llvm/Support/Error.h>
#include <CLI/CLI.hpp>

namespace kiln::cli {

/// Options every command sees.
struct GlobalOptions {
  /// Store root: --root, else KILN_ROOT, else /var/lib/kiln (root) or
  /// $XDG_DATA_HOME/kiln.
  std::string root;
  bool debug = false;
};

/// The store root from the flag, environment and defaults, in DESIGN.md's order.
std::string resolve_root(const std::string& flag_value);

/// A subcommand's body: returns its exit code, or an error that main prints as
/// "error: ..." and turns into exit code 1 (or the error kind's code).
using CommandBody = std::function<llvm::Expected<int>()>;

/// Sets up `sub` (flags, positionals) and returns the body to run when chosen.
using CommandSetup = std::function<CommandBody(CLI::App& sub, const GlobalOptions& globals)>;

struct CommandSpec {
  std::string name;
  std::string description;
  CommandSetup setup;
  /// Where in `kiln --help` the command is listed; lower first.
  int order = 100;
};

/// Replaces the "Usage:" line of `sub`'s --help with `usage` (e.g. "kiln run
/// [OPTIONS] IMAGE [COMMAND] [ARG...]"), for commands whose positionals CLI11 does
/// not see (prefix commands).
void set_usage(CLI::App& sub, std::string usage);

/// All registered commands (static-initialization safe).
std::vector<CommandSpec>& command_registry();

/// Registers a command at static-initialization time.
struct CommandRegistration {
  explicit CommandRegistration(CommandSpec spec) { command_registry().push_back(std::move(spec)); }
};

}  // namespace kiln::cli
