// `compose build`: the buildable services' images, built with builder/ into the
// store under their names (<project>-<service> or `image:`).
//
// builder::build() builds one image per call (one Dockerfile, one target), so
// the services are built all at once, each by a BuildRunner in a thread of its
// own: independent services build in parallel, and steps two services share are
// solved once (the store's per-cache-key locks make the second build wait for
// the first's step and then hit the cache). cli/ runs each build as a `kiln
// build` process of its own, so that each has its own signal handling (a
// builder::build() takes SIGINT for its cancel while it runs, one at a time per
// process) and Ctrl-C reaches every build.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <llvm/Support/Error.h>

#include "builder/build_events.h"
#include "compose/events.h"
#include "compose/service.h"

namespace kiln::compose {

struct BuildJob {
  std::string service;
  /// The name the image gets.
  std::string image;
  BuildSpec spec;
};

struct BuildFlags {
  bool no_cache = false;
  bool pull = false;
};

/// Builds one job's image; called from a thread of its own, several at once.
using BuildRunner = std::function<llvm::Error(const BuildJob& job, const BuildFlags& flags)>;

/// The `kiln build` arguments (after `build`) for `job`: -t, -f, --target,
/// --build-arg, --label, --cache-from, --cache-to, --no-cache, --pull, the context.
std::vector<std::string> build_arguments(const BuildJob& job, const BuildFlags& flags);

/// Builds `job` in this process into the store at `root`, reporting to `events`.
llvm::Error build_image(const std::string& root, const BuildJob& job, const BuildFlags& flags,
                        builder::BuildEvents& events);

/// The jobs for the buildable `services` (all of them, or only those whose image
/// is missing when `missing_only`, asking `engine`).
llvm::Expected<std::vector<BuildJob>> build_jobs(Engine& engine,
                                                 const std::vector<ServiceConfig>& services,
                                                 bool missing_only);

/// Builds `jobs` with `run`, all at once; reports "Service NAME Built". Fails
/// with the first failed build's error (the others finish first).
llvm::Error build_services(const std::vector<BuildJob>& jobs, const BuildFlags& flags,
                           const BuildRunner& run, ComposeEvents& events);

}  // namespace kiln::compose
