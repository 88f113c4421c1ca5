// How a command is declared, and what the commands share. Each cli/cmd_*.cpp
// registers its commands with static Command (or CommandRegistration) objects, so
// adding a command touches only its own file. A command's name is its path:
// "build", or "network create" for verb `create` of the group `network` (a
// CommandGroup). Shared: opening the stores, a command over several names, the
// printing of errors (the one place where errors become text), docker's tables
// and `--format` rows, a container run in the foreground.
#pragma once

#include <functional>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include <llvm/ADT/StringRef.h>
#include <llvm/Support/Error.h>
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "cache/image_store.h"
#include "containers/container_store.h"
#include "oci/reference.h"

#include "support/try.h"  // every command returns its calls' errors with KILN_TRY

namespace kiln::builder {
class BuildEvents;
}  // namespace kiln::builder
namespace kiln::exporter {
struct RegistryFlags;
}  // namespace kiln::exporter

namespace kiln::cli {

/// Options every command sees.
struct GlobalOptions {
  /// Store root: --root, else KILN_ROOT, else /var/lib/kiln (root) or
  /// $XDG_DATA_HOME/kiln.
  std::string root;
  bool debug = false;
};

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

/// Makes `sub` a prefix command (`kiln run [OPTIONS] IMAGE [COMMAND] [ARG...]`):
/// its flags end at the first word, and every word from there on is left for
/// words_after_flags(), not handed to the parent (which would reject it). Returns
/// `sub`, for the command's body to read its words from.
CLI::App* as_prefix_command(CLI::App& sub);

/// The words after the flags of the prefix command `sub` (`kiln run [OPTIONS]
/// IMAGE [COMMAND] [ARG...]`), at least `min` of them; a leading "--" is dropped.
/// An unknown flag before the first word is a UsageError ("unknown flag: -x"), as
/// too few words are (`"kiln compose exec" requires at least 2 arguments`).
llvm::Expected<std::vector<std::string>> words_after_flags(const CLI::App& sub, size_t min);

/// All registered commands (static-initialization safe).
std::vector<CommandSpec>& command_registry();

/// Registers command `name` whose flags fill a `Flags` value: `declare` adds them
/// to the subcommand, `run` is the body, called with the parsed flags (one
/// `Flags` per command line, alive until the program ends).
template <typename Flags>
struct Command {
  using Declare = std::function<void(CLI::App& sub, Flags& flags)>;
  using Run = std::function<llvm::Expected<int>(Flags& flags, const GlobalOptions& globals)>;

  Command(std::string name, std::string description, int order, Declare declare, Run run) {
    auto setup = [declare, run](CLI::App& sub, const GlobalOptions& globals) -> CommandBody {
      auto flags = std::make_shared<Flags>();
      declare(sub, *flags);
      return [flags, run, &globals] { return run(*flags, globals); };
    };
    command_registry().push_back({std::move(name), std::move(description), setup, order});
  }
  /// A verb of a group, listed in the order of registration.
  Command(std::string name, std::string description, Declare declare, Run run)
      : Command(std::move(name), std::move(description), 100, std::move(declare), std::move(run)) {}
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

// What the commands share.

/// Opens the image store at `globals.root`.
llvm::Expected<std::unique_ptr<cache::ImageStore>> open_store(const GlobalOptions& globals);
/// Opens it for a command that only reads (which then works on a full disk too).
llvm::Expected<std::unique_ptr<cache::ImageStore>> open_store_read_only(
    const GlobalOptions& globals);

using oci::familiar_name;

/// Prints `err` (consumed) to `os` in DESIGN.md's format (a source excerpt for
/// SourceError, the last output lines for ExecError) and returns the exit code
/// (3 for an authentication failure, so CI can tell it from other errors).
int print_error(llvm::Error err, std::ostream& os);

/// Whether the name of each one handled is printed on stdout (docker's stop,
/// kill, rm, pause, network rm, ...).
enum class EchoName { yes, no };

/// docker's commands over several names (rm, rmi, stop, network rm, ...): runs
/// `each` on every name of `names` in order; an error is printed as main would
/// (stdout flushed first) and the others go on. Returns 0, or the exit code of
/// the last failure.
int for_each_name(const std::vector<std::string>& names, EchoName echo,
                  const std::function<llvm::Error(const std::string& name)>& each);

/// for_each_name() over the containers of the store at `globals.root`: `each`
/// gets the store and the ID of the container a name or short ID names. Fails
/// when the store cannot be opened.
llvm::Expected<int> for_each_container(
    const GlobalOptions& globals, const std::vector<std::string>& names, EchoName echo,
    const std::function<llvm::Error(const containers::ContainerStore& store,
                                    const std::string& id)>& each);

/// Prints `warning` and docker's "Are you sure you want to continue? [y/N] " on
/// stderr and reads the answer from stdin; true for "y" or "yes" (the prunes).
bool confirm(const std::string& warning);

/// Writes `rows` aligned like docker's tabwriter (min width 10, padding 3); the last
/// column is not padded.
void print_table(std::ostream& os, const std::vector<std::vector<std::string>>& rows);

/// True when `format` is a Go template rather than "", "table" or "json".
bool is_template_format(llvm::StringRef format);

/// The format a listing prints with (docker's `--format`): "{{.ID}}" when
/// `quiet`, "{{json .}}" for "json", a template as given, else `table` (the
/// command's default table).
std::string list_format(llvm::StringRef format, llvm::StringRef table, bool quiet = false);

/// Prints support::format_rows() of `rows` (docker's formatter: one line per
/// row, with "table " a header and tabwriter alignment). Fails with "template
/// parsing error: ..." without printing anything.
llvm::Error print_rows(std::ostream& os, llvm::StringRef format,
                       const std::vector<nlohmann::ordered_json>& rows,
                       const nlohmann::ordered_json& header);

/// A container that could not be started (a StartError): its error printed,
/// docker's exit code (125, 126, 127) returned. Any other error is returned.
llvm::Expected<int> start_failure(llvm::Error err);

/// Runs a created container in the foreground, attached to this process's stdio
/// (containers::run_in_foreground(); `kiln run` and `kiln compose run` without
/// -d): its exit code; when it could not be started, prints why and returns
/// docker's code.
llvm::Expected<int> run_foreground(const containers::ContainerStore& store,
                                   const containers::ContainerSpec& spec);

/// A build's events printed on stderr (cli/progress.cpp) as `progress` ("auto",
/// "plain", ...) says, as `kiln build` prints them (a bad mode fails begin());
/// `quiet` (-q) prints only warnings and a failed step's lines. At the end
/// (finish()): the time, the steps run and cached, and the critical path.
/// Thread-safe.
std::unique_ptr<builder::BuildEvents> printed_build_events(const std::string& progress,
                                                           bool quiet = false);

/// Adds --insecure-registry and --registry-mirror (repeatable) to `sub`.
void add_registry_flags(CLI::App& sub, exporter::RegistryFlags& flags);

/// Pulls `reference` unless the store has it, printing docker's "Unable to find
/// image 'REF' locally" and the pull's lines to stderr (`kiln run`, `create`).
llvm::Error pull_if_missing(const GlobalOptions& globals, const std::string& reference);

}  // namespace kiln::cli
