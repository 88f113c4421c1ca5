// Several builds in one solve (build_many()): which builds may share one, the
// names their contexts get in the one graph, which builds need each step, and
// the events with each step named after them. Internal to builder/.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include <llvm/Support/Error.h>

#include "builder/build.h"
#include "builder/build_events.h"
#include "frontend/lower.h"
#include "llb/definition.h"

namespace kiln::builder {

/// The LocalSource name of each request's build context: "context" for the
/// first, and for every other one the name of an earlier request with the same
/// directory and .dockerignore patterns, else "context-N" (N its index).
std::vector<std::string> context_names(const std::vector<BuildRequest>& requests);

/// Which requests need each vertex of one graph: those whose target stage
/// reaches it. Immutable after construction; thread-safe.
class TargetUsers {
 public:
  /// `targets[i]` is request i's target stage (a vertex of one graph); `names[i]`
  /// its name.
  TargetUsers(const std::vector<const llb::Vertex*>& targets, std::vector<std::string> names);
  /// The first request that needs `vertex`, or nullopt (not a vertex of the graph).
  std::optional<size_t> first(const Digest& vertex) const;
  /// The names of the requests that need `vertex`, joined by ',' ("" when none).
  std::string label(const Digest& vertex) const;

 private:
  std::map<Digest, std::vector<size_t>> users_;
  std::vector<std::string> names_;
};

/// Forwards to `inner`, with each step's name prefixed by the builds that need
/// it as buildx's bake does: "[web 2/3] RUN make" for "[2/3] RUN make",
/// "[web,api] load" for "load". `users` and `inner` are borrowed.
class TargetEvents : public BuildEvents {
 public:
  TargetEvents(BuildEvents& inner, const TargetUsers& users) : inner_(inner), users_(users) {}

  llvm::Error begin() override { return inner_.begin(); }
  bool wants_explanations() const override { return inner_.wants_explanations(); }
  void progress(const solver::core::ProgressEvent& event) override;
  void note(const std::string& name, const std::string& detail) override {
    inner_.note(name, detail);
  }
  void warning(const std::string& message) override { inner_.warning(message); }
  void cache_miss(const Digest& vertex, const std::string& name,
                  const std::vector<std::string>& reasons) override;
  void finish(bool success) override { inner_.finish(success); }
  void step_failed(const std::string& description,
                   const std::vector<std::string>& last_lines) override {
    inner_.step_failed(description, last_lines);
  }

  /// `name` with the prefix of `vertex`'s builds.
  std::string named(const Digest& vertex, const std::string& name) const;

 private:
  BuildEvents& inner_;
  const TargetUsers& users_;
};

}  // namespace kiln::builder
