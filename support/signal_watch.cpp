#include "support/signal_watch.h"

#include <poll.h>
#include <pthread.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>

namespace kiln {
namespace {

// Reads one signal from the non-blocking signalfd; 0 when none is pending.
int read_signal(int fd) {
  signalfd_siginfo info{};
  ssize_t n = ::read(fd, &info, sizeof(info));
  return n == static_cast<ssize_t>(sizeof(info)) ? static_cast<int>(info.ssi_signo) : 0;
}

}  // namespace

SignalWatch::SignalWatch(std::initializer_list<int> signals,
                         std::function<void(int signal)> on_signal) {
  sigemptyset(&set_);
  for (int s : signals) {
    sigaddset(&set_, s);
  }
  pthread_sigmask(SIG_BLOCK, &set_, &old_);
  signal_fd_ = ::signalfd(-1, &set_, SFD_NONBLOCK | SFD_CLOEXEC);
  stop_fd_ = ::eventfd(0, EFD_CLOEXEC);
  if (signal_fd_ < 0 || stop_fd_ < 0) {
    return;  // the signals stay blocked: they cannot kill the work, nor reach it
  }
  thread_ = std::thread([this, on_signal = std::move(on_signal)] {
    pollfd fds[2] = {{signal_fd_, POLLIN, 0}, {stop_fd_, POLLIN, 0}};
    while (true) {
      if (::poll(fds, 2, -1) < 0 && errno != EINTR) {
        return;
      }
      if (fds[1].revents != 0) {
        return;
      }
      while (int s = read_signal(signal_fd_)) {
        on_signal(s);
      }
    }
  });
}

SignalWatch::~SignalWatch() {
  if (thread_.joinable()) {
    uint64_t one = 1;
    ssize_t n = ::write(stop_fd_, &one, sizeof(one));
    (void)n;
    thread_.join();
  }
  if (signal_fd_ >= 0) {
    while (read_signal(signal_fd_) != 0) {
    }
    ::close(signal_fd_);
  }
  if (stop_fd_ >= 0) {
    ::close(stop_fd_);
  }
  pthread_sigmask(SIG_SETMASK, &old_, nullptr);
}

}  // namespace kiln
