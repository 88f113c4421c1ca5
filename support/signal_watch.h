// Signals turned into calls on a thread of their own (for cancel and --sig-proxy).
#pragma once

#include <functional>
#include <initializer_list>
#include <thread>

#include <signal.h>

namespace kiln {

/// While alive, blocks `signals` in the calling thread (and so in the threads it
/// starts later) and calls `on_signal` with each one that arrives, on a thread of
/// its own: the callback need not be async-signal-safe (it may cancel a
/// CancelToken). The destructor stops the thread, drops signals still pending and
/// restores the signal mask. Processes spawned through runtime/spawn get an empty
/// mask. Not copyable or movable.
class SignalWatch {
 public:
  SignalWatch(std::initializer_list<int> signals, std::function<void(int signal)> on_signal);
  ~SignalWatch();
  SignalWatch(const SignalWatch&) = delete;
  SignalWatch& operator=(const SignalWatch&) = delete;

 private:
  sigset_t set_{};
  sigset_t old_{};
  int signal_fd_ = -1;
  int stop_fd_ = -1;
  std::thread thread_;
};

}  // namespace kiln
