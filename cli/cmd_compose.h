// `kiln compose`: the flags every compose subcommand shares and the registry of
// its subcommands (each cli/cmd_compose_*.cpp adds its own), so that the compose
// verbs stay as thin as kiln's other commands.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <llvm/Support/Error.h>
#include <CLI/CLI.hpp>

#include "cli/command.h"
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
