#include "builder/build_targets.h"

#include <climits>
#include <cstdlib>

#include <llvm/ADT/StringExtras.h>
#include <llvm/ADT/StringRef.h>

#include "builder/build_platforms.h"
#include "frontend/dockerignore.h"
#include "frontend/source_epoch.h"
#include "support/error.h"

namespace kiln::builder {

namespace {

/// What SOURCE_DATE_EPOCH says for `r` (a number, "context" or a stage's name;
/// "" when unset), or nullopt for a bad one (then the build fails anyway).
std::optional<std::string> epoch_of(const BuildRequest& r) {
  if (!r.dockerfile) {
    return std::nullopt;
  }
  auto source =
      frontend::resolve_epoch_source(*r.dockerfile, r.lower, std::getenv("SOURCE_DATE_EPOCH"));
  if (!source) {
    llvm::consumeError(source.takeError());
    return std::nullopt;
  }
  return source->value;
}

/// How many platforms `flags` asks for (a bad value counts as several: such a
/// build goes alone and fails there).
size_t platform_count(const std::vector<std::string>& flags) {
  auto platforms = target_platforms(flags);
  if (!platforms) {
    llvm::consumeError(platforms.takeError());
    return 2;
  }
  return platforms->size();
}

}  // namespace

bool can_share_solve(const BuildRequest& a, const BuildRequest& b) {
  const BuildOptions& x = a.options;
  const BuildOptions& y = b.options;
  auto no_cache_io = [](const BuildOptions& o) {
    return o.cache.cache_from.empty() && o.cache.cache_to.empty();
  };
  if (a.root != b.root || a.executor != b.executor || !no_cache_io(x) || !no_cache_io(y)) {
    return false;
  }
  if (x.no_cache != y.no_cache || x.no_cache_filter != y.no_cache_filter || x.pull != y.pull ||
      x.network != y.network || x.jobs != y.jobs || x.secrets != y.secrets || x.ssh != y.ssh ||
      x.build_contexts != y.build_contexts || a.lower.build_contexts != b.lower.build_contexts ||
      x.cache.explain != y.cache.explain ||
      x.registry.insecure_registries != y.registry.insecure_registries ||
      x.registry.registry_mirrors != y.registry.registry_mirrors) {
    return false;
  }
  if (platform_count(x.platforms) > 1 || platform_count(y.platforms) > 1) {
    return false;
  }
  auto ea = epoch_of(a);
  auto eb = epoch_of(b);
  return ea && eb && *ea == *eb;
}

std::vector<std::string> context_names(const std::vector<BuildRequest>& requests) {
  std::map<std::string, std::string> by_key;
  std::vector<std::string> out;
  for (size_t i = 0; i < requests.size(); ++i) {
    const BuildOptions& o = requests[i].options;
    std::string key = o.context;
    if (char* real = ::realpath(o.context.c_str(), nullptr)) {
      key = real;
      std::free(real);
    }
    auto patterns = frontend::load_dockerignore(
        o.context, o.dockerfile_path == "-" ? std::string() : o.dockerfile_path);
    if (patterns) {
      key += "\n" + llvm::join(*patterns, "\n");
    } else {
      llvm::consumeError(patterns.takeError());
      key += "\n" + std::to_string(i);  // fails in the build, alone
    }
    auto [it, fresh] =
        by_key.emplace(key, i == 0 ? std::string("context") : "context-" + std::to_string(i));
    out.push_back(it->second);
  }
  return out;
}

TargetUsers::TargetUsers(const std::vector<const llb::Vertex*>& targets,
                         std::vector<std::string> names)
    : names_(std::move(names)) {
  for (size_t i = 0; i < targets.size(); ++i) {
    std::vector<const llb::Vertex*> stack = {targets[i]};
    while (!stack.empty()) {
      const llb::Vertex* v = stack.back();
      stack.pop_back();
      auto& users = users_[v->digest()];
      if (!users.empty() && users.back() == i) {
        continue;  // seen from this target
      }
      users.push_back(i);
      for (const llb::Vertex* in : v->inputs()) {
        stack.push_back(in);
      }
    }
  }
}

std::optional<size_t> TargetUsers::first(const Digest& vertex) const {
  auto it = users_.find(vertex);
  if (it == users_.end() || it->second.empty()) {
    return std::nullopt;
  }
  return it->second.front();
}

std::string TargetUsers::label(const Digest& vertex) const {
  auto it = users_.find(vertex);
  if (it == users_.end()) {
    return "";
  }
  std::vector<std::string> names;
  for (size_t i : it->second) {
    if (!names_[i].empty() && (names.empty() || names.back() != names_[i])) {
      names.push_back(names_[i]);
    }
  }
  return llvm::join(names, ",");
}

std::string TargetEvents::named(const Digest& vertex, const std::string& name) const {
  std::string label = users_.label(vertex);
  if (label.empty()) {
    return name;
  }
  if (llvm::StringRef(name).startswith("[")) {
    return "[" + label + " " + name.substr(1);
  }
  return "[" + label + "] " + name;
}

void TargetEvents::progress(const solver::core::ProgressEvent& event) {
  solver::core::ProgressEvent e = event;
  e.name = named(event.vertex, event.name);
  inner_.progress(e);
}

void TargetEvents::cache_miss(const Digest& vertex, const std::string& name,
                              const std::vector<std::string>& reasons) {
  inner_.cache_miss(vertex, named(vertex, name), reasons);
}

}  // namespace kiln::builder
