// Where a build's SOURCE_DATE_EPOCH comes from, as BuildKit's Dockerfile frontend
// resolves it (dockerfile2llb/epoch.go): a number of seconds; the special value
// "context" (the main context's time: for a local directory, none); or the name of a
// named context or of a source-only stage (FROM scratch, ARGs and one ADD of a URL)
// whose download gives the time. This phase reads the Dockerfile only; fetching the
// stage's URL is the builder's.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include <llvm/Support/Error.h>

#include "frontend/instructions.h"
#include "frontend/lower.h"
#include "llb/ops.h"

namespace kiln::frontend {

/// The value of SOURCE_DATE_EPOCH and what it names.
struct EpochSource {
  /// The text found ("" when none): a --build-arg, else `env_value` when it is a
  /// number or "context", else the non-empty default of a global ARG.
  std::string value;
  /// The seconds, when `value` is a number.
  std::optional<int64_t> seconds;
  /// The download whose time is the epoch, when `value` names a source stage: its
  /// server's Last-Modified, else the newest regular file of the archive it is,
  /// else none.
  std::optional<llb::HttpSource> http;
};

/// Resolves what SOURCE_DATE_EPOCH names in `dockerfile` built with `options` (its
/// build args and --build-context names); `env_value` is the environment's
/// SOURCE_DATE_EPOCH (nullptr when unset), taken only when it is a number or
/// "context" (other values there belong to other tools). Fails like BuildKit, with
/// the stage's FROM line for a stage that is not source-only:
/// `invalid SOURCE_DATE_EPOCH: VALUE` (no number, context or stage of that name),
/// `SOURCE_DATE_EPOCH stage must use FROM scratch`,
/// `SOURCE_DATE_EPOCH stage does not meet source-only requirements: unsupported copy
/// instruction`, `SOURCE_DATE_EPOCH stage must contain exactly one remote ADD`,
/// `… exactly one remote ADD source`, `SOURCE_DATE_EPOCH stage source must be a single
/// HTTP(S) or Git ADD`. A git ADD fails as kiln has no git source here.
llvm::Expected<EpochSource> resolve_epoch_source(const Dockerfile& dockerfile,
                                                 const LowerOptions& options,
                                                 const char* env_value);

}  // namespace kiln::frontend
