// A build's progress as text: BuildKit's plain lines, the live view's frame (without
// the terminal's cursor codes), the summary at the end, kiln's rawjson objects and
// the report of a failed step. Pure functions; cli/progress.cpp prints them.
#pragma once

#include <chrono>
#include <set>
#include <string>
#include <vector>

#include "solver/core/progress.h"
#include "solver/core/progress_tally.h"
#include "support/digest.h"

namespace kiln::builder {

/// A build's steps as progress views show them: the tally of its events and which
/// steps' name lines plain progress has shown. Not thread-safe: the caller
/// serializes the calls.
class ProgressText {
 public:
  /// Adds `event` to the tally; returns BuildKit's plain lines for it, with N the
  /// step's number: "\n#N name\n" (started), "\n#N name\n#N CACHED\n",
  /// "#N 0.123 text\n" (a log line, seconds since the step started),
  /// "#N DONE 1.2s\n", "#N ERROR: text\n" (after "\n#N name\n" when the step had
  /// no name line yet: it failed before it started) or "#N CANCELED\n".
  std::string record(const solver::core::ProgressEvent& event);

  /// The live view's frame at `now` for a build that began at `begin`: the
  /// header "[+] Building 1.2s (F/N)\n" (F steps finished of the N seen), then a
  /// line " => name  status\n" for each of the last 18 steps (the name cut to 70
  /// bytes; the status CACHED, ERROR, or the seconds it ran or has been running)
  /// and, under a running step, its last lines " => => line\n" (cut to 90 bytes).
  std::string live_frame(std::chrono::system_clock::time_point begin,
                         std::chrono::system_clock::time_point now) const;

  /// The summary after a build that took `elapsed`: "\nBuilt in 1.23s: N steps
  /// run, M cached\n" ("Failed" unless `success`), then, when steps ran,
  /// "Critical path: a (0.50s) -> b (1.00s)\n".
  std::string summary(bool success, std::chrono::system_clock::duration elapsed) const;

 private:
  solver::core::ProgressTally tally_;
  std::set<Digest> announced_;
};

/// The events that show a note (BuildEvents::note) as a step of its own at `time`:
/// started, a log line `detail` (unless empty), done. The step's vertex is the
/// digest of "kiln.note:" and `name`.
std::vector<solver::core::ProgressEvent> note_events(const std::string& name,
                                                     const std::string& detail,
                                                     std::chrono::system_clock::time_point time);

/// A cache miss's `reasons` as log lines "cache miss: REASON" of its step at `time`.
std::vector<solver::core::ProgressEvent> cache_miss_events(
    const Digest& vertex, const std::string& name, const std::vector<std::string>& reasons,
    std::chrono::system_clock::time_point time);

/// kiln's rawjson object for `event` on one line, without its newline: time (Unix
/// seconds), vertex, name, kind and, unless empty, text. Invalid UTF-8 is replaced.
std::string progress_event_json(const solver::core::ProgressEvent& event);

/// The rawjson object of a warning on one line: {"kind":"warning","text":...}.
std::string warning_json(const std::string& message);

/// The rawjson object of a cache miss (`--explain-cache`) on one line: time,
/// vertex, name, kind "explain" and the reasons.
std::string cache_miss_json(std::chrono::system_clock::time_point time, const Digest& vertex,
                            const std::string& name, const std::vector<std::string>& reasons);

/// BuildKit's report of a failed step: "------\n > description:\n", its last
/// output lines, one a line, and "------\n".
std::string failed_step_text(const std::string& description,
                             const std::vector<std::string>& last_lines);

}  // namespace kiln::builder
