// The images compose's services run: `compose build`, `pull` and `push`, and
// the image step of `up` and `run` (build what is buildable, pull the rest).
// Pulls and pushes run this binary's `kiln pull` / `kiln push` (their output
// goes to the process's stdout and stderr); builds go through build.h.
#pragma once

#include <string>
#include <vector>

#include <llvm/Support/Error.h>

#include "compose/build.h"
#include "compose/ops.h"
#include "compose/session.h"

namespace kiln::compose {

/// The services of `project` named in `names` (all when empty), in the
/// project's order.
llvm::Expected<std::vector<ServiceConfig>> selected_services(const Project& project,
                                                             const std::vector<std::string>& names);

/// For up and run: a BuildFn that pulls the missing images nobody builds
/// ("Image NAME Pulled"), then builds the buildable `services` (those whose
/// image is missing when `missing_only`) in as few solves as build_services()
/// needs. `session` and `events` are borrowed and must outlive it.
BuildFn image_preparer(Session& session, const BuildFlags& flags, BuildEventsFactory make_events,
                       ComposeEvents& events);

/// `compose build [SERVICE...]`: builds the named buildable services.
llvm::Error build_images(Session& session, const std::vector<std::string>& services,
                         const BuildFlags& flags, const BuildEventsFactory& make_events,
                         ComposeEvents& events);

enum class Transfer { pull, push };

struct TransferOptions {
  /// -q: `kiln pull -q` / `kiln push -q`.
  bool quiet = false;
  /// --ignore-pull-failures / --ignore-push-failures: exit 0 after a failure.
  bool ignore_failures = false;
};

/// `compose pull` (the images nobody builds) or `compose push` (the images
/// named by `image:`) of the named services, reporting "Image NAME Pulled" /
/// "Pushed" / "Error" for each; returns the exit code (the last failure's
/// unless ignored).
llvm::Expected<int> transfer_images(const std::string& root, const Project& project,
                                    Transfer direction, const std::vector<std::string>& services,
                                    const TransferOptions& options, ComposeEvents& events);

}  // namespace kiln::compose
