// RUN: the exec op, its mounts (--mount), network and security modes, and the
// history entry with the build args in scope (`RUN |1 X=1 /bin/sh -c ...`).

#include <algorithm>

#include "frontend/go_text.h"
#include "frontend/lower_state.h"

namespace kiln::frontend {
namespace detail {
namespace {

const char* const kProxyNames[] = {"HTTP_PROXY", "HTTPS_PROXY", "FTP_PROXY", "NO_PROXY",
                                   "ALL_PROXY"};

/// BuildKit's runCommandString: "|N K=V ... " before the argv when ARGs are in scope.
std::string run_command_string(const std::vector<std::string>& args, const StageState& st) {
  std::vector<std::string> keys;
  std::vector<std::string> entries;
  auto lookup = env_lookup_from_list(st.env);
  for (const auto& [name, value] : st.args) {
    std::string v = lookup(name).value_or(value.value_or(""));
    auto it = std::find(keys.begin(), keys.end(), name);
    if (it != keys.end()) {
      entries[it - keys.begin()] = name + "=" + v;
    } else {
      keys.push_back(name);
      entries.push_back(name + "=" + v);
    }
  }
  std::vector<std::string> out;
  if (!entries.empty()) {
    out.push_back("|" + std::to_string(entries.size()));
    out.insert(out.end(), entries.begin(), entries.end());
  }
  out.insert(out.end(), args.begin(), args.end());
  return llvm::join(out, " ");
}

/// Where BuildKit mounts the script of a `RUN <<EOF` whose body starts with `#!`.
const char kPipesDir[] = "/dev/pipes/";

/// The one here-document of a `RUN <<EOF` with nothing else on the line, or null.
const Heredoc* lone_heredoc(const RunCmd& cmd) {
  llvm::StringRef trimmed = llvm::StringRef(llvm::join(cmd.args, " ")).trim();
  if (cmd.heredocs.size() == 1 && trimmed.startswith("<<") &&
      trimmed.find(' ') == llvm::StringRef::npos) {
    return &cmd.heredocs[0];
  }
  return nullptr;
}

/// The shell-form command line with its here-documents: a lone `<<EOF` runs the
/// body as the script (a `#!` body runs as a file under /dev/pipes/, with its
/// interpreter); otherwise the bodies follow the line for the shell to read.
std::string shell_line(const RunCmd& cmd) {
  std::string line = llvm::join(cmd.args, " ");
  if (cmd.heredocs.empty()) {
    return line;
  }
  if (const Heredoc* doc = lone_heredoc(cmd)) {
    std::string body = doc->body();
    return llvm::StringRef(body).startswith("#!") ? kPipesDir + doc->name : body;
  }
  for (const Heredoc& doc : cmd.heredocs) {
    line += "\n" + doc.content + doc.name;
  }
  return line;
}

llb::CacheSharing sharing_of(RunMount::Sharing s) {
  switch (s) {
    case RunMount::Sharing::shared:
      return llb::CacheSharing::shared;
    case RunMount::Sharing::private_:
      return llb::CacheSharing::private_;
    case RunMount::Sharing::locked:
      return llb::CacheSharing::locked;
  }
  return llb::CacheSharing::shared;
}

/// Secret and ssh mounts: ids, default targets and modes like BuildKit's.
void fill_secret_mount(const RunMount& m, llb::Mount& out, int& ssh_count) {
  bool secret = m.type == RunMount::Type::secret;
  out.kind = secret ? llb::MountKind::secret : llb::MountKind::ssh;
  out.selector = "/";
  std::string base = out.target.substr(out.target.rfind('/') + 1);
  out.secret_id = !m.id.empty() ? m.id : secret ? base : "default";
  out.required = m.required;
  out.uid = m.uid.value_or(0);
  out.gid = m.gid.value_or(0);
  out.mode = m.mode.value_or(secret ? 0400 : 0600);
  if (secret && !m.env.empty()) {
    // BuildKit: env= without target= exposes the secret only in the environment.
    out.secret_env = m.env;
    return;
  }
  if (out.target.empty()) {
    out.target = secret ? "/run/secrets/" + out.secret_id
                        : "/run/buildkit/ssh_agent." + std::to_string(ssh_count++);
  }
}

}  // namespace

/// Lowers one --mount (values already expanded) and adds its input to `inputs`.
static llvm::Expected<llb::Mount> lower_mount(Lowerer& l, StageState& st, const RunMount& m,
                                              std::vector<const llb::Vertex*>& inputs,
                                              int& ssh_count, SourceRange range) {
  llb::Mount out;
  out.target = m.target.empty() || m.target[0] == '/' ? m.target : st.workdir + "/" + m.target;
  out.target = out.target.empty() ? "" : clean_path(out.target);
  out.selector = clean_path("/" + m.source);
  auto add_input = [&](const llb::Vertex* v) {
    auto it = std::find(inputs.begin(), inputs.end(), v);
    if (it == inputs.end()) {
      inputs.push_back(v);
      it = inputs.end() - 1;
    }
    out.input = static_cast<uint32_t>(it - inputs.begin());
  };
  const llb::Vertex* from = nullptr;
  if (!m.from.empty()) {
    auto v = l.from_vertex(m.from, range);
    if (!v) {
      return v.takeError();
    }
    from = *v;
  }
  switch (m.type) {
    case RunMount::Type::bind:
      out.kind = llb::MountKind::bind;
      out.readonly = m.read_only;
      add_input(from ? from : l.context());
      if (!from) {
        l.context_reads_.push_back({nullptr, {m.source.empty() ? "." : m.source}});
      }
      break;
    case RunMount::Type::cache:
      out.kind = llb::MountKind::cache;
      out.cache_id = m.id.empty() ? out.target : m.id;
      out.sharing = sharing_of(m.sharing);
      out.readonly = m.read_only;
      out.uid = m.uid.value_or(0);
      out.gid = m.gid.value_or(0);
      out.mode = m.mode.value_or(0755);
      if (from) {
        add_input(from);
      }
      break;
    case RunMount::Type::tmpfs:
      out.kind = llb::MountKind::tmpfs;
      out.tmpfs_size = static_cast<uint64_t>(std::max<int64_t>(0, m.size_limit));
      break;
    case RunMount::Type::secret:
    case RunMount::Type::ssh:
      fill_secret_mount(m, out, ssh_count);
      break;
  }
  return out;
}

/// --network and --security (values expanded) into `x`.
static llvm::Error run_modes(Lowerer& l, StageState& st, const RunCmd& cmd, llb::ExecOp& x) {
  auto network = l.expand(st, cmd.network, cmd.range);
  auto security = network ? l.expand(st, cmd.security, cmd.range) : network.takeError();
  if (!security) {
    return security.takeError();
  }
  if (*network == "none") {
    x.network = llb::NetworkMode::none;
  } else if (*network == "host") {
    x.network = llb::NetworkMode::host;
  } else if (!network->empty() && *network != "default") {
    return l.error_at(cmd.range, "unsupported network mode " + go_quote(*network));
  }
  if (*security == "insecure") {
    x.security = llb::SecurityMode::insecure;
  } else if (!security->empty() && *security != "sandbox") {
    return l.error_at(cmd.range, "unsupported security mode " + go_quote(*security));
  }
  return llvm::Error::success();
}

llvm::Error Lowerer::lower_run(StageState& st, const RunCmd& cmd) {
  size_t reads_before = context_reads_.size();
  llb::ExecOp x;
  x.args = cmd.args;
  if (cmd.prepend_shell) {
    x.args = st.image.config.shell.empty() ? default_shell(st.platform) : st.image.config.shell;
    x.args.push_back(shell_line(cmd));
  }
  x.env = st.env;
  if (gets_default_path(st.platform) && !env_lookup_from_list(st.env)("PATH")) {
    x.env.push_back(kDefaultPathEnv);
  }
  x.cwd = st.workdir;
  x.user = st.user;
  if (st.platform != build_platform_) {
    x.platform = st.platform.str();
  }
  llb::Mount root;
  root.kind = llb::MountKind::rootfs;
  root.input = 0;
  x.mounts.push_back(root);
  std::vector<const llb::Vertex*> inputs = {st.vertex};
  const Heredoc* doc = cmd.prepend_shell ? lone_heredoc(cmd) : nullptr;
  if (doc && llvm::StringRef(doc->body()).startswith("#!")) {
    // BuildKit: the script is a 0755 file on scratch, mounted read-only.
    llb::FileOp mk;
    mk.actions.push_back(llb::MkfileAction{"/" + doc->name, doc->body(), 0755, {}});
    llb::VertexMetadata meta;
    meta.description = "preparing inline document";
    inputs.push_back(
        builder_.add(std::move(mk), {builder_.add(llb::ScratchSource{}, {})}, std::move(meta)));
    llb::Mount script;
    script.kind = llb::MountKind::bind;
    script.target = "/dev/pipes";
    script.input = 1;
    script.readonly = true;
    x.mounts.push_back(script);
  }
  int ssh_count = 0;
  WordExpander expander = [&](llvm::StringRef w) { return expand(st, w, cmd.range); };
  for (const RunMount& written : cmd.mounts) {
    auto m = parse_run_mount(written.spec, expander);
    if (!m) {
      return error_at(cmd.range, error_message(m.takeError()));
    }
    auto mount = lower_mount(*this, st, *m, inputs, ssh_count, cmd.range);
    if (!mount) {
      return mount.takeError();
    }
    x.mounts.push_back(std::move(*mount));
  }
  // As BuildKit's llb exec: SSH_AUTH_SOCK names the first ssh socket unless the
  // stage's environment sets it.
  auto ssh =
      llvm::find_if(x.mounts, [](const llb::Mount& m) { return m.kind == llb::MountKind::ssh; });
  if (ssh != x.mounts.end() &&
      llvm::none_of(x.env, [](llvm::StringRef e) { return e.startswith("SSH_AUTH_SOCK="); })) {
    x.env.push_back("SSH_AUTH_SOCK=" + ssh->target);
  }
  if (auto err = run_modes(*this, st, cmd, x)) {
    return err;
  }
  // BuildKit's ProxyEnv: a build arg named like a proxy variable in either case
  // sets both spellings (HTTP_PROXY and http_proxy) for every RUN.
  for (const char* name : kProxyNames) {
    for (const auto& [key, value] : opts_.build_args) {
      if (llvm::StringRef(key).equals_insensitive(name)) {
        x.proxy_env[name] = value;
        x.proxy_env[llvm::StringRef(name).lower()] = value;
      }
    }
  }
  std::string history = "RUN " + run_command_string(x.args, st);
  st.vertex =
      builder_.add(std::move(x), std::move(inputs), step_meta(st, describe(cmd), cmd.range));
  for (size_t i = reads_before; i < context_reads_.size(); ++i) {
    context_reads_[i].vertex = st.vertex;
  }
  commit_history(st, history + " # buildkit", false);
  return llvm::Error::success();
}

}  // namespace detail
}  // namespace kiln::frontend
