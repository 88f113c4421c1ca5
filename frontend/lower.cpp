// The lowering's driver: global ARGs, stages, their dependencies and the
// target, base images, ONBUILD triggers, then each command in order.

#include "frontend/lower.h"

#include <algorithm>

#include "frontend/go_text.h"
#include "frontend/lint.h"
#include "frontend/lower_state.h"
#include "oci/reference.h"

namespace kiln::frontend {
namespace detail {
namespace {

constexpr const char* kHistoryComment = "buildkit.dockerfile.v0";

std::string lower_ascii(llvm::StringRef s) { return s.lower(); }

bool is_number(llvm::StringRef s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

}  // namespace

void set_env(std::vector<std::string>& env, llvm::StringRef key, llvm::StringRef value) {
  std::string entry = (key + "=" + value).str();
  for (auto& e : env) {
    llvm::StringRef k = llvm::StringRef(e).split('=').first;
    if (k == key) {
      e = std::move(entry);
      return;
    }
  }
  env.push_back(std::move(entry));
}

Lowerer::Lowerer(const Dockerfile& dockerfile, const LowerOptions& options,
                 llb::DefinitionBuilder& builder, oci::Platform build, oci::Platform target)
    : df_(dockerfile),
      opts_(options),
      lex_(dockerfile.ast.escape_token),
      builder_(builder),
      build_platform_(std::move(build)),
      target_platform_(std::move(target)) {}

llvm::Error Lowerer::error_at(SourceRange range, const llvm::Twine& message) const {
  return make_source_error(df_.ast, message, range);
}

void Lowerer::lint(llvm::StringRef rule, std::string detail, SourceRange range) {
  if (!opts_.lint) {
    return;
  }
  const LintRule* r = find_lint_rule(rule);
  assert(r && "unknown lint rule");
  opts_.lint->push_back({r->name, r->description, r->url, std::move(detail), range});
}

llvm::Error Lowerer::count_expanded(size_t bytes, SourceRange range) {
  expanded_bytes_ += bytes;
  if (expanded_bytes_ > kMaxExpandedTotal) {
    return error_at(range, "expanded values of the Dockerfile are larger than " +
                               std::to_string(kMaxExpandedTotal) + " bytes in total");
  }
  return llvm::Error::success();
}

llvm::Expected<std::string> Lowerer::expand(StageState& st, llvm::StringRef word,
                                            SourceRange range) {
  auto res = lex_.process_word_with_matches(word, env_lookup_from_list(st.env));
  if (!res) {
    return error_at(range, error_message(res.takeError()));
  }
  if (auto err = count_expanded(res->result.size(), range)) {
    return std::move(err);
  }
  for (const auto& name : res->unmatched) {
    bool declared =
        std::any_of(st.args.begin(), st.args.end(), [&](const auto& a) { return a.first == name; });
    if (!declared) {
      std::vector<std::string> keys;
      for (const auto& e : st.env) {
        keys.push_back(llvm::StringRef(e).split('=').first.str());
      }
      std::string near = suggest_name(name, keys);
      std::string detail = "Usage of undefined variable '$" + name + "'";
      lint("UndefinedVar", near.empty() ? detail : detail + " (did you mean $" + near + "?)",
           range);
    }
  }
  return std::move(res->result);
}

llvm::Expected<std::vector<std::string>> Lowerer::expand_words(StageState& st, llvm::StringRef word,
                                                               SourceRange range) {
  auto words = lex_.process_words(word, env_lookup_from_list(st.env));
  if (!words) {
    return error_at(range, error_message(words.takeError()));
  }
  size_t size = 0;
  for (const auto& w : *words) {
    size += w.size();
  }
  if (auto err = count_expanded(size, range)) {
    return std::move(err);
  }
  return words;
}

const llb::Vertex* Lowerer::context() {
  if (!context_) {
    llb::LocalSource local;
    local.name = opts_.context_name;
    local.exclude_patterns = opts_.context_excludes;
    llb::VertexMetadata meta;
    meta.description = "[internal] load build context";
    context_ = builder_.add(std::move(local), {}, std::move(meta));
  }
  return context_;
}

llvm::Expected<StageState*> Lowerer::find_from(llvm::StringRef from, SourceRange range) {
  auto name = lex_.process_word(from, env_lookup_from_list(global_args_));
  if (!name) {
    return error_at(range, error_message(name.takeError()));
  }
  if (auto err = count_expanded(name->size(), range)) {
    return std::move(err);
  }
  if (is_number(*name)) {
    size_t index = std::stoul(name->substr(0, 9));
    int count = 0;
    for (auto& s : stages_) {
      if (s->stage && count++ == static_cast<int>(index)) {
        return s.get();
      }
    }
    return error_at(range, "invalid stage index " + *name);
  }
  std::string lowered = lower_ascii(*name);
  for (auto& s : stages_) {
    if ((s->stage && s->name == lowered) || (!s->stage && s->base == *name)) {
      return s.get();
    }
  }
  auto implicit = std::make_unique<StageState>();
  implicit->index = static_cast<int>(stages_.size());
  implicit->base = *name;
  implicit->ref_range = range;
  implicit->platform = target_platform_;
  stages_.push_back(std::move(implicit));
  return stages_.back().get();
}

llvm::Expected<const llb::Vertex*> Lowerer::from_vertex(llvm::StringRef from, SourceRange range) {
  auto st = find_from(from, range);
  if (!st) {
    return st.takeError();
  }
  if (!(*st)->lowered) {
    // Only an ONBUILD trigger of the base image names a stage that was not
    // collected as a dependency ("ONBUILD COPY --from=src"): lower it now.
    if ((*st)->lowering) {
      return error_at(range, "circular dependency detected on stage: " + from.str());
    }
    (*st)->reachable = true;
    if (auto err = lower_stage(**st)) {
      return std::move(err);
    }
  }
  return (*st)->vertex;
}

std::string Lowerer::step_prefix(StageState& st) {
  ++st.cmd_index;
  std::string out = "[";
  if (show_platform_) {
    out += st.platform.str() + " ";
  }
  if (!st.display_name.empty()) {
    out += st.display_name + " ";
  }
  return out + std::to_string(st.cmd_index) + "/" + std::to_string(st.cmd_total) + "] ";
}

llb::VertexMetadata Lowerer::step_meta(StageState& st, std::string text, SourceRange range) {
  llb::VertexMetadata meta;
  // Progress lines and errors show the description: only the start of a huge
  // instruction (a 10 MB RUN line), which the step's digest does not see.
  constexpr size_t kMaxDescription = 1024;
  if (text.size() > kMaxDescription) {
    text.resize(kMaxDescription);
    text += "...";
  }
  meta.description = step_prefix(st) + text;
  meta.ranges = {range};
  meta.progress_group = st.display_name.empty() ? "stage-0" : st.display_name;
  return meta;
}

void Lowerer::commit_history(StageState& st, std::string created_by, bool empty_layer) {
  oci::HistoryEntry entry;
  entry.created_by = std::move(created_by);
  entry.comment = kHistoryComment;
  entry.empty_layer = empty_layer;
  st.image.history.push_back(std::move(entry));
}

llvm::Error Lowerer::dispatch(StageState& st, const Command& command) {
  if (const auto* run = std::get_if<RunCmd>(&command)) {
    return lower_run(st, *run);
  }
  if (const auto* copy = std::get_if<CopyCmd>(&command)) {
    return lower_copy(st, *copy, nullptr);
  }
  if (const auto* add = std::get_if<AddCmd>(&command)) {
    return lower_copy(st, *add, add);
  }
  if (const auto* workdir = std::get_if<WorkdirCmd>(&command)) {
    return lower_workdir(st, *workdir);
  }
  if (const auto* env = std::get_if<EnvCmd>(&command)) {
    return lower_env(st, *env);
  }
  if (const auto* arg = std::get_if<ArgCmd>(&command)) {
    return lower_arg(st, *arg);
  }
  return lower_metadata(st, command);
}

}  // namespace detail
}  // namespace kiln::frontend
