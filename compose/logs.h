// `compose logs` and attached `up`: the output of several containers at once.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "compose/engine.h"

namespace kiln::compose {

/// "web-1": the container's name without its "<project>-" prefix, as docker
/// compose prefixes log lines.
std::string short_name(const ContainerInfo& container);

/// How a container's log lines are labelled, as docker compose labels them.
struct LogLabel {
  /// short_name(): "web-1".
  std::string name;
  /// "web-1  | ": the name padded to the longest of its set.
  std::string prefix;
  /// Its service's number (0, 1, ... in the order services first appear), for
  /// a colour of its own.
  size_t service = 0;
};

/// The labels of `containers`, in order.
std::vector<LogLabel> log_labels(const std::vector<ContainerInfo>& containers);

/// How log lines are prefixed: not at all (`--no-log-prefix`), with their labels,
/// or with their labels in their services' colours (on a terminal).
enum class LogPrefix { none, plain, coloured };

/// The prefixes of the lines of `labels`' containers, in order: "", "web-1  | ",
/// or "\033[36mweb-1  | \033[0m" (eight colours, one per service, then again).
std::vector<std::string> log_prefixes(const std::vector<LogLabel>& labels, LogPrefix style);

struct LogOptions {
  /// The last `tail` lines of each container; negative: all.
  int tail = -1;
  /// Wait for new lines until the containers stop.
  bool follow = false;
  /// Report each container that has exited once its log ends (attached `up`:
  /// "web-1 exited with code 0").
  bool report_exit = false;
};

/// Called with the index (in `containers`) of the container a line or an exit
/// belongs to.
using LogLineFn = std::function<void(size_t container, const LogLine& line)>;
using ExitFn = std::function<void(size_t container, int exit_code)>;

/// Reads the logs of `containers`, each on a thread of its own, and passes
/// their lines to `on_line` as they come (with `report_exit`, an exited
/// container's code to `on_exit` after its last line). The callbacks are
/// never called at the same time. `stop` (optional) ends early: lines after it
/// returns true are dropped. A container whose log cannot be read adds nothing.
/// Returns when every log has ended.
void multiplex_logs(Engine& engine, const std::vector<ContainerInfo>& containers,
                    const LogOptions& options, const LogLineFn& on_line, const ExitFn& on_exit,
                    const std::function<bool()>& stop);

}  // namespace kiln::compose
