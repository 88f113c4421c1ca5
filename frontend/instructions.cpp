// Typed instructions from syntax-tree nodes, like BuildKit's
// instructions.ParseInstruction, and the split into stages.
#include "frontend/instructions.h"

#include <algorithm>

#include "frontend/go_text.h"
#include "frontend/instructions_internal.h"
#include "support/error.h"

namespace kiln::frontend {

CommandSource source_of(const Node& node) {
  CommandSource source;
  llvm::StringRef original = go_trim_space(node.original);
  source.keyword = original.take_until([](char c) { return c == ' ' || c == '\t'; }).str();
  source.range = node.range;
  source.original = node.original;
  return source;
}

llvm::Error err_at_least_one(llvm::StringRef command) {
  return make_error(command + " requires at least one argument");
}

llvm::Error err_exactly_one(llvm::StringRef command) {
  return make_error(command + " requires exactly one argument");
}

const CommandSource& command_source(const Command& command) {
  return std::visit([](const auto& cmd) -> const CommandSource& { return cmd; }, command);
}

namespace {

llvm::Expected<std::vector<KeyValue>> parse_kvps(const std::vector<std::string>& args,
                                                 llvm::StringRef command) {
  if (args.empty()) {
    return err_at_least_one(command);
  }
  if (args.size() % 3 != 0) {
    return make_error("Bad input to " + command + ", too many arguments");
  }
  std::vector<KeyValue> pairs;
  for (size_t i = 0; i < args.size(); i += 3) {
    if (args[i].empty()) {
      return make_error(command + " names can not be blank");
    }
    pairs.push_back({args[i], args[i + 1], args[i + 2].empty()});
  }
  return pairs;
}

template <typename T>
llvm::Expected<Command> with_source(ParseRequest& req, T cmd) {
  static_cast<CommandSource&>(cmd) = req.source;
  return Command(std::move(cmd));
}

/// MAINTAINER, USER, WORKDIR, STOPSIGNAL: exactly one argument, no flags.
llvm::Expected<std::string> single_argument(ParseRequest& req, llvm::StringRef command) {
  if (req.node.args.size() != 1) {
    return err_exactly_one(command);
  }
  if (auto err = req.flags.parse()) {
    return err;
  }
  return req.node.args[0];
}

llvm::Expected<Command> parse_simple(ParseRequest& req) {
  const std::string& k = req.node.keyword;
  std::string upper = llvm::StringRef(k).upper();
  if (k == "maintainer" || k == "user" || k == "workdir" || k == "stopsignal") {
    auto value = single_argument(req, upper);
    if (!value) {
      return value.takeError();
    }
    if (k == "maintainer") {
      return with_source(req, MaintainerCmd{{}, *value});
    }
    if (k == "user") {
      return with_source(req, UserCmd{{}, *value});
    }
    if (k == "workdir") {
      return with_source(req, WorkdirCmd{{}, *value});
    }
    return with_source(req, StopSignalCmd{{}, *value});
  }
  if (auto err = req.flags.parse()) {
    return err;
  }
  if (k == "env" || k == "label") {
    auto pairs = parse_kvps(req.node.args, upper);
    if (!pairs) {
      return pairs.takeError();
    }
    if (k == "env") {
      return with_source(req, EnvCmd{{}, std::move(*pairs)});
    }
    return with_source(req, LabelCmd{{}, std::move(*pairs)});
  }
  if (k == "expose") {
    if (req.node.args.empty()) {
      return err_at_least_one("EXPOSE");
    }
    std::vector<std::string> ports = req.node.args;
    std::sort(ports.begin(), ports.end());
    return with_source(req, ExposeCmd{{}, std::move(ports)});
  }
  if (k == "volume") {
    if (req.node.args.empty()) {
      return err_at_least_one("VOLUME");
    }
    VolumeCmd cmd;
    for (const std::string& v : req.node.args) {
      llvm::StringRef trimmed = go_trim_space(v);
      if (trimmed.empty()) {
        return make_error("VOLUME specified can not be an empty string");
      }
      cmd.volumes.push_back(trimmed.str());
    }
    return with_source(req, std::move(cmd));
  }
  return make_error("unknown instruction: " + req.source.keyword);
}

llvm::Expected<Command> parse_arg(ParseRequest& req) {
  if (req.node.args.empty()) {
    return err_at_least_one("ARG");
  }
  if (auto err = req.flags.parse()) {
    return err;
  }
  ArgCmd cmd;
  for (const std::string& arg : req.node.args) {
    size_t eq = arg.find('=');
    if (eq == std::string::npos) {
      cmd.args.push_back({arg, std::nullopt});
      continue;
    }
    if (eq == 0) {
      return make_error("ARG names can not be blank");
    }
    cmd.args.push_back({arg.substr(0, eq), arg.substr(eq + 1)});
  }
  return with_source(req, std::move(cmd));
}

llvm::Expected<Command> parse_cmd_like(ParseRequest& req) {
  if (auto err = req.flags.parse()) {
    return err;
  }
  bool shell = !req.node.json;
  if (req.node.keyword == "cmd") {
    return with_source(req, CmdCmd{{}, req.node.args, shell});
  }
  return with_source(req, EntrypointCmd{{}, req.node.args, shell});
}

llvm::Expected<Command> parse_shell(ParseRequest& req) {
  if (auto err = req.flags.parse()) {
    return err;
  }
  if (req.node.args.empty()) {
    return err_at_least_one("SHELL");
  }
  if (!req.node.json) {
    return make_error("SHELL requires the arguments to be in JSON form");
  }
  return with_source(req, ShellCmd{{}, req.node.args});
}

/// Strips a leading `ONBUILD` (any case) and the spaces after it.
std::string strip_onbuild(llvm::StringRef original) {
  llvm::StringRef text = go_trim_left_space(original);
  if (text.size() >= 7 && text.take_front(7).equals_insensitive("onbuild")) {
    text = go_trim_left_space(text.drop_front(7));
  }
  return text.str();
}

llvm::Expected<Command> parse_onbuild(ParseRequest& req) {
  if (req.node.children.empty()) {
    return err_at_least_one("ONBUILD");
  }
  if (auto err = req.flags.parse()) {
    return err;
  }
  std::string trigger = llvm::StringRef(req.node.children[0].keyword).upper();
  if (trigger == "ONBUILD") {
    return make_error("Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed");
  }
  if (trigger == "MAINTAINER" || trigger == "FROM") {
    return make_error(trigger + " isn't allowed as an ONBUILD trigger");
  }
  std::string expression = strip_onbuild(req.node.original);
  for (const Heredoc& doc : req.node.heredocs) {
    expression += "\n" + doc.content + doc.name;
  }
  for (const Heredoc& doc : req.node.children[0].heredocs) {
    expression += "\n" + doc.content + doc.name;
  }
  return with_source(req, OnbuildCmd{{}, std::move(expression)});
}

bool valid_stage_name(llvm::StringRef name) {
  if (name.empty() || !std::islower(static_cast<unsigned char>(name[0]))) {
    return false;
  }
  return llvm::all_of(name, [](char c) {
    return std::islower(static_cast<unsigned char>(c)) ||
           std::isdigit(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.';
  });
}

llvm::Error located(const Ast& ast, const Node& node, llvm::Error err) {
  return make_source_error(ast, error_message(std::move(err)), node.range);
}

}  // namespace

llvm::Expected<FromCmd> parse_from(const Ast& ast, const Node& node) {
  FromCmd from;
  static_cast<CommandSource&>(from) = source_of(node);
  const auto& args = node.args;
  if (args.size() == 3 && llvm::StringRef(args[1]).equals_insensitive("as")) {
    from.name = llvm::StringRef(args[2]).lower();
    if (!valid_stage_name(from.name)) {
      return make_source_error(ast,
                               "invalid name for build stage: " + go_quote(args[2]) +
                                   ", name can't start with a number or contain symbols",
                               node.range);
    }
  } else if (args.size() != 1) {
    return make_source_error(ast, "FROM requires either one or three arguments", node.range);
  }
  BuildFlags flags(node.flags);
  flags.add_string("platform");
  if (auto err = flags.parse()) {
    return located(ast, node, std::move(err));
  }
  from.base = args[0];
  from.platform = flags.string_value("platform");
  return from;
}

llvm::Expected<Command> parse_command(const Ast& ast, const Node& node) {
  ParseRequest req{node, BuildFlags(node.flags), source_of(node)};
  const std::string& k = node.keyword;
  auto dispatch = [&]() -> llvm::Expected<Command> {
    if (k == "run") {
      return parse_run(req);
    }
    if (k == "copy") {
      return parse_copy(req);
    }
    if (k == "add") {
      return parse_add(req);
    }
    if (k == "healthcheck") {
      return parse_healthcheck(req);
    }
    if (k == "arg") {
      return parse_arg(req);
    }
    if (k == "cmd" || k == "entrypoint") {
      return parse_cmd_like(req);
    }
    if (k == "shell") {
      return parse_shell(req);
    }
    if (k == "onbuild") {
      return parse_onbuild(req);
    }
    if (k == "from") {
      return make_error("FROM cannot be used as a command here");
    }
    return parse_simple(req);
  };
  auto result = dispatch();
  if (!result) {
    return located(ast, node, result.takeError());
  }
  return result;
}

llvm::Expected<Dockerfile> parse_dockerfile(llvm::StringRef text, llvm::StringRef file_name) {
  if (text.size() > kMaxDockerfileSize) {
    return make_error(dockerfile_too_large(file_name));
  }
  auto ast = parse_ast(text, file_name);
  if (!ast) {
    return ast.takeError();
  }
  Dockerfile file;
  for (const Node& node : ast->nodes) {
    if (node.keyword == "from") {
      auto from = parse_from(*ast, node);
      if (!from) {
        return from.takeError();
      }
      Stage stage;
      stage.from = std::move(*from);
      stage.comment = node.prev_comment;
      file.stages.push_back(std::move(stage));
      continue;
    }
    auto command = parse_command(*ast, node);
    if (!command) {
      return command.takeError();
    }
    if (file.stages.empty()) {
      if (auto* arg = std::get_if<ArgCmd>(&*command)) {
        file.meta_args.push_back(std::move(*arg));
        continue;
      }
      return make_source_error(*ast, "no build stage in current context", node.range);
    }
    file.stages.back().commands.push_back(std::move(*command));
  }
  file.ast = std::move(*ast);
  return file;
}

}  // namespace kiln::frontend
