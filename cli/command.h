// Subcommand registration. Each cli/cmd_*.cpp registers its commands with static
// Command (or CommandRegistration) objects, so adding a command touches only its
// own file. A command's name is its path: "build", or "network create" for verb
// `create` of the group `network` (a CommandGroup).
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <llvm/Support/Error.h>
#include <CLI/CLI.hpp>

#include "support/try.h"  // every command returns its calls' errors with KILN_TRY

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

/// Sets up `sub` (flags, positionals) and returns the body to run when chosen
/// (none for a group).
using CommandSetup = std::function<CommandBody(CLI::App& sub, const GlobalOptions& globals)>;

struct CommandSpec {
  /// The words that choose it: "build", "network create", "compose up".
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

/// The words after the flags of the prefix command `sub` (`kiln run [OPTIONS]
/// IMAGE [COMMAND] [ARG...]`), at least `min` of them; a leading "--" is dropped.
/// An unknown flag before the first word is a UsageError ("unknown flag: -x"), as
/// too few words are (`"kiln compose exec" requires at least 2 arguments`).
llvm::Expected<std::vector<std::string>> words_after_flags(const CLI::App& sub, size_t min);

/// All registered commands (static-initialization safe).
std::vector<CommandSpec>& command_registry();

/// Registers a command at static-initialization time.
struct CommandRegistration {
  explicit CommandRegistration(CommandSpec spec) { command_registry().push_back(std::move(spec)); }
};

/// Registers command `name` whose flags fill a `Flags` value: `declare` adds them
/// to the subcommand, `run` is the body, called with the parsed flags (one
/// `Flags` per command line, alive until the program ends).
template <typename Flags>
struct Command {
  using Declare = std::function<void(CLI::App& sub, Flags& flags)>;
  using Run = std::function<llvm::Expected<int>(Flags& flags, const GlobalOptions& globals)>;

  Command(std::string name, std::string description, int order, Declare declare, Run run) {
    add(std::move(name), std::move(description), order, std::move(declare), std::move(run));
  }
  /// A verb of a group, listed in the order of registration.
  Command(std::string name, std::string description, Declare declare, Run run) {
    add(std::move(name), std::move(description), 100, std::move(declare), std::move(run));
  }

 private:
  static void add(std::string name, std::string description, int order, Declare declare, Run run) {
    auto setup = [declare, run](CLI::App& sub, const GlobalOptions& globals) -> CommandBody {
      auto flags = std::make_shared<Flags>();
      declare(sub, *flags);
      return [flags, run, &globals] { return run(*flags, globals); };
    };
    command_registry().push_back({std::move(name), std::move(description), setup, order});
  }
};

/// Registers the command group `name` ("network"): its verbs are the commands
/// named "network VERB", one of which must be given. `declare` adds the flags
/// given before the verb (`kiln compose -f FILE up`).
struct CommandGroup {
  CommandGroup(std::string name, std::string description, int order,
               std::function<void(CLI::App& sub)> declare = {});
};

/// The flags of a command that has none.
struct NoFlags {};

/// Adds repeatable option `names` (e.g. "-e,--env") to `sub`: each occurrence
/// takes one value, as docker's flags do (`-e A -e B`, never `-e A B`).
template <typename T>
CLI::Option* add_list(CLI::App& sub, const std::string& names, std::vector<T>& into,
                      const std::string& help) {
  return sub.add_option(names, into, help)->allow_extra_args(false);
}

}  // namespace kiln::cli
