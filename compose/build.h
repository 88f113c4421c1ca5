// `compose build`: the buildable services' images, built with builder/ into the
// store under their names (<project>-<service> or `image:`).
//
// Every service that can share it is built in ONE solve
// (builder::build_many(), as `docker buildx bake` builds its targets): one
// graph holds every service's Dockerfile, so a step two services share (same
// base, same instruction, same inputs) runs once, independent services build
// in parallel under one scheduler, and Ctrl-C (SIGINT, taken by builder/ while
// it solves) cancels the whole solve. A service that cannot share the solve
// (builder::can_share_solve(): one with `cache_from` or `cache_to`, whose
// cache import or export belongs to its build alone, or one whose `no_cache` or
// `pull` differs from the first service's) is built in a solve of its own,
// after it; solves run one after another in this process. The first failed
// solve stops the build: its error names the service of the failed step
// ("target 'web': ..."), and the other services of that solve are cancelled,
// as bake cancels its other targets.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <llvm/Support/Error.h>

#include "builder/build.h"
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

/// Makes the receiver of one solve's events (progress, warnings); called once
/// per solve.
using BuildEventsFactory = std::function<std::unique_ptr<builder::BuildEvents>()>;

/// The jobs for the buildable `services` (all of them, or only those whose image
/// is missing when `missing_only`, asking `engine`).
llvm::Expected<std::vector<BuildJob>> build_jobs(Engine& engine,
                                                 const std::vector<ServiceConfig>& services,
                                                 bool missing_only);

/// The groups of `jobs` (indexes, in order) that share one solve: each job joins
/// the first group whose first job builder::can_share_solve() with it.
/// `requests[i]` is job i's request.
std::vector<std::vector<size_t>> solve_groups(const std::vector<builder::BuildRequest>& requests);

/// Builds `jobs` into the store at `root`, one solve per group of
/// solve_groups(), each reporting to a receiver `make_events` makes; reports
/// "Service NAME Built" for the services of each solve that succeeded. Fails
/// with the first failed solve's error; later solves do not start.
llvm::Error build_services(const std::string& root, const std::vector<BuildJob>& jobs,
                           const BuildFlags& flags, const BuildEventsFactory& make_events,
                           ComposeEvents& events);

}  // namespace kiln::compose
