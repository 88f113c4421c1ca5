// The instructions that only change the stage's environment and image config:
// ENV, ARG, CMD, ENTRYPOINT, USER, EXPOSE, LABEL, VOLUME, STOPSIGNAL, HEALTHCHECK,
// SHELL, ONBUILD, MAINTAINER. Their history entries read exactly like BuildKit's
// (Go's fmt verbs included).

#include <algorithm>
#include <map>

#include "frontend/go_text.h"
#include "frontend/lower_state.h"

namespace kiln::frontend {
namespace detail {
namespace {

std::vector<std::string> shell_of(const StageState& st) {
  if (!st.image.config.shell.empty()) {
    return st.image.config.shell;
  }
  return default_shell(st.platform);
}

/// CMD/ENTRYPOINT argv: JSON form as is, shell form through the stage's SHELL.
std::vector<std::string> command_argv(const StageState& st, const std::vector<std::string>& args,
                                      bool prepend_shell) {
  if (!prepend_shell) {
    return args;
  }
  std::vector<std::string> out = shell_of(st);
  out.push_back(llvm::join(args, " "));
  return out;
}

/// Go's %q of an int: a quoted rune literal ('\x03', 'A').
std::string go_quote_rune(int value) {
  if (value >= 0x20 && value < 0x7f) {
    std::string c(1, static_cast<char>(value));
    if (c == "'" || c == "\\") {
      c = "\\" + c;
    }
    return "'" + c + "'";
  }
  char buf[16];
  snprintf(buf, sizeof(buf), value < 0x100 ? "'\\x%02x'" : "'\\u%04x'", value);
  return buf;
}

/// "80", "80/udp", "8000-8002/tcp" -> "80/tcp", ... (docker's nat.ParsePortSpecs).
llvm::Expected<std::vector<std::string>> port_specs(llvm::StringRef word) {
  auto [range, proto] = word.split('/');
  std::string protocol = proto.empty() ? "tcp" : proto.lower();
  auto [first_text, last_text] = range.split('-');
  unsigned first = 0;
  unsigned last = 0;
  if (first_text.getAsInteger(10, first) || first > 65535) {
    return make_error("invalid containerPort: " + range);
  }
  last = first;
  if (!last_text.empty() && (last_text.getAsInteger(10, last) || last < first || last > 65535)) {
    return make_error("invalid containerPort: " + range);
  }
  std::vector<std::string> out;
  for (unsigned p = first; p <= last; ++p) {
    out.push_back(std::to_string(p) + "/" + protocol);
  }
  return out;
}

}  // namespace

std::string go_quote_list(const std::vector<std::string>& values) {
  std::string out = "[";
  for (size_t i = 0; i < values.size(); ++i) {
    out += (i ? " " : "") + go_quote(values[i]);
  }
  return out + "]";
}

std::string go_list(const std::vector<std::string>& values) {
  return "[" + llvm::join(values, " ") + "]";
}

std::string go_duration(int64_t ns) {
  if (ns == 0) {
    return "0s";
  }
  std::string sign = ns < 0 ? "-" : "";
  uint64_t u = ns < 0 ? -static_cast<uint64_t>(ns) : ns;
  auto frac = [](uint64_t whole, uint64_t rem, uint64_t unit) {
    std::string out = std::to_string(whole);
    if (rem) {
      std::string digits = std::to_string(unit + rem).substr(1);
      out += "." + digits.substr(0, digits.find_last_not_of('0') + 1);
    }
    return out;
  };
  if (u < 1000) {
    return sign + std::to_string(u) + "ns";
  }
  if (u < 1000000) {
    return sign + frac(u / 1000, u % 1000, 1000) + "\u00b5s";
  }
  if (u < 1000000000) {
    return sign + frac(u / 1000000, u % 1000000, 1000000) + "ms";
  }
  uint64_t secs = u / 1000000000;
  std::string out = frac(secs % 60, u % 1000000000, 1000000000) + "s";
  if (secs >= 60) {
    out = std::to_string(secs / 60 % 60) + "m" + out;
    if (secs >= 3600) {
      out = std::to_string(secs / 3600) + "h" + out;
    }
  }
  return sign + out;
}

void Lowerer::apply_base_config(StageState& st) {
  // BuildKit makes sure every stage's image has a PATH (appended after the base's env).
  auto& env = st.image.config.env;
  if (gets_default_path(st.platform) &&
      std::none_of(env.begin(), env.end(),
                   [](const std::string& e) { return llvm::StringRef(e).startswith("PATH="); })) {
    env.push_back(kDefaultPathEnv);
  }
  for (const std::string& e : st.image.config.env) {
    auto [key, value] = llvm::StringRef(e).split('=');
    set_env(st.env, key, value);
  }
  st.workdir = st.image.config.working_dir.empty() ? "/" : st.image.config.working_dir;
  st.user = st.image.config.user;
}

llvm::Error Lowerer::lower_env(StageState& st, const EnvCmd& cmd) {
  // Every word is expanded against the environment before the instruction (as
  // BuildKit does): in `ENV A=1 B=$A`, B sees the previous A.
  std::vector<std::pair<std::string, std::string>> pairs;
  for (const KeyValue& kv : cmd.pairs) {
    auto key = expand(st, kv.key, cmd.range);
    if (!key) {
      return key.takeError();
    }
    auto value = expand(st, kv.value, cmd.range);
    if (!value) {
      return value.takeError();
    }
    pairs.emplace_back(std::move(*key), std::move(*value));
  }
  std::string history = "ENV";
  for (const auto& [key, value] : pairs) {
    set_env(st.env, key, value);
    set_env(st.image.config.env, key, value);
    history += " " + key + "=" + value;
  }
  commit_history(st, std::move(history), true);
  return llvm::Error::success();
}

llvm::Error Lowerer::lower_arg(StageState& st, const ArgCmd& cmd) {
  std::vector<std::string> parts;
  for (const ArgDef& arg : cmd.args) {
    std::optional<std::string> value;
    auto given = opts_.build_args.find(arg.name);
    if (given != opts_.build_args.end()) {
      used_build_args_.insert(arg.name);
      value = given->second;
    } else if (arg.default_value) {
      auto expanded = expand(st, *arg.default_value, cmd.range);
      if (!expanded) {
        return expanded.takeError();
      }
      value = std::move(*expanded);
    } else {
      std::string prefix = arg.name + "=";
      for (const std::string& g : global_args_) {
        if (llvm::StringRef(g).startswith(prefix)) {
          value = g.substr(prefix.size());
        }
      }
    }
    if (value) {
      set_env(st.env, arg.name, *value);
    }
    st.args.emplace_back(arg.name, value);
    parts.push_back(value ? arg.name + "=" + *value : arg.name);
  }
  commit_history(st, "ARG " + llvm::join(parts, " "), true);
  return llvm::Error::success();
}

llvm::Error Lowerer::lower_expose(StageState& st, const ExposeCmd& x) {
  auto& config = st.image.config;
  std::vector<std::string> ports;
  for (const std::string& word : x.ports) {
    auto words = expand_words(st, word, x.range);
    if (!words) {
      return words.takeError();
    }
    for (const std::string& w : *words) {
      auto specs = port_specs(w);
      if (!specs) {
        return error_at(x.range, error_message(specs.takeError()));
      }
      ports.insert(ports.end(), specs->begin(), specs->end());
    }
  }
  // Current BuildKit prints its list of "port/proto" as Go's %v does, in parse order
  // (the words sorted as strings), ranges expanded, repeats kept ("EXPOSE [53/udp 80/tcp]").
  for (const std::string& port : ports) {
    if (std::find(config.exposed_ports.begin(), config.exposed_ports.end(), port) ==
        config.exposed_ports.end()) {
      config.exposed_ports.push_back(port);
    }
  }
  commit_history(st, "EXPOSE [" + llvm::join(ports, " ") + "]", true);
  return llvm::Error::success();
}

void Lowerer::lower_healthcheck(StageState& st, const HealthcheckCmd& h) {
  auto& config = st.image.config;
  oci::Healthcheck health;
  health.test = h.test;
  health.interval = h.interval_ns;
  health.timeout = h.timeout_ns;
  health.start_period = h.start_period_ns;
  health.start_interval = h.start_interval_ns;
  health.retries = h.retries;
  config.healthcheck = health;
  commit_history(
      st,
      "HEALTHCHECK &{" + go_quote_list(health.test) + " " + go_quote(go_duration(health.interval)) +
          " " + go_quote(go_duration(health.timeout)) + " " +
          go_quote(go_duration(health.start_period)) + " " +
          go_quote(go_duration(health.start_interval)) + " " + go_quote_rune(health.retries) + "}",
      true);
}

llvm::Error Lowerer::lower_metadata(StageState& st, const Command& command) {
  auto& config = st.image.config;
  if (const auto* c = std::get_if<CmdCmd>(&command)) {
    if (c->prepend_shell) {
      lint("JSONArgsRecommended",
           "JSON arguments recommended for CMD to prevent unintended behavior related to OS "
           "signals",
           c->range);
    }
    config.cmd = command_argv(st, c->args, c->prepend_shell);
    config.args_escaped = true;
    st.cmd_set = true;
    commit_history(st, "CMD " + go_quote_list(config.cmd), true);
  } else if (const auto* e = std::get_if<EntrypointCmd>(&command)) {
    if (e->prepend_shell) {
      lint("JSONArgsRecommended",
           "JSON arguments recommended for ENTRYPOINT to prevent unintended behavior related to "
           "OS signals",
           e->range);
    }
    config.entrypoint = command_argv(st, e->args, e->prepend_shell);
    if (!st.cmd_set) {
      config.cmd.clear();
    }
    commit_history(st, "ENTRYPOINT " + go_quote_list(config.entrypoint), true);
  } else if (const auto* u = std::get_if<UserCmd>(&command)) {
    auto user = expand(st, u->user, u->range);
    if (!user) {
      return user.takeError();
    }
    st.user = *user;
    config.user = *user;
    commit_history(st, "USER " + *user, true);
  } else if (const auto* x = std::get_if<ExposeCmd>(&command)) {
    return lower_expose(st, *x);
  } else {
    return lower_other_metadata(st, command);
  }
  return llvm::Error::success();
}

llvm::Error Lowerer::lower_other_metadata(StageState& st, const Command& command) {
  auto& config = st.image.config;
  if (const auto* l = std::get_if<LabelCmd>(&command)) {
    std::string history = "LABEL";
    for (const KeyValue& kv : l->labels) {
      auto key = expand(st, kv.key, l->range);
      if (!key) {
        return key.takeError();
      }
      auto value = expand(st, kv.value, l->range);
      if (!value) {
        return value.takeError();
      }
      config.labels[*key] = *value;
      history += " " + *key + "=" + *value;
    }
    commit_history(st, std::move(history), true);
  } else if (const auto* v = std::get_if<VolumeCmd>(&command)) {
    std::vector<std::string> volumes;
    for (const std::string& word : v->volumes) {
      auto path = expand(st, word, v->range);
      if (!path) {
        return path.takeError();
      }
      if (path->empty()) {
        return error_at(v->range, "VOLUME specified can not be an empty string");
      }
      if (std::find(config.volumes.begin(), config.volumes.end(), *path) == config.volumes.end()) {
        config.volumes.push_back(*path);
      }
      volumes.push_back(std::move(*path));
    }
    commit_history(st, "VOLUME " + go_list(volumes), true);
  } else if (const auto* s = std::get_if<StopSignalCmd>(&command)) {
    auto signal = expand(st, s->signal, s->range);
    if (!signal) {
      return signal.takeError();
    }
    config.stop_signal = *signal;
    commit_history(st, "STOPSIGNAL " + *signal, true);
  } else if (const auto* h = std::get_if<HealthcheckCmd>(&command)) {
    lower_healthcheck(st, *h);
  } else if (const auto* sh = std::get_if<ShellCmd>(&command)) {
    config.shell = sh->shell;
    commit_history(st, "SHELL " + go_list(sh->shell), true);
  } else if (const auto* o = std::get_if<OnbuildCmd>(&command)) {
    config.on_build.push_back(o->expression);
  } else if (const auto* m = std::get_if<MaintainerCmd>(&command)) {
    st.image.author = m->maintainer;
    commit_history(st, "MAINTAINER " + m->maintainer, true);
  }
  return llvm::Error::success();
}

}  // namespace detail
}  // namespace kiln::frontend
