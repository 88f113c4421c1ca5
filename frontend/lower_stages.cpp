// Stages: global ARGs, base names, the target, dependencies between stages,
// base images and ONBUILD triggers, and the result.

#include <algorithm>
#include <set>

#include <llvm/ADT/STLExtras.h>

#include "frontend/go_text.h"
#include "frontend/line_parsers.h"
#include "frontend/lint.h"
#include "frontend/lower_state.h"
#include "oci/reference.h"
#include "oci/types.h"

namespace kiln::frontend {
namespace detail {
namespace {

/// Build args that need no ARG and never enter the cache key (BuildKit's list).
const char* const kProxyArgs[] = {"HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy",
                                  "FTP_PROXY",  "ftp_proxy",  "NO_PROXY",    "no_proxy",
                                  "ALL_PROXY",  "all_proxy"};

oci::ImageConfig empty_image(const oci::Platform& platform) {
  oci::ImageConfig img;
  img.architecture = platform.architecture;
  img.os = platform.os;
  img.variant = platform.variant;
  if (gets_default_path(platform)) {
    img.config.env = {kDefaultPathEnv};
  }
  img.config.working_dir = "/";  // BuildKit's emptyImage
  return img;
}

/// The `--from` values a command reads from (COPY --from, RUN --mount from=).
std::vector<std::string> from_refs(const Command& command) {
  std::vector<std::string> out;
  if (const auto* c = std::get_if<CopyCmd>(&command)) {
    if (!c->from.empty()) {
      out.push_back(c->from);
    }
  } else if (const auto* r = std::get_if<RunCmd>(&command)) {
    for (const auto& m : r->mounts) {
      if (!m.from.empty()) {
        out.push_back(m.from);
      }
    }
  }
  return out;
}

bool counts_as_step(const Command& command) {
  return std::holds_alternative<RunCmd>(command) || std::holds_alternative<CopyCmd>(command) ||
         std::holds_alternative<AddCmd>(command) || std::holds_alternative<WorkdirCmd>(command);
}

/// How many build steps the image's ONBUILD triggers add (for "[name 2/5]").
int trigger_steps(const oci::ImageConfig& image) {
  int n = 0;
  for (const std::string& trigger : image.config.on_build) {
    std::string keyword = llvm::StringRef(trigger).ltrim().split(' ').first.upper();
    n += keyword == "RUN" || keyword == "COPY" || keyword == "ADD" || keyword == "WORKDIR";
  }
  return n;
}

}  // namespace

llvm::Error Lowerer::setup_global_args(llvm::StringRef target_name) {
  const oci::Platform& b = build_platform_;
  const oci::Platform& t = target_platform_;
  global_args_ = {"BUILDPLATFORM=" + b.str(),        "BUILDOS=" + b.os,
                  "BUILDARCH=" + b.architecture,     "BUILDVARIANT=" + b.variant,
                  "TARGETPLATFORM=" + t.str(),       "TARGETOS=" + t.os,
                  "TARGETARCH=" + t.architecture,    "TARGETVARIANT=" + t.variant,
                  "TARGETSTAGE=" + target_name.str()};
  for (const ArgCmd& cmd : df_.meta_args) {
    for (const ArgDef& arg : cmd.args) {
      declared_globals_.insert(arg.name);
      auto given = opts_.build_args.find(arg.name);
      if (given != opts_.build_args.end()) {
        used_build_args_.insert(arg.name);
        set_env(global_args_, arg.name, given->second);
      } else if (arg.default_value) {
        auto value = lex_.process_word(*arg.default_value, env_lookup_from_list(global_args_));
        if (!value) {
          return error_at(cmd.range, error_message(value.takeError()));
        }
        if (auto err = count_expanded(value->size(), cmd.range)) {
          return err;
        }
        set_env(global_args_, arg.name, *value);
      }
    }
  }
  return llvm::Error::success();
}

llvm::Error Lowerer::setup_stages() {
  std::vector<std::string> arg_names(declared_globals_.begin(), declared_globals_.end());
  for (const auto& e : global_args_) {
    arg_names.push_back(llvm::StringRef(e).split('=').first.str());
  }
  for (size_t i = 0; i < df_.stages.size(); ++i) {
    const Stage& stage = df_.stages[i];
    auto st = std::make_unique<StageState>();
    st->index = static_cast<int>(i);
    st->stage = &stage;
    st->name = stage.from.name;
    auto base = lex_.process_word_with_matches(stage.from.base, env_lookup_from_list(global_args_));
    if (!base) {
      return error_at(stage.from.range, error_message(base.takeError()));
    }
    if (auto err = count_expanded(base->result.size(), stage.from.range)) {
      return err;
    }
    for (const auto& name : base->unmatched) {
      if (!declared_globals_.count(name)) {
        std::string detail = "FROM argument '" + name + "' is not declared";
        std::string near = suggest_name(name, arg_names);
        lint("UndefinedArgInFrom", near.empty() ? detail : detail + " (did you mean " + near + "?)",
             stage.from.range);
      }
    }
    if (base->result.empty()) {
      return error_at(stage.from.range, "base name (" + stage.from.base + ") should not be blank");
    }
    st->base = base->result;
    st->platform = target_platform_;
    if (!stage.from.platform.empty()) {
      if (auto err = parse_stage_platform(*st)) {
        return err;
      }
    }
    st->replaced = !st->name.empty() && opts_.build_contexts.count(st->name);
    if (st->replaced) {
      st->base = st->name;
    }
    for (auto& prev : stages_) {
      if (!st->replaced && !prev->name.empty() && prev->name == llvm::StringRef(st->base).lower()) {
        st->base_stage = prev.get();
      }
    }
    if (df_.stages.size() > 1) {
      st->display_name = st->name.empty() ? "stage-" + std::to_string(i) : st->name;
    }
    st->cmd_total = (st->base_stage || st->base == "scratch") ? 0 : 1;
    st->cmd_total +=
        st->replaced ? 0
                     : std::count_if(stage.commands.begin(), stage.commands.end(), counts_as_step);
    stages_.push_back(std::move(st));
  }
  return llvm::Error::success();
}

// BuildKit expands `FROM --platform=` with the global ARGs (the platform ARGs
// among them) and normalizes it.
llvm::Error Lowerer::parse_stage_platform(StageState& st) {
  const FromCmd& from = st.stage->from;
  auto text = lex_.process_word(from.platform, env_lookup_from_list(global_args_));
  if (!text) {
    return error_at(from.range, error_message(text.takeError()));
  }
  auto platform = oci::parse_normalized_platform(*text);
  if (!platform) {
    return error_at(from.range, "failed to parse platform " + *text + ": " +
                                    error_message(platform.takeError()));
  }
  st.platform = std::move(*platform);
  st.explicit_platform = true;
  return llvm::Error::success();
}

llvm::Expected<StageState*> Lowerer::find_target() {
  if (opts_.target.empty()) {
    return stages_[df_.stages.size() - 1].get();
  }
  std::string wanted = llvm::StringRef(opts_.target).lower();
  for (size_t i = 0; i < df_.stages.size(); ++i) {
    if (stages_[i]->name == wanted) {
      return stages_[i].get();
    }
  }
  std::vector<std::string> names;
  for (const auto& st : stages_) {
    if (!st->name.empty()) {
      names.push_back(st->name);
    }
  }
  return make_error(with_suggestion(
      "target stage " + go_quote(opts_.target) + " could not be found", opts_.target, names, true));
}

llvm::Error Lowerer::collect_deps() {
  for (size_t i = 0; i < df_.stages.size(); ++i) {
    StageState* st = stages_[i].get();
    if (st->base_stage) {
      st->deps.push_back(st->base_stage);
    }
    for (const Command& command : st->stage->commands) {
      if (st->replaced) {
        break;
      }
      for (const std::string& ref : from_refs(command)) {
        auto dep = find_from(ref, command_source(command).range);
        if (!dep) {
          return dep.takeError();
        }
        if (!llvm::is_contained(st->deps, *dep)) {
          st->deps.push_back(*dep);
        }
      }
    }
  }
  return llvm::Error::success();
}

// BuildKit dispatches stages in order, so a COPY --from or RUN --mount from= of the
// stage itself or of a later one fails.
llvm::Error Lowerer::check_defined_before(const StageState& st, const StageState& dep,
                                          const Command& command, const std::string& ref) {
  if (!dep.stage || dep.index < st.index) {
    return llvm::Error::success();
  }
  SourceRange range = command_source(command).range;
  if (const auto* run = std::get_if<RunCmd>(&command)) {
    for (const auto& m : run->mounts) {
      if (m.from == ref) {
        return error_at(range, "cannot mount from stage " + go_quote(ref) + " to " +
                                   go_quote(m.target) +
                                   ", stage needs to be defined before current command");
      }
    }
  }
  return error_at(range, "cannot copy from stage " + go_quote(ref) +
                             ", it needs to be defined before current stage " + go_quote(st.name));
}

void Lowerer::mark_reachable(StageState& st) {
  if (st.reachable) {
    return;
  }
  st.reachable = true;
  for (StageState* dep : st.deps) {
    mark_reachable(*dep);
  }
}

llvm::Error Lowerer::lower_stage(StageState& st) {
  if (st.lowered) {
    return llvm::Error::success();
  }
  st.lowering = true;
  for (StageState* dep : st.deps) {
    if (dep->lowering) {
      return error_at(st.stage->from.range,
                      "circular dependency detected on stage: " +
                          (dep->name.empty() ? "stage-" + std::to_string(dep->index) : dep->name));
    }
    if (auto err = lower_stage(*dep)) {
      return err;
    }
  }
  // After the dependencies, so that a cycle is reported as BuildKit does, first.
  for (size_t i = 0; st.stage && !st.replaced && i < st.stage->commands.size(); ++i) {
    const Command& command = st.stage->commands[i];
    for (const std::string& ref : from_refs(command)) {
      auto dep = find_from(ref, command_source(command).range);
      if (!dep) {
        return dep.takeError();
      }
      if (auto err = check_defined_before(st, **dep, command, ref)) {
        return err;
      }
    }
  }
  if (auto err = init_base(st)) {
    return err;
  }
  if (st.stage && !st.replaced) {
    if (auto err = run_onbuild(st)) {
      return err;
    }
    for (const Command& command : st.stage->commands) {
      if (auto err = dispatch(st, command)) {
        return err;
      }
    }
  }
  st.lowering = false;
  st.lowered = true;
  return llvm::Error::success();
}

llvm::Error Lowerer::init_base(StageState& st) {
  SourceRange range = st.stage ? st.stage->from.range : st.ref_range;
  if (st.base_stage) {
    const StageState& b = *st.base_stage;
    if (!st.explicit_platform) {
      st.platform = b.platform;
    }
    st.vertex = b.vertex;
    st.image = b.image;
    st.env = b.env;
    st.workdir = b.workdir;
    st.workdir_set = b.workdir_set;
    st.user = b.user;
    st.args = b.args;  // BuildKit's buildArgs carry over to stages built FROM a stage.
    st.cmd_total += st.stage ? trigger_steps(st.image) : 0;
    return llvm::Error::success();
  }
  if (st.base == "scratch") {
    st.image = empty_image(st.platform);
    st.vertex = builder_.add(llb::ScratchSource{}, {});
    apply_base_config(st);
    return llvm::Error::success();
  }
  std::string base = st.base;
  auto named = opts_.build_contexts.find(st.base);
  if (named != opts_.build_contexts.end()) {
    llvm::StringRef value = named->second;
    if (!value.consume_front("docker-image://")) {
      return init_local_context(st);
    }
    base = value.str();
    if (base == "scratch") {
      st.image = empty_image(st.platform);
      st.vertex = builder_.add(llb::ScratchSource{}, {});
      apply_base_config(st);
      return llvm::Error::success();
    }
  }
  return init_image(st, base, range);
}

llvm::Error Lowerer::init_local_context(StageState& st) {
  llb::LocalSource local;
  local.name = st.base;
  llb::VertexMetadata meta;
  if (st.stage) {
    meta = step_meta(st, "FROM " + st.base, st.stage->from.range);
  } else {
    meta.description = "[internal] load build context " + st.base;
  }
  st.image = empty_image(st.platform);
  st.vertex = builder_.add(std::move(local), {}, std::move(meta));
  apply_base_config(st);
  return llvm::Error::success();
}

llvm::Error Lowerer::init_image(StageState& st, const std::string& base, SourceRange range) {
  auto ref = oci::parse_normalized_named(base);
  if (!ref) {
    return error_at(range, "failed to parse stage name " + go_quote(base) + ": " +
                               error_message(ref.takeError()));
  }
  llb::ImageSource source;
  source.ref = oci::tag_name_only(*ref).str();
  source.platform = st.platform.str();
  std::string shown = source.ref;
  st.image = empty_image(st.platform);
  if (opts_.resolver) {
    auto meta = opts_.resolver->resolve(source.ref, source.platform);
    if (!meta) {
      return error_at(range, base + ": " + error_message(meta.takeError()));
    }
    auto config = oci::parse_image_config(meta->config_json);
    if (!config) {
      return error_at(range, base + ": " + error_message(config.takeError()));
    }
    st.image = std::move(*config);
    st.image.created.clear();
    source.config_digest = Digest::of(meta->config_json);
    if (ref->digest.empty()) {
      source.ref += "@" + meta->manifest_digest.str();
    }
  }
  llb::VertexMetadata meta;
  if (st.stage) {
    st.cmd_total += trigger_steps(st.image);
    meta = step_meta(st, "FROM " + shown, range);
  } else {
    meta.description = "[internal] FROM " + shown;
  }
  st.vertex = builder_.add(std::move(source), {}, std::move(meta));
  apply_base_config(st);
  return llvm::Error::success();
}

llvm::Error Lowerer::run_onbuild(StageState& st) {
  std::vector<std::string> triggers = std::move(st.image.config.on_build);
  st.image.config.on_build.clear();
  std::vector<Command> commands;
  for (const std::string& trigger : triggers) {
    auto ast = parse_ast(trigger, "ONBUILD");
    if (!ast) {
      return ast.takeError();
    }
    if (ast->nodes.size() != 1) {
      return error_at(st.stage->from.range, "onbuild trigger should be a single expression");
    }
    auto command = parse_command(*ast, ast->nodes[0]);
    if (!command) {
      return command.takeError();
    }
    // The trigger's own "file" is one line; point progress and errors at the FROM.
    std::visit([&](auto& c) { c.range = st.stage->from.range; }, *command);
    commands.push_back(std::move(*command));
  }
  for (const Command& command : commands) {
    if (auto err = dispatch(st, command)) {
      return err;
    }
  }
  return llvm::Error::success();
}

LowerResult Lowerer::take_result(StageState& target, std::vector<llb::Definition::Root>& roots) {
  LowerResult result;
  for (size_t i = 0; i < df_.stages.size(); ++i) {
    StageState& st = *stages_[i];
    if (!st.lowered) {
      continue;
    }
    if (&st == &target) {
      result.target = result.stages.size();
    }
    roots.push_back({st.name.empty() ? "stage-" + std::to_string(i) : st.name, st.vertex});
    result.stages.push_back({st.name, st.index, st.vertex, std::move(st.image)});
  }
  result.context_reads = std::move(context_reads_);
  for (const auto& [name, value] : opts_.build_args) {
    bool proxy = std::any_of(std::begin(kProxyArgs), std::end(kProxyArgs),
                             [&](const char* p) { return name == p; });
    if (!proxy && !used_build_args_.count(name)) {
      result.unused_build_args.push_back(name);
    }
  }
  return result;
}

llvm::Expected<LowerResult> Lowerer::run(std::vector<llb::Definition::Root>& roots) {
  if (df_.stages.empty()) {
    return make_error("dockerfile contains no stages to build");
  }
  // BuildKit's TARGETSTAGE: the --target, else the last stage's name, else "default".
  std::string target_name = !opts_.target.empty()                  ? opts_.target
                            : !df_.stages.back().from.name.empty() ? df_.stages.back().from.name
                                                                   : "default";
  if (auto err = setup_global_args(target_name)) {
    return err;
  }
  if (auto err = setup_stages()) {
    return err;
  }
  auto target = find_target();
  if (!target) {
    return target.takeError();
  }
  if (auto err = collect_deps()) {
    return err;
  }
  mark_reachable(**target);
  for (size_t i = 0; i < df_.stages.size(); ++i) {
    if (stages_[i]->reachable || opts_.all_stages) {
      if (auto err = lower_stage(*stages_[i])) {
        return err;
      }
    }
  }
  return take_result(**target, roots);
}

}  // namespace detail

namespace {

llvm::Expected<oci::Platform> option_platform(const std::string& text, const char* what) {
  auto p = oci::parse_normalized_platform(text);
  if (!p) {
    return with_context(p.takeError(), what);
  }
  return p;
}

// The build platform and the target platform (the build's when none is given).
llvm::Expected<std::pair<oci::Platform, oci::Platform>> option_platforms(
    const LowerOptions& options) {
  auto build = option_platform(options.build_platform, "build platform");
  if (!build) {
    return build.takeError();
  }
  auto target = options.target_platform.empty()
                    ? llvm::Expected<oci::Platform>(*build)
                    : option_platform(options.target_platform, "target platform");
  if (!target) {
    return target.takeError();
  }
  return std::make_pair(*build, *target);
}

// One lowering's roots (renamed `prefix` + "/" + name) and results added to `out`.
void add_lowered(LowerResult& lowered, const std::string& prefix, const oci::Platform& target,
                 std::vector<llb::Definition::Root>& these,
                 std::vector<llb::Definition::Root>& roots, MultiLowerResult& out) {
  for (auto& root : these) {
    roots.push_back({prefix + "/" + root.name, root.vertex});
  }
  out.platforms.push_back({target.str(), std::move(lowered.stages), lowered.target});
  for (auto& read : lowered.context_reads) {
    out.context_reads.push_back(std::move(read));
  }
}

}  // namespace

llvm::Expected<LowerResult> lower(const Dockerfile& dockerfile, const LowerOptions& options) {
  auto platforms = option_platforms(options);
  if (!platforms) {
    return platforms.takeError();
  }
  llb::DefinitionBuilder builder;
  detail::Lowerer lowerer(dockerfile, options, builder, platforms->first, platforms->second);
  std::vector<llb::Definition::Root> roots;
  auto result = lowerer.run(roots);
  if (result) {
    result->definition = builder.finish(std::move(roots));
  }
  return result;
}

llvm::Expected<MultiLowerResult> lower_platforms(const Dockerfile& dockerfile,
                                                 const LowerOptions& options,
                                                 const std::vector<std::string>& platforms) {
  auto build = option_platform(options.build_platform, "build platform");
  if (!build) {
    return build.takeError();
  }
  llb::DefinitionBuilder builder;
  std::vector<llb::Definition::Root> roots;
  MultiLowerResult out;
  std::set<std::string> unused;
  for (size_t i = 0; i < platforms.size(); ++i) {
    auto target = oci::parse_normalized_platform(platforms[i]);
    if (!target) {
      return target.takeError();
    }
    detail::Lowerer lowerer(dockerfile, options, builder, *build, *target);
    lowerer.show_platform_ = true;
    std::vector<llb::Definition::Root> these;
    auto lowered = lowerer.run(these);
    if (!lowered) {
      return lowered.takeError();
    }
    add_lowered(*lowered, target->str(), *target, these, roots, out);
    // A build arg is unused only when no platform's lowering used it.
    std::set<std::string> these_unused(lowered->unused_build_args.begin(),
                                       lowered->unused_build_args.end());
    if (i == 0) {
      unused = std::move(these_unused);
    } else {
      std::set<std::string> both;
      for (const auto& name : unused) {
        if (these_unused.count(name)) {
          both.insert(name);
        }
      }
      unused = std::move(both);
    }
  }
  out.unused_build_args.assign(unused.begin(), unused.end());
  out.definition = builder.finish(std::move(roots));
  return out;
}

llvm::Expected<MultiLowerResult> lower_targets(const std::vector<LowerTarget>& targets) {
  llb::DefinitionBuilder builder;
  std::vector<llb::Definition::Root> roots;
  MultiLowerResult out;
  std::set<std::string> unused;
  for (size_t i = 0; i < targets.size(); ++i) {
    auto platforms = option_platforms(targets[i].options);
    if (!platforms) {
      return platforms.takeError();
    }
    detail::Lowerer lowerer(*targets[i].dockerfile, targets[i].options, builder, platforms->first,
                            platforms->second);
    std::vector<llb::Definition::Root> these;
    auto lowered = lowerer.run(these);
    if (!lowered) {
      if (targets[i].name.empty()) {
        return lowered.takeError();
      }
      return with_context(lowered.takeError(), "target " + quote(targets[i].name));
    }
    add_lowered(*lowered, std::to_string(i), platforms->second, these, roots, out);
    unused.insert(lowered->unused_build_args.begin(), lowered->unused_build_args.end());
  }
  out.unused_build_args.assign(unused.begin(), unused.end());
  out.definition = builder.finish(std::move(roots));
  return out;
}

}  // namespace kiln::frontend
