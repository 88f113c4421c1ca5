// Typed Dockerfile instructions, like BuildKit's frontend/dockerfile/instructions:
// each syntax-tree node becomes one command struct with its flags checked and
// its arguments in named fields. Nothing is expanded here: `$VAR`s stay as
// written, because their values (ARG/ENV/--build-arg) are only known while
// lowering (see frontend/shell_lex.h).
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include <llvm/ADT/StringRef.h>
#include <llvm/Support/Error.h>

#include "frontend/ast.h"
#include "support/error.h"

namespace kiln::frontend {

/// What every command keeps of its source.
struct CommandSource {
  /// The keyword as written (e.g. "run" or "RUN"); see Node::original for the rest.
  std::string keyword;
  /// The instruction's lines (heredoc bodies included).
  SourceRange range;
  /// The instruction text as written, continuations joined (Node::original).
  std::string original;
};

/// A `key=value` (ENV, LABEL) pair. `value` is unexpanded and still quoted as written.
struct KeyValue {
  std::string key;
  std::string value;
  /// True for the legacy `ENV key value` form (no '='), for lint rules.
  bool no_delim = false;
  bool operator==(const KeyValue&) const = default;
};

/// FROM [--platform=P] base [AS name]. Starts a stage.
struct FromCmd : CommandSource {
  /// The base image reference or stage name, unexpanded ("alpine:${V}", "scratch").
  std::string base;
  /// The stage name after AS, lowercased; "" when unnamed.
  std::string name;
  /// The --platform value, unexpanded; "" when not given.
  std::string platform;
};

/// One `RUN --mount=...` spec, parsed like BuildKit's instructions.parseMount.
/// Values are unexpanded unless parse_run_mount was given an expander.
struct RunMount {
  enum class Type { bind, cache, tmpfs, secret, ssh };
  enum class Sharing { shared, private_, locked };
  Type type = Type::bind;
  /// Stage name, stage index or image to mount from; "" for the build context
  /// (bind) or an empty cache dir (cache).
  std::string from;
  /// Path inside `from`; "" means its root.
  std::string source;
  /// Mount point in the container. For secret/ssh defaults are filled in:
  /// "/run/secrets/<id>" and "/run/buildkit/ssh_agent.<n>" (n assigned by lowering:
  /// left "" here when not given for ssh).
  std::string target;
  /// Bind mounts default to read-only; cache mounts to read-write.
  bool read_only = true;
  /// Cache id (cache), secret id (secret), ssh id (ssh, default "default").
  std::string id;
  Sharing sharing = Sharing::shared;
  /// secret/ssh: fail the build when the secret is not provided.
  bool required = false;
  /// secret: the environment variable to expose the secret in ("" = none).
  std::string env;
  /// tmpfs: size limit in bytes (0 = unlimited).
  int64_t size_limit = 0;
  /// File mode / owner; unset means the type's default (0644 / 0:0 for secrets,
  /// 0755 / 0:0 for cache directories, 0600 for ssh sockets).
  std::optional<uint32_t> mode;
  std::optional<uint32_t> uid;
  std::optional<uint32_t> gid;
  /// The spec as written ("type=cache,target=/root/.cache").
  std::string spec;
};

/// RUN [--mount=...] [--network=...] [--security=...] cmd.
struct RunCmd : CommandSource {
  /// Shell form: one element (the command line); JSON form: the argv.
  std::vector<std::string> args;
  /// True for shell form: run as [shell..., args[0]] with the stage's SHELL.
  bool prepend_shell = true;
  std::vector<RunMount> mounts;
  /// "default", "none" or "host" (unexpanded; "" when not given).
  std::string network;
  /// "sandbox" or "insecure" ("" when not given).
  std::string security;
  /// Here-documents; for `RUN <<EOF` their bodies are the script.
  std::vector<Heredoc> heredocs;
};

/// What COPY and ADD share (BuildKit's SourcesAndDest + flags).
struct CopyAddFields : CommandSource {
  /// Source paths / URLs as written (unexpanded), without heredoc markers.
  std::vector<std::string> sources;
  /// Inline files: each heredoc becomes a file named by its delimiter.
  std::vector<Heredoc> heredocs;
  /// Destination as written (unexpanded).
  std::string dest;
  /// --from (stage name, index or image); "" for the build context.
  std::string from;
  /// --chown and --chmod as written; "" when not given.
  std::string chown;
  std::string chmod;
  bool link = false;
  bool parents = false;
  /// --exclude patterns, in order.
  std::vector<std::string> excludes;
  /// True when the arguments were JSON form.
  bool json = false;
};

/// COPY [flags] src... dest.
struct CopyCmd : CopyAddFields {};

/// ADD [flags] src... dest.
struct AddCmd : CopyAddFields {
  /// --checksum=sha256:... for URL/git sources; "" when not given.
  std::string checksum;
  bool keep_git_dir = false;
  /// --user-agent: the User-Agent header of a URL source's request; "" when not given.
  std::string user_agent;
  /// --unpack: unset means "unpack local archives, not remote ones" (the default).
  std::optional<bool> unpack;
};

/// ENV k=v ... / ENV k v.
struct EnvCmd : CommandSource {
  std::vector<KeyValue> pairs;
};

/// One name of an ARG instruction.
struct ArgDef {
  std::string name;
  /// The default value (unexpanded), unset for `ARG name`.
  std::optional<std::string> default_value;
  bool operator==(const ArgDef&) const = default;
};

/// ARG name[=default] ... (one instruction may declare several).
struct ArgCmd : CommandSource {
  std::vector<ArgDef> args;
};

/// CMD and ENTRYPOINT.
struct CmdCmd : CommandSource {
  std::vector<std::string> args;
  bool prepend_shell = true;
};
struct EntrypointCmd : CommandSource {
  std::vector<std::string> args;
  bool prepend_shell = true;
};

struct WorkdirCmd : CommandSource {
  std::string path;
};
struct UserCmd : CommandSource {
  std::string user;
};
/// EXPOSE port[/proto] ... (unexpanded words).
struct ExposeCmd : CommandSource {
  std::vector<std::string> ports;
};
struct LabelCmd : CommandSource {
  std::vector<KeyValue> labels;
};
struct VolumeCmd : CommandSource {
  std::vector<std::string> volumes;
};
struct StopSignalCmd : CommandSource {
  std::string signal;
};

/// HEALTHCHECK [opts] CMD ... / HEALTHCHECK NONE. Durations in nanoseconds,
/// 0 = inherit the default.
struct HealthcheckCmd : CommandSource {
  /// {"NONE"}, {"CMD", argv...} or {"CMD-SHELL", command}.
  std::vector<std::string> test;
  int64_t interval_ns = 0;
  int64_t timeout_ns = 0;
  int64_t start_period_ns = 0;
  int64_t start_interval_ns = 0;
  int retries = 0;
};

/// SHELL ["exe", "arg"...] (JSON form only).
struct ShellCmd : CommandSource {
  std::vector<std::string> shell;
};

/// ONBUILD instruction: stored as text for the image config's OnBuild list.
struct OnbuildCmd : CommandSource {
  /// The wrapped instruction as written, e.g. "RUN echo hi".
  std::string expression;
};

struct MaintainerCmd : CommandSource {
  std::string maintainer;
};

/// Any instruction that may appear inside a stage.
using Command = std::variant<RunCmd, CopyCmd, AddCmd, EnvCmd, ArgCmd, CmdCmd, EntrypointCmd,
                             WorkdirCmd, UserCmd, ExposeCmd, LabelCmd, VolumeCmd, StopSignalCmd,
                             HealthcheckCmd, ShellCmd, OnbuildCmd, MaintainerCmd>;

/// The source part of any command.
const CommandSource& command_source(const Command& command);

/// A stage: its FROM and the commands after it, up to the next FROM.
struct Stage {
  FromCmd from;
  std::vector<Command> commands;
  /// Comment lines directly above the FROM.
  std::vector<std::string> comment;
};

/// A parsed Dockerfile: global ARGs (before the first FROM) and stages.
struct Dockerfile {
  /// The syntax tree it came from (file name, source text, escape token, directives).
  Ast ast;
  /// ARG instructions before the first FROM, in order.
  std::vector<ArgCmd> meta_args;
  std::vector<Stage> stages;
};

/// Converts one syntax-tree node into its command, checking flags and
/// arguments like BuildKit's instructions.ParseInstruction. FROM is returned as
/// a FromCmd by parse_from instead. Fails with a SourceError on `ast`'s file.
llvm::Expected<Command> parse_command(const Ast& ast, const Node& node);

/// Converts a FROM node.
llvm::Expected<FromCmd> parse_from(const Ast& ast, const Node& node);

/// The largest Dockerfile read (BuildKit's limit: 16 MiB).
constexpr size_t kMaxDockerfileSize = size_t{16} << 20;

/// Reads the Dockerfile at `path` ("-": standard input), refusing one larger than
/// kMaxDockerfileSize before reading past it (`-f /dev/zero` ends, too).
llvm::Expected<std::string> read_dockerfile(llvm::StringRef path);
/// The error text for a Dockerfile `path` over the limit.
std::string dockerfile_too_large(llvm::StringRef path);

/// Parses `text` (the contents of `file_name`) into stages: parse_ast, then each
/// node's command. Fails on the first error, as a SourceError with the lines, and
/// on text larger than kMaxDockerfileSize.
llvm::Expected<Dockerfile> parse_dockerfile(llvm::StringRef text, llvm::StringRef file_name);

/// Expands one word (used for mount values); null means "no expansion".
using WordExpander = std::function<llvm::Expected<std::string>(llvm::StringRef word)>;

/// Parses one `--mount` spec ("type=cache,target=/x,id=y"), expanding each value
/// with `expand` when given. Errors are plain KilnErrors with BuildKit's
/// wording (e.g. "unexpected key 'foo' in 'foo=bar'").
llvm::Expected<RunMount> parse_run_mount(llvm::StringRef spec, const WordExpander& expand);

/// Parses a Go duration ("30s", "1m30s", "1.5h") into nanoseconds.
llvm::Expected<int64_t> parse_go_duration(llvm::StringRef text);

}  // namespace kiln::frontend
