// What a build reports while it runs. builder/ never prints: cli/ implements
// BuildEvents and decides how each event is shown (tty, plain, rawjson, quiet).
#pragma once

#include <string>
#include <vector>

#include <llvm/Support/Error.h>

#include "solver/core/progress.h"
#include "support/digest.h"

namespace kiln::builder {

/// The receiver of one build's events. progress() and warning() may be called
/// from several threads at once; the others come from the thread that called
/// build().
class BuildEvents {
 public:
  virtual ~BuildEvents() = default;
  /// The solve is about to start (the Dockerfile is lowered); progress follows.
  /// An error fails the build.
  virtual llvm::Error begin() = 0;
  /// Whether the steps that ran should be explained (cache_miss()) even without
  /// `--explain-cache`. Asked after begin().
  virtual bool wants_explanations() const = 0;
  /// One scheduler event (a step started, logged, finished, failed).
  virtual void progress(const solver::core::ProgressEvent& event) = 0;
  /// A step of kiln's own finished (exporting, naming, pushing, exporting cache).
  virtual void note(const std::string& name, const std::string& detail) = 0;
  /// Something that does not fail the build (a cache that could not be used).
  virtual void warning(const std::string& message) = 0;
  /// Why step `vertex` (`name`) missed the cache: one text per reason.
  virtual void cache_miss(const Digest& vertex, const std::string& name,
                          const std::vector<std::string>& reasons) = 0;
  /// The end of the progress: the solve failed or the image was stored (and
  /// exported, pushed) or not.
  virtual void finish(bool success) = 0;
  /// The step that failed the build: its description and last output lines.
  /// The error build() returns then points at the step's Dockerfile lines.
  virtual void step_failed(const std::string& description,
                           const std::vector<std::string>& last_lines) = 0;
};

}  // namespace kiln::builder
