// `compose build`: the buildable services' images, built with builder/ into the
// store under their names (<project>-<service> or `image:`).
//
// builder::build() builds one image per call (one Dockerfile, one target), so
// the services are built each in a thread of its own, all at once: independent
// services build in parallel, and steps two services share are solved once (the
// store's per-cache-key locks make the second build wait for the first's step
// and then hit the cache).
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

/// The events of the build of `service` (called once per job, from the calling
/// thread, before the builds start).
using BuildEventsFactory =
    std::function<std::unique_ptr<builder::BuildEvents>(const std::string& service)>;

/// The jobs for the buildable `services` (all of them, or only those whose image
/// is missing when `missing_only`, asking `engine`).
llvm::Expected<std::vector<BuildJob>> build_jobs(Engine& engine,
                                                 const std::vector<ServiceConfig>& services,
                                                 bool missing_only);

/// Builds `jobs` in the store at `root`, in parallel; reports "Service NAME Built".
/// Fails with the first failed build's error (the others finish first).
llvm::Error build_services(const std::string& root, const std::vector<BuildJob>& jobs,
                           const BuildFlags& flags, const BuildEventsFactory& make_events,
                           ComposeEvents& events);

}  // namespace kiln::compose
