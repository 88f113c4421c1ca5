// Rendering a build's events for people and scripts: BuildKit's plain format, a
// compact live view on a terminal, or one JSON event per line.
#pragma once

#include <memory>
#include <string>

#include "builder/build_events.h"

namespace kiln::cli {

/// A build's events printed on stderr as `progress` ("auto", "plain", ...) says,
/// as `kiln build` prints them (a bad mode fails begin()); `quiet` (-q) prints
/// only warnings and a failed step's lines. At the end (finish()): the time, the
/// steps run and cached, and the critical path. Thread-safe.
std::unique_ptr<builder::BuildEvents> printed_build_events(const std::string& progress,
                                                           bool quiet = false);

}  // namespace kiln::cli
