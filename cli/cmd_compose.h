// `kiln compose`: the flags every compose subcommand shares and the registry of
// its subcommands (each cli/cmd_compose_*.cpp adds its own), so that the compose
// verbs stay as thin as kiln's other commands.
#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <llvm/Support/Error.h>
#include <CLI/CLI.hpp>

#include "cli/command.h"
#include "compose/engine.h"
#include "compose/events.h"
#include "compose/ops.h"
#include "compose/project.h"

namespace kiln::cli {

/// `kiln compose [-f FILE...] [-p NAME] [--env-file F] [--profile P] [--project-directory D]`.
struct ComposeFlags {
  std::vector<std::string> files;
  std::string project_name;
  std::vector<std::string> env_files;
  std::vector<std::string> profiles;
  std::string project_directory;
};

/// Loads the project the flags name (from the current directory and the process's
/// environment); warnings go to stderr as docker compose prints them.
llvm::Expected<compose::Project> load_compose_project(const ComposeFlags& flags);

/// kiln's own engine over the store of `globals` (detached containers run under
/// this binary's `container-monitor`).
llvm::Expected<std::unique_ptr<compose::Engine>> make_compose_engine(const GlobalOptions& globals);

/// A loaded project and the engine its commands run on.
struct ComposeSession {
  compose::Project project;
  std::unique_ptr<compose::Engine> engine;
};
/// load_compose_project() and make_compose_engine() together, as most verbs need.
llvm::Expected<ComposeSession> open_compose(const GlobalOptions& globals,
                                            const ComposeFlags& flags);

/// Prints compose's events on stderr as docker compose does. On a terminal, the
/// networks, volumes and containers form one block redrawn in place under a
/// "[+] Running N/M" header (N of M done; " ✔ Container p-web-1  Started",
/// " ⠿ " while in progress); images and services (builds and pulls, whose own
/// output comes between) get a line each. Otherwise one line per event:
/// " Container p-web-1  Started". Thread-safe.
class PrintedComposeEvents : public compose::ComposeEvents {
 public:
  PrintedComposeEvents();
  void status(const std::string& kind, const std::string& name, const std::string& status) override;
  void warning(const std::string& message) override;
  /// Ends the block: the next event starts a new one below whatever is printed
  /// after this call (the containers' output).
  void end_block();

 private:
  struct Line {
    std::string kind;
    std::string name;
    std::string status;
  };
  void redraw();

  bool tty_;
  std::mutex mu_;
  std::vector<Line> block_;
  /// Lines of the block on screen (header included): the cursor is below them.
  size_t drawn_ = 0;
};

/// This kiln binary's path.
llvm::Expected<std::string> kiln_executable();

/// Runs this kiln binary with `args` (after `--root ROOT`) and waits; returns its
/// exit code.
llvm::Expected<int> run_kiln(const GlobalOptions& globals, const std::vector<std::string>& args);

/// The images compose needs for `services`: builds the buildable ones (those
/// whose image is missing when `missing_only`) in one go, pulls the missing
/// others. For up, run and build.
compose::BuildFn make_image_preparer(const GlobalOptions& globals, compose::Engine& engine,
                                     compose::ComposeEvents& events, bool no_cache, bool pull);

/// The process's environment as a map.
compose::Environment process_environment();

/// A compose subcommand: sets up `sub` and returns its body.
using ComposeSetup = std::function<CommandBody(CLI::App& sub, const GlobalOptions& globals,
                                               const std::shared_ptr<ComposeFlags>& flags)>;

struct ComposeCommandSpec {
  std::string name;
  std::string description;
  ComposeSetup setup;
};

std::vector<ComposeCommandSpec>& compose_command_registry();

struct ComposeCommandRegistration {
  explicit ComposeCommandRegistration(ComposeCommandSpec spec) {
    compose_command_registry().push_back(std::move(spec));
  }
};

}  // namespace kiln::cli

namespace kiln::cli {

struct ComposeLogOptions {
  bool follow = false;
  int tail = -1;
  bool timestamps = false;
  bool no_prefix = false;
  bool no_color = false;
  /// Attached `up`: "web-1 exited with code 0" when a followed container stops.
  bool report_exit = false;
};

/// Prints the logs of `containers` (docker compose's "web-1  | line" prefixes,
/// one colour per service on a terminal), following them all at once with
/// `follow` until they stop. `stop` (optional) ends a follow early.
void print_compose_logs(compose::Engine& engine,
                        const std::vector<compose::ContainerInfo>& containers,
                        const ComposeLogOptions& options, const std::function<bool()>& stop);

}  // namespace kiln::cli
