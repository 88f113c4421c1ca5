// Cancellation tokens handed to running work: a shared flag plus callbacks.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>

namespace kiln::solver::core {

/// A cancellation flag shared by all copies of the token. Cheap to copy;
/// thread-safe. Callbacks run once, on the thread that calls cancel(), while the
/// token's lock is held: they must be quick and must not call back into the token.
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

 private:
  struct State;
  std::shared_ptr<State> state_;
};

}  // namespace kiln::solver::core
