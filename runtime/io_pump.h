// Internal to runtime/: moving a running container's output (pipes or pty master)
// to the caller while watching for exit and cancellation.
#pragma once

#include "runtime/executor.h"

namespace kiln::runtime {

/// The fds of one running container; -1 where not used. All borrowed.
struct PumpFds {
  int out = -1;        ///< read end of the process's stdout pipe
  int err = -1;        ///< read end of the process's stderr pipe
  int master = -1;     ///< pty master (tty runs)
  int stdin_fd = -1;   ///< copied into `master` (tty runs)
  int stdout_fd = -1;  ///< where `master` output goes; -1: the callback
  int process = -1;    ///< pidfd of the container process; readable once it exited
};

enum class PumpEnd { exited, cancelled };

/// Streams output to `callback` line by line (or to `fds.stdout_fd`) until the
/// process exited and its output is drained, or until `cancel` fires (checked every
/// 100 ms, as are its forwarded signals, sent to `fds.process`). Never holds more
/// than one partial line per stream in memory.
PumpEnd pump_io(const PumpFds& fds, const OutputCallback& callback, const CancelToken* cancel);

}  // namespace kiln::runtime
