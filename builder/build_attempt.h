// builder/'s own: one try of a build, for build_gc.cpp's eviction and retry
// when a step runs out of space.
#pragma once

#include <string>
#include <vector>

#include <llvm/Support/Error.h>

#include "builder/build.h"

namespace kiln::builder {

/// What one try of a build learned.
struct BuildAttempt {
  /// False on the first try: a step that runs out of space then fails quietly
  /// (no step_failed event), so that build() may evict and try once more.
  bool last_try = true;
  /// Set when the failed step's error or output says ENOSPC.
  bool out_of_space = false;
};

/// Whether a failed step's error `message` or its last output `lines` tell of
/// a full file system ("No space left on device").
bool mentions_enospc(const std::string& message, const std::vector<std::string>& lines);

/// build_many() (and build(), with one request) without the store lease and
/// the collection around it (builder/build.cpp).
llvm::Expected<std::vector<BuildResult>> build_many_in_store(
    const std::vector<BuildRequest>& requests, BuildEvents& events, BuildAttempt& attempt);

}  // namespace kiln::builder
