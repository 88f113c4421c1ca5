// Loading a compose project as docker compose v2 does: find the files (or take
// -f), read `.env` (or --env-file), interpolate, check each file against the
// Compose Specification, resolve `include` and `extends`, merge the files in
// order, normalize every short syntax into its long form with absolute paths,
// drop the services of inactive profiles and name the project and its
// resources. The result is an immutable model: `config` prints it; up/down read
// ServiceConfig views of it (service.h).
#pragma once

#include <string>
#include <vector>

#include <llvm/Support/Error.h>

#include "compose/interpolate.h"
#include "compose/node.h"

namespace kiln::compose {

/// What the command line and the process say about where the project is.
struct LoadOptions {
  /// -f files in order ("-": `stdin_text`, standing in `working_dir`); empty:
  /// discover from `working_dir`.
  std::vector<std::string> files;
  /// What `-f -` reads: the caller reads stdin.
  std::string stdin_text;
  /// The directory the command runs in (absolute).
  std::string working_dir;
  /// --project-directory; empty: the first file's directory.
  std::string project_directory;
  /// -p; empty: COMPOSE_PROJECT_NAME, `name:`, else the project directory's name.
  std::string project_name;
  /// --env-file files; empty: PROJECT_DIR/.env when it exists.
  std::vector<std::string> env_files;
  /// --profile values (COMPOSE_PROFILES adds to them).
  std::vector<std::string> profiles;
  /// The process's environment; wins over `.env`.
  Environment environment;
};

/// A loaded project.
struct Project {
  std::string name;
  /// The project directory (absolute): relative paths are resolved from it.
  std::string working_dir;
  /// The compose files that were read (absolute), in order.
  std::vector<std::string> files;
  /// The interpolation environment (the process's over `.env`).
  Environment environment;
  /// The normalized model: name, services, networks, volumes, secrets, configs.
  Node model;
  /// Services left out by profiles, by name (so that `down` still finds them).
  std::vector<std::string> disabled_services;
};

/// The compose file names docker compose looks for, in order.
const std::vector<std::string>& default_file_names();

/// docker compose's project name rule: lowercase letters, digits, '-' and '_',
/// starting with a letter or digit. normalize_project_name() lowercases and drops
/// other characters (for a directory's name).
bool valid_project_name(llvm::StringRef name);
std::string normalize_project_name(llvm::StringRef name);

/// Loads the project; docker compose's warnings (unset variables, obsolete
/// `version`) go to `warn`. Errors name the file and line.
llvm::Expected<Project> load_project(const LoadOptions& options, const WarnFn& warn);

/// `docker compose config`'s YAML for `project`.
std::string config_yaml(const Project& project);
/// `docker compose config --format json`: the same model as JSON (two-space
/// indents, keys in the YAML's order).
std::string config_json(const Project& project);

/// What `config` prints: the model, or one name a line of its services
/// (`--services`), volumes (`--volumes`) or the services' images (`--images`).
enum class ConfigPart { model, services, volumes, images };

/// `compose config`'s output: `part` of `project` (the model as JSON with
/// `json`, else YAML).
llvm::Expected<std::string> config_text(const Project& project, ConfigPart part, bool json);

}  // namespace kiln::compose
