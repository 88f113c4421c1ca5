// Signals turned into calls on a thread of their own (for cancel and --sig-proxy).
#pragma once

#include <functional>
#include <initializer_list>
#include <thread>
#include <vector>

#include <signal.h>

namespace kiln {

/// While alive, handles `signals` (in whichever thread the kernel picks) by
/// writing their number to a pipe, and calls `on_signal` with each one on a
/// thread of its own: the callback need not be async-signal-safe (it may cancel
/// a CancelToken). The destructor restores the previous handlers and stops the
/// thread. Handlers reset to the default on exec, so spawned processes see
/// nothing of it. One watch at a time (a nested one takes over until it ends).
/// Not copyable or movable.
class SignalWatch {
 public:
  SignalWatch(std::initializer_list<int> signals, std::function<void(int signal)> on_signal);
  ~SignalWatch();
  SignalWatch(const SignalWatch&) = delete;
  SignalWatch& operator=(const SignalWatch&) = delete;

 private:
  std::vector<int> signals_;
  std::vector<struct sigaction> old_;
  int read_fd_ = -1;
  int write_fd_ = -1;
  int old_write_fd_ = -1;
  std::thread thread_;
};

}  // namespace kiln
