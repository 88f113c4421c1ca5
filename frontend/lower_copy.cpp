// COPY, ADD and WORKDIR: file ops on the stage's file system.

#include <algorithm>

#include "frontend/git_ref.h"
#include "frontend/go_text.h"
#include "frontend/lower_state.h"

namespace kiln::frontend {
namespace detail {
namespace {

bool is_url(llvm::StringRef s) { return s.startswith("http://") || s.startswith("https://"); }

bool is_git(llvm::StringRef s) {
  auto ref = parse_git_ref(s);
  if (!ref) {
    llvm::consumeError(ref.takeError());
    return true;  // git-like, with an error that lowering reports
  }
  return ref->has_value();
}

/// The remote without user:password@, for descriptions.
std::string redact_remote(llvm::StringRef remote) {
  auto [scheme, rest] = remote.split("://");
  size_t at = rest.substr(0, rest.find('/')).rfind('@');
  if (rest.empty() || at == llvm::StringRef::npos || !rest.substr(0, at).contains(':')) {
    return remote.str();
  }
  return scheme.str() + "://xxxxx:xxxxx@" + rest.substr(at + 1).str();
}

bool is_number(llvm::StringRef s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

/// The file name an http source is saved as: the URL path's last element.
std::string url_file_name(llvm::StringRef url) {
  llvm::StringRef rest = url.split("://").second;
  size_t slash = rest.find('/');
  llvm::StringRef path = slash == llvm::StringRef::npos ? "" : rest.substr(slash);
  path = path.split('?').first.split('#').first;
  std::string base = clean_path(path);
  base = base.substr(base.rfind('/') + 1);
  return base.empty() || base == "." ? "__unnamed__" : base;
}

/// The destination inside the stage: relative to WORKDIR, trailing '/' kept.
std::string dest_path(const StageState& st, llvm::StringRef dest) {
  std::string out =
      dest.startswith("/") ? clean_path(dest) : clean_path(st.workdir + "/" + dest.str());
  bool dir = dest.empty() || dest == "." || dest.endswith("/");
  if (dir && out != "/") {
    out += "/";
  }
  return out;
}

}  // namespace

std::string clean_path(llvm::StringRef path) {
  bool rooted = path.startswith("/");
  std::vector<llvm::StringRef> parts;
  llvm::SmallVector<llvm::StringRef, 16> pieces;
  path.split(pieces, '/');
  for (llvm::StringRef p : pieces) {
    if (p.empty() || p == ".") {
      continue;
    }
    if (p == "..") {
      if (!parts.empty() && parts.back() != "..") {
        parts.pop_back();
      } else if (!rooted) {
        parts.push_back(p);
      }
      continue;
    }
    parts.push_back(p);
  }
  std::string out = rooted ? "/" : "";
  for (size_t i = 0; i < parts.size(); ++i) {
    out += (i ? "/" : "") + parts[i].str();
  }
  return out.empty() ? "." : out;
}

llb::Chown parse_chown(llvm::StringRef spec) {
  llb::Chown chown;
  auto [user, group] = spec.split(':');
  if (is_number(user)) {
    chown.uid = std::stoul(user.str());
  } else {
    chown.user = user.str();
  }
  if (is_number(group)) {
    chown.gid = std::stoul(group.str());
  } else {
    chown.group = group.str();
  }
  return chown;
}

std::string describe(const CommandSource& source) {
  auto [keyword, rest] = llvm::StringRef(source.original).split(' ');
  std::string out = keyword.upper();
  return rest.empty() ? out : out + " " + rest.str();
}

/// One COPY/ADD being lowered: its expanded words and the file op it builds.
struct CopyBuilder {
  CopyBuilder(Lowerer& lowerer, StageState& stage, const CopyAddFields& command,
              const AddCmd* add_cmd)
      : l(lowerer), st(stage), cmd(command), add(add_cmd), inputs{stage.vertex} {}

  Lowerer& l;
  StageState& st;
  const CopyAddFields& cmd;
  const AddCmd* add;
  std::vector<std::string> sources;
  std::string dest;
  std::string chown_text;  ///< expanded --chown, for the history
  std::string checksum;    ///< expanded ADD --checksum
  std::string user_agent;  ///< expanded ADD --user-agent
  llb::CopyAction base;
  std::vector<const llb::Vertex*> inputs;
  llb::FileOp op;
  std::vector<std::string> context_paths;

  llvm::Expected<std::string> ex(llvm::StringRef word) { return l.expand(st, word, cmd.range); }

  uint32_t input_index(const llb::Vertex* v) {
    auto it = std::find(inputs.begin(), inputs.end(), v);
    if (it == inputs.end()) {
      inputs.push_back(v);
      return static_cast<uint32_t>(inputs.size() - 1);
    }
    return static_cast<uint32_t>(it - inputs.begin());
  }

  /// BuildKit's check of --chmod: an octal number up to 07777; a value that starts
  /// like a number but is not octal fails the same way; symbolic modes ("u+x") pass.
  llvm::Error check_chmod(llvm::StringRef chmod) {
    if (chmod.empty() || !llvm::isDigit(chmod[0])) {
      return llvm::Error::success();
    }
    unsigned long long mode = 0;
    if (!chmod.getAsInteger(8, mode) && mode <= 07777) {
      return llvm::Error::success();
    }
    return l.error_at(cmd.range, "invalid chmod parameter: '" + chmod.str() +
                                     "'. it should be octal string and between 0 and 07777");
  }

  /// Expands sources, destination, --chown, --chmod and --exclude into `base`.
  llvm::Error expand_fields() {
    for (const auto& s : cmd.sources) {
      auto v = ex(s);
      if (!v) {
        return v.takeError();
      }
      sources.push_back(std::move(*v));
    }
    auto d = ex(cmd.dest);
    auto chown = d ? ex(cmd.chown) : d.takeError();
    auto chmod = chown ? ex(cmd.chmod) : chown.takeError();
    auto sum = chmod ? ex(add ? add->checksum : "") : chmod.takeError();
    if (!sum) {
      return sum.takeError();
    }
    checksum = *sum;
    auto agent = ex(add ? add->user_agent : "");
    if (!agent) {
      return agent.takeError();
    }
    user_agent = *agent;
    if (auto err = check_chmod(*chmod)) {
      return err;
    }
    dest = *d;
    chown_text = *chown;
    base.dest = dest_path(st, dest);
    base.allow_empty_wildcard = true;
    base.chmod = *chmod;
    base.parents = cmd.parents;
    if (!chown->empty()) {
      base.chown = parse_chown(*chown);
    }
    for (const auto& e : cmd.excludes) {
      auto v = ex(e);
      if (!v) {
        return v.takeError();
      }
      base.exclude_patterns.push_back(std::move(*v));
    }
    return llvm::Error::success();
  }

  /// BuildKit's checks of ADD --checksum: one source, and that one a URL or git.
  llvm::Error check_checksum() {
    if (checksum.empty()) {
      return llvm::Error::success();
    }
    if (sources.size() + cmd.heredocs.size() != 1) {
      return l.error_at(cmd.range, "checksum can't be specified for multiple sources");
    }
    if (sources.empty() || (!is_url(sources[0]) && !is_git(sources[0]))) {
      return l.error_at(cmd.range, "checksum requires HTTP(S) or Git sources");
    }
    return llvm::Error::success();
  }

  /// ADD --user-agent: only for URL sources, and a header value (no control
  /// characters: a CR or LF would inject header lines into the request).
  llvm::Error check_user_agent() {
    if (user_agent.empty()) {
      return llvm::Error::success();
    }
    if (!cmd.heredocs.empty() || std::any_of(sources.begin(), sources.end(),
                                             [](const std::string& s) { return !is_url(s); })) {
      return l.error_at(cmd.range, "user-agent can't be specified for non-HTTP sources");
    }
    for (unsigned char c : user_agent) {
      if (c < 0x20 || c == 0x7f) {
        return l.error_at(cmd.range, "invalid user-agent " + go_quote(user_agent) +
                                         ": control characters are not allowed");
      }
    }
    return llvm::Error::success();
  }

  /// ADD of a URL: an http source, copied in under its file name.
  llvm::Error add_url(const std::string& url) {
    llb::HttpSource http;
    http.url = url;
    http.filename = url_file_name(url);
    http.user_agent = user_agent;
    if (!checksum.empty()) {
      auto digest = Digest::parse(checksum);
      if (!digest) {
        return l.error_at(cmd.range, error_message(digest.takeError()));
      }
      http.checksum = *digest;
    }
    llb::CopyAction action = base;
    action.src_paths = {"/" + http.filename};
    action.unpack_archives = add->unpack.value_or(false);
    llb::VertexMetadata meta;
    meta.description = "[internal] download " + url;
    action.src_input = input_index(l.builder_.add(std::move(http), {}, std::move(meta)));
    op.actions.push_back(std::move(action));
    return llvm::Error::success();
  }

  /// ADD of a git repository: a git source, its tree copied into the destination.
  llvm::Error add_git(const std::string& source) {
    auto parsed = parse_git_ref(source);
    if (!parsed) {
      return l.error_at(cmd.range, error_message(parsed.takeError()));
    }
    const GitRef& ref = **parsed;
    llb::GitSource git;
    git.remote = ref.remote;
    git.ref = ref.ref;
    git.subdir = ref.subdir;
    git.checksum = ref.checksum;
    if (!checksum.empty()) {
      if (!git.checksum.empty() && git.checksum != checksum) {
        return l.error_at(cmd.range,
                          "checksum conflicts: \"" + git.checksum + "\" vs \"" + checksum + "\"");
      }
      git.checksum = checksum;
    }
    if (!git.checksum.empty() && !is_hex(git.checksum)) {
      return l.error_at(
          cmd.range, "invalid checksum " + git.checksum + " for Git URL, expected hex commit hash");
    }
    git.keep_git_dir = add->keep_git_dir || ref.keep_git_dir.value_or(false);
    llb::CopyAction action = base;
    action.src_paths = {"/"};
    llb::VertexMetadata meta;
    meta.description = "[internal] load git source " + redact_remote(git.remote) +
                       (git.ref.empty() ? "" : "#" + git.ref) +
                       (git.subdir.empty() ? "" : ":" + git.subdir);
    action.src_input = input_index(l.builder_.add(std::move(git), {}, std::move(meta)));
    op.actions.push_back(std::move(action));
    return llvm::Error::success();
  }

  /// `path` cleaned and absolute; with --parents a "/./" pivot stays, so that the
  /// copy keeps only the path below it (BuildKit: `COPY --parents a/./b/c /x/`).
  std::string source_path(const std::string& path) const {
    size_t mark = cmd.parents ? path.find("/./") : std::string::npos;
    if (mark == std::string::npos) {
      return clean_path("/" + path);
    }
    std::string head = clean_path("/" + path.substr(0, mark));
    std::string rest = clean_path("/" + path.substr(mark + 3));
    return (head == "/" ? "" : head) + "/." + (rest == "/" ? "" : rest);
  }

  /// A source path of the context or of the --from file system.
  void add_path(const std::string& path, const llb::Vertex* from) {
    llb::CopyAction action = base;
    action.src_paths = {source_path(path)};
    action.unpack_archives = add && add->unpack.value_or(true);
    action.src_input = input_index(from ? from : l.context());
    if (!from) {
      context_paths.push_back(path);
    }
    op.actions.push_back(std::move(action));
  }

  /// An inline file (COPY <<EOF): made on scratch, then copied.
  /// Fails when its expansion passes the Dockerfile's total.
  llvm::Error add_heredoc(const Heredoc& doc) {
    std::string data = doc.body();
    if (doc.expand) {
      // BuildKit's ExpandRaw: variables expand, quotes stay as written.
      ShellLex raw('\\');
      raw.skip_process_quotes = true;
      auto v = raw.process_word(data, env_lookup_from_list(st.env));
      if (v) {
        data = std::move(*v);
      } else {
        llvm::consumeError(v.takeError());  // BuildKit keeps the text as written.
      }
      if (auto err = l.count_expanded(data.size(), cmd.range)) {
        return err;
      }
    }
    llb::FileOp mk;
    mk.actions.push_back(llb::MkfileAction{"/" + doc.name, std::move(data), 0644, {}});
    const llb::Vertex* scratch = l.builder_.add(llb::ScratchSource{}, {});
    llb::CopyAction action = base;
    action.src_paths = {"/" + doc.name};
    action.src_input = input_index(l.builder_.add(std::move(mk), {scratch}));
    op.actions.push_back(std::move(action));
    return llvm::Error::success();
  }

  std::string history() const {
    // Current BuildKit names --parents, --chown and --chmod (expanded) in the history.
    std::string out = add ? "ADD" : "COPY";
    if (cmd.parents) {
      out += " --parents";
    }
    if (!chown_text.empty()) {
      out += " --chown=" + chown_text;
    }
    if (!base.chmod.empty()) {
      out += " --chmod=" + base.chmod;
    }
    for (const auto& s : sources) {
      out += " " + s;
    }
    for (const Heredoc& doc : cmd.heredocs) {
      out += " <<" + doc.name;
    }
    return out + " " + dest + " # buildkit";
  }
};

llvm::Error Lowerer::lower_copy(StageState& st, const CopyAddFields& cmd, const AddCmd* add) {
  CopyBuilder b(*this, st, cmd, add);
  if (auto err = b.expand_fields()) {
    return err;
  }
  if (auto err = b.check_checksum()) {
    return err;
  }
  if (auto err = b.check_user_agent()) {
    return err;
  }
  const llb::Vertex* from = nullptr;
  if (!cmd.from.empty()) {
    auto v = from_vertex(cmd.from, cmd.range);
    if (!v) {
      return v.takeError();
    }
    from = *v;
  }
  for (const std::string& s : b.sources) {
    if (add && is_git(s)) {
      if (auto err = b.add_git(s)) {
        return err;
      }
    } else if (add && is_url(s)) {
      if (auto err = b.add_url(s)) {
        return err;
      }
    } else {
      b.add_path(s, from);
    }
  }
  for (const Heredoc& doc : cmd.heredocs) {
    if (auto err = b.add_heredoc(doc)) {
      return err;
    }
  }
  st.vertex =
      builder_.add(std::move(b.op), std::move(b.inputs), step_meta(st, describe(cmd), cmd.range));
  if (!b.context_paths.empty()) {
    context_reads_.push_back({st.vertex, std::move(b.context_paths)});
  }
  commit_history(st, b.history(), false);
  return llvm::Error::success();
}

llvm::Error Lowerer::lower_workdir(StageState& st, const WorkdirCmd& cmd) {
  auto path = expand(st, cmd.path, cmd.range);
  if (!path) {
    return path.takeError();
  }
  bool absolute = llvm::StringRef(*path).startswith("/");
  if (!absolute && !st.workdir_set) {
    lint("WorkdirRelativePath",
         "Relative workdir " + go_quote(*path) +
             " can have unexpected results if the base image "
             "changes",
         cmd.range);
  }
  st.workdir_set = st.workdir_set || absolute;
  // BuildKit's NormalizePath keeps an absolute workdir as written ("/a/./b/../c");
  // only a relative one is joined to the current workdir and cleaned.
  std::string wd = absolute ? *path : clean_path(st.workdir + "/" + *path);
  st.workdir = wd;
  st.image.config.working_dir = wd;
  if (wd != "/") {
    llb::MkdirAction mkdir{wd, 0755, true, {}};
    if (!st.user.empty()) {
      mkdir.chown = parse_chown(st.user);
    }
    llb::FileOp op;
    op.actions.push_back(std::move(mkdir));
    st.vertex = builder_.add(std::move(op), {st.vertex}, step_meta(st, describe(cmd), cmd.range));
  } else {
    ++st.cmd_index;
  }
  commit_history(st, "WORKDIR " + wd, wd == "/");
  return llvm::Error::success();
}

}  // namespace detail
}  // namespace kiln::frontend
