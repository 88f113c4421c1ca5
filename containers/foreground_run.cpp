#include "containers/foreground_run.h"

#include <signal.h>
#include <termios.h>
#include <unistd.h>

#include "containers/container_runner.h"
#include "support/file_lock.h"
#include "support/signal_watch.h"

namespace kiln::containers {
namespace {

// Puts stdin in raw mode for `kiln run -it` while alive.
class RawTerminal {
 public:
  explicit RawTerminal(bool enable) {
    if (enable && ::isatty(0) && ::tcgetattr(0, &saved_) == 0) {
      termios raw = saved_;
      ::cfmakeraw(&raw);
      active_ = ::tcsetattr(0, TCSANOW, &raw) == 0;
    }
  }
  ~RawTerminal() {
    if (active_) {
      ::tcsetattr(0, TCSANOW, &saved_);
    }
  }
  RawTerminal(const RawTerminal&) = delete;
  RawTerminal& operator=(const RawTerminal&) = delete;

 private:
  termios saved_{};
  bool active_ = false;
};

}  // namespace

llvm::Expected<int> run_in_foreground(const ContainerStore& store, const ContainerSpec& spec) {
  auto lock = FileLock::acquire(store.paths(spec.id).monitor_lock());
  if (!lock) {
    return lock.takeError();
  }
  SessionOptions options;
  options.foreground = true;
  options.attach_stdin = spec.interactive;
  runtime::CancelToken cancel;
  options.cancel = &cancel;
  llvm::Expected<runtime::ExitStatus> status = runtime::ExitStatus{};
  {
    // Passes these signals on to the container, like docker's --sig-proxy: the
    // container decides whether to exit.
    SignalWatch signals({SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2},
                        [&cancel](int signal) { cancel.forward(signal); });
    RawTerminal raw(spec.process.tty && spec.interactive);
    status = run_container_session(store, spec.id, options);
  }
  if (spec.auto_remove) {
    llvm::consumeError(store.remove(spec.id, KillFirst::no));
  }
  if (!status) {
    return status.takeError();
  }
  return status->code();
}

}  // namespace kiln::containers
