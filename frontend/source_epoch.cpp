#include "frontend/source_epoch.h"

#include <map>

#include <llvm/ADT/StringExtras.h>
#include <llvm/ADT/StringRef.h>

#include "frontend/ast.h"
#include "frontend/shell_lex.h"
#include "support/error.h"

namespace kiln::frontend {
namespace {

constexpr const char* kEpochArg = "SOURCE_DATE_EPOCH";

using Env = std::map<std::string, std::string>;

EnvLookup lookup(const Env& env) {
  return [&env](llvm::StringRef name) -> std::optional<std::string> {
    auto it = env.find(name.str());
    return it == env.end() ? std::nullopt : std::optional<std::string>(it->second);
  };
}

std::optional<int64_t> seconds_of(llvm::StringRef text) {
  int64_t value = 0;
  if (text.empty() || text.getAsInteger(10, value)) {
    return std::nullopt;
  }
  return value;
}

bool is_url(llvm::StringRef s) { return s.startswith("http://") || s.startswith("https://"); }

bool is_git(llvm::StringRef s) {
  return s.startswith("git@") || s.startswith("git://") ||
         (is_url(s) && s.split('#').first.endswith(".git"));
}

/// The file name BuildKit gives the stage's download: the URL path's last element.
std::string url_base_name(llvm::StringRef url) {
  llvm::StringRef rest = url.split("://").second;
  size_t slash = rest.find('/');
  llvm::StringRef path = slash == llvm::StringRef::npos ? "" : rest.substr(slash);
  path = path.split('?').first.split('#').first.rtrim('/');
  llvm::StringRef base = path.substr(path.rfind('/') + 1);
  return base.empty() || base == "." || base == ".." ? "__unnamed__" : base.str();
}

/// The global ARGs: build args, else defaults expanded in order.
llvm::Expected<Env> global_args(const Dockerfile& df, const LowerOptions& options,
                                const ShellLex& lex) {
  Env env;
  for (const ArgCmd& cmd : df.meta_args) {
    for (const ArgDef& arg : cmd.args) {
      if (auto it = options.build_args.find(arg.name); it != options.build_args.end()) {
        env[arg.name] = it->second;
      } else if (arg.default_value) {
        auto value = lex.process_word(*arg.default_value, lookup(env));
        if (!value) {
          return make_source_error(df.ast, error_message(value.takeError()), cmd.range);
        }
        env[arg.name] = std::move(*value);
      }
    }
  }
  return env;
}

/// The one ADD of a URL of a source-only stage, as an http source (BuildKit's
/// sourceDateEpochStageSource); fails with BuildKit's message, unlocated.
llvm::Expected<llb::HttpSource> stage_source(const Stage& stage, Env env,
                                             const LowerOptions& options, const ShellLex& lex) {
  env.erase(kEpochArg);
  auto base = lex.process_word(stage.from.base, lookup(env));
  if (!base) {
    return make_error("failed to process source stage base name \"" + stage.from.base +
                      "\": " + error_message(base.takeError()));
  }
  if (*base != "scratch") {
    return make_error("SOURCE_DATE_EPOCH stage must use FROM scratch");
  }
  std::optional<llb::HttpSource> source;
  for (const Command& command : stage.commands) {
    if (const auto* arg = std::get_if<ArgCmd>(&command)) {
      for (const ArgDef& def : arg->args) {
        if (auto it = options.build_args.find(def.name); it != options.build_args.end()) {
          env[def.name] = it->second;
        } else if (def.default_value) {
          auto value = lex.process_word(*def.default_value, lookup(env));
          if (!value) {
            return value.takeError();
          }
          env[def.name] = std::move(*value);
        }
      }
      continue;
    }
    const auto* add = std::get_if<AddCmd>(&command);
    if (!add) {
      return make_error(
          "SOURCE_DATE_EPOCH stage does not meet source-only requirements: unsupported " +
          llvm::StringRef(command_source(command).keyword).lower() + " instruction");
    }
    if (source) {
      return make_error("SOURCE_DATE_EPOCH stage must contain exactly one remote ADD");
    }
    if (!add->heredocs.empty() || add->sources.size() != 1) {
      return make_error("SOURCE_DATE_EPOCH stage must contain exactly one remote ADD source");
    }
    auto src = lex.process_word(add->sources[0], lookup(env));
    auto sum = src ? lex.process_word(add->checksum, lookup(env)) : src.takeError();
    if (!sum) {
      return sum.takeError();
    }
    if (is_git(*src) || add->keep_git_dir) {
      return make_error("SOURCE_DATE_EPOCH of a git source is not supported by kiln");
    }
    if (!is_url(*src)) {
      return make_error("SOURCE_DATE_EPOCH stage source must be a single HTTP(S) or Git ADD");
    }
    llb::HttpSource http;
    http.url = *src;
    http.filename = url_base_name(*src);
    if (!sum->empty()) {
      auto digest = Digest::parse(*sum);
      if (!digest) {
        return digest.takeError();
      }
      http.checksum = *digest;
    }
    source = std::move(http);
  }
  if (!source) {
    return make_error("SOURCE_DATE_EPOCH stage must contain exactly one remote ADD");
  }
  return std::move(*source);
}

}  // namespace

llvm::Expected<EpochSource> resolve_epoch_source(const Dockerfile& dockerfile,
                                                 const LowerOptions& options,
                                                 const char* env_value) {
  ShellLex lex(dockerfile.ast.escape_token);
  auto globals = global_args(dockerfile, options, lex);
  if (!globals) {
    return globals.takeError();
  }
  EpochSource out;
  if (auto it = options.build_args.find(kEpochArg); it != options.build_args.end()) {
    out.value = it->second;
  } else if (env_value && (seconds_of(env_value) || llvm::StringRef(env_value) == "context")) {
    out.value = env_value;
  } else if (auto g = globals->find(kEpochArg); g != globals->end()) {
    out.value = g->second;
  }
  if (out.value.empty()) {
    return out;
  }
  if ((out.seconds = seconds_of(out.value))) {
    return out;
  }
  // kiln's main context is a local directory, and named contexts are directories or
  // images: none has a time of its own (BuildKit leaves SOURCE_DATE_EPOCH unset).
  if (out.value == "context" || options.build_contexts.count(out.value)) {
    return out;
  }
  for (const Stage& stage : dockerfile.stages) {
    if (!stage.from.name.empty() &&
        llvm::StringRef(stage.from.name).equals_insensitive(out.value)) {
      auto http = stage_source(stage, *globals, options, lex);
      if (!http) {
        return make_source_error(dockerfile.ast, error_message(http.takeError()), stage.from.range);
      }
      out.http = std::move(*http);
      return out;
    }
  }
  return make_error("invalid SOURCE_DATE_EPOCH: " + out.value);
}

}  // namespace kiln::frontend
