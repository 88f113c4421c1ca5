// Internal to the lowering (frontend/lower*.cpp): the per-stage state and the
// Lowerer whose methods are split by instruction family across files.
#pragma once

#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "frontend/lower.h"
#include "frontend/shell_lex.h"
#include "oci/types.h"

namespace kiln::frontend::detail {

/// The state of one stage while it is lowered (BuildKit's dispatchState).
struct StageState {
  int index = 0;
  /// The Dockerfile stage; null for an implicit stage (COPY --from=image).
  const Stage* stage = nullptr;
  /// Implicit stages: the lines of the first command that referred to it.
  SourceRange ref_range;
  /// The AS name, lowercased; "" when unnamed.
  std::string name;
  /// Name used in progress descriptions ("build", "stage-1"); "" for a
  /// single-stage Dockerfile.
  std::string display_name;
  /// The expanded base name (image reference, stage name or "scratch").
  std::string base;
  StageState* base_stage = nullptr;
  /// The platform the stage is built for: its `FROM --platform=`, its base stage's,
  /// else the target platform.
  oci::Platform platform;
  /// The stage has a `FROM --platform=`.
  bool explicit_platform = false;
  /// A --build-context of the stage's name stands for the whole stage (its FROM and
  /// instructions are not used), as BuildKit's named contexts.
  bool replaced = false;
  /// Stages this one reads from (base, COPY --from, RUN --mount from=), in the
  /// order they are first referred to (a vector, so lowering order never depends
  /// on pointer values).
  std::vector<StageState*> deps;
  bool reachable = false;
  bool lowering = false;
  bool lowered = false;

  const llb::Vertex* vertex = nullptr;
  oci::ImageConfig image;
  /// The environment RUN sees and words expand with: image env, ARG values, ENV.
  std::vector<std::string> env;
  std::string workdir = "/";
  /// An absolute WORKDIR was set in this stage or the stages it builds on.
  bool workdir_set = false;
  std::string user;
  /// ARGs declared in this stage, in order: name and value (unset: no value).
  std::vector<std::pair<std::string, std::optional<std::string>>> args;
  bool cmd_set = false;
  /// Progress numbering: "[name 3/7]".
  int cmd_index = 0;
  int cmd_total = 0;
};

/// The PATH every stage starts with when its image sets none.
inline constexpr const char* kDefaultPathEnv =
    "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// Whether a stage for `platform` gets kDefaultPathEnv: not on Windows, where
/// BuildKit sets no PATH (moby/buildkit#5445).
inline bool gets_default_path(const oci::Platform& platform) { return platform.os != "windows"; }

/// The shell of RUN, CMD and ENTRYPOINT in shell form when no SHELL is set:
/// `cmd /S /C` for a Windows stage, else `/bin/sh -c` (BuildKit's defaultShell).
inline std::vector<std::string> default_shell(const oci::Platform& platform) {
  if (platform.os == "windows") {
    return {"cmd", "/S", "/C"};
  }
  return {"/bin/sh", "-c"};
}

/// Sets `key` to `value` in a "KEY=value" list, in place when present.
void set_env(std::vector<std::string>& env, llvm::StringRef key, llvm::StringRef value);

/// Go's path.Clean.
std::string clean_path(llvm::StringRef path);
/// The owner of a "user[:group]" string: numeric parts become ids, others names.
llb::Chown parse_chown(llvm::StringRef spec);
/// "RUN"-style description text: the keyword upper-cased, the rest as written.
std::string describe(const CommandSource& source);

/// Go's fmt "%q" of a []string: ["a" "b"].
std::string go_quote_list(const std::vector<std::string>& values);
/// Go's fmt "%v" of a []string: [a b].
std::string go_list(const std::vector<std::string>& values);
/// Go's time.Duration.String() of `ns` nanoseconds ("1m30s", "0s", "500ms").
std::string go_duration(int64_t ns);

/// The lowering of one Dockerfile. Methods are defined in lower.cpp (stages),
/// lower_run.cpp (RUN), lower_copy.cpp (COPY/ADD/WORKDIR), lower_config.cpp
/// (metadata instructions).
class Lowerer {
 public:
  /// Vertices go into `builder` (shared by the lowerings of several platforms);
  /// the lowering is for `target` (TARGETPLATFORM) on `build` (BUILDPLATFORM).
  Lowerer(const Dockerfile& dockerfile, const LowerOptions& options,
          llb::DefinitionBuilder& builder, oci::Platform build, oci::Platform target);
  /// Lowers the stages; the result's definition is empty and `roots` gets the
  /// stages' vertices (for DefinitionBuilder::finish).
  llvm::Expected<LowerResult> run(std::vector<llb::Definition::Root>& roots);

  // lower_stages.cpp
  llvm::Error setup_global_args(llvm::StringRef target_name);
  llvm::Error setup_stages();
  llvm::Error parse_stage_platform(StageState& st);
  llvm::Expected<StageState*> find_target();
  llvm::Error collect_deps();
  void mark_reachable(StageState& st);
  llvm::Error lower_stage(StageState& st);
  llvm::Error init_base(StageState& st);
  llvm::Error init_local_context(StageState& st);
  llvm::Error init_image(StageState& st, const std::string& base, SourceRange range);
  llvm::Error run_onbuild(StageState& st);
  LowerResult take_result(StageState& target, std::vector<llb::Definition::Root>& roots);

  // lower.cpp
  llvm::Error dispatch(StageState& st, const Command& command);
  llvm::Error error_at(SourceRange range, const llvm::Twine& message) const;
  void lint(llvm::StringRef rule, std::string detail, SourceRange range);
  /// Expands `word` with the stage's env; reports UndefinedVar.
  llvm::Expected<std::string> expand(StageState& st, llvm::StringRef word, SourceRange range);
  /// Adds `bytes` to expanded_bytes_; fails at `range` past kMaxExpandedTotal.
  llvm::Error count_expanded(size_t bytes, SourceRange range);
  llvm::Expected<std::vector<std::string>> expand_words(StageState& st, llvm::StringRef word,
                                                        SourceRange range);
  /// The build context source.
  const llb::Vertex* context();
  /// The file system of a `--from` value: a stage name or index, else an image.
  llvm::Expected<const llb::Vertex*> from_vertex(llvm::StringRef from, SourceRange range);
  llvm::Expected<StageState*> find_from(llvm::StringRef from, SourceRange range);
  llvm::Error check_defined_before(const StageState& st, const StageState& dep,
                                   const Command& command, const std::string& ref);
  /// "[name 2/5] " for the next build step of `st`.
  std::string step_prefix(StageState& st);
  llb::VertexMetadata step_meta(StageState& st, std::string text, SourceRange range);
  void commit_history(StageState& st, std::string created_by, bool empty_layer);

  // lower_run.cpp
  llvm::Error lower_run(StageState& st, const RunCmd& cmd);
  // lower_copy.cpp
  llvm::Error lower_copy(StageState& st, const CopyAddFields& cmd, const AddCmd* add);
  llvm::Error lower_workdir(StageState& st, const WorkdirCmd& cmd);
  // lower_config.cpp
  llvm::Error lower_env(StageState& st, const EnvCmd& cmd);
  llvm::Error lower_arg(StageState& st, const ArgCmd& cmd);
  llvm::Error lower_metadata(StageState& st, const Command& command);
  llvm::Error lower_other_metadata(StageState& st, const Command& command);
  llvm::Error lower_expose(StageState& st, const ExposeCmd& cmd);
  void lower_healthcheck(StageState& st, const HealthcheckCmd& cmd);
  void apply_base_config(StageState& st);

  const Dockerfile& df_;
  const LowerOptions& opts_;
  ShellLex lex_;
  llb::DefinitionBuilder& builder_;
  oci::Platform build_platform_;
  oci::Platform target_platform_;
  /// Progress descriptions start with the stage's platform ("[linux/arm64 build 2/5]"),
  /// as BuildKit's for a multi-platform build.
  bool show_platform_ = false;
  /// Global ARGs with their values, "KEY=value", plus the platform ARGs.
  std::vector<std::string> global_args_;
  /// Names of the global ARGs, declared with or without a value.
  std::set<std::string> declared_globals_;
  std::vector<std::unique_ptr<StageState>> stages_;
  std::set<std::string> used_build_args_;
  std::vector<ContextRead> context_reads_;
  const llb::Vertex* context_ = nullptr;
  /// Bytes that expand() and expand_words() returned so far (at most
  /// kMaxExpandedTotal): many lines each expanding a large value cannot add up
  /// to gigabytes.
  size_t expanded_bytes_ = 0;
};

}  // namespace kiln::frontend::detail
