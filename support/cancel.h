// The one cancellation token: a shared flag plus callbacks, and signals to pass on.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>

namespace kiln {

/// A cancellation flag shared by all copies of the token. Cheap to copy;
/// thread-safe. Callbacks run once, on the thread that calls cancel(), while the
/// token's lock is held: they must be quick and must not call back into the token.
/// cancel() takes a lock and is not async-signal-safe: a signal becomes a cancel
/// on a thread of its own (support/signal_watch.h). forward() and
/// take_forwarded() are lock-free.
class CancelToken {
 public:
  /// A fresh token, not cancelled.
  CancelToken();

  /// True once cancel() was called on any copy.
  bool cancelled() const;
  /// Sets the flag and runs the registered callbacks; later calls do nothing.
  void cancel() const;
  /// Registers `fn` to run on cancel (at once, on this thread, when already
  /// cancelled). Returns an id for remove_callback().
  uint64_t on_cancel(std::function<void()> fn) const;
  /// Unregisters a callback; when this returns, the callback is not running and
  /// will not run.
  void remove_callback(uint64_t id) const;

  /// Asks the work to send `signal` to the process it runs (a container's first
  /// process, docker's --sig-proxy); the work goes on. Of signals forwarded before
  /// the work takes them, the last one is sent.
  void forward(int signal) const;
  /// The signal given to forward() and not yet taken, or 0; clears it.
  int take_forwarded() const;

 private:
  struct State;
  std::shared_ptr<State> state_;
};

}  // namespace kiln
