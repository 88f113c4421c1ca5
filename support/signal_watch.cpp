#include "support/signal_watch.h"

#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>

namespace kiln {
namespace {

// The write end of the live watch's pipe (one watch at a time; a nested one
// takes over until it ends).
std::atomic<int> g_write_fd{-1};

// Any thread may take the signal: the handler only writes its number to the pipe.
void on_signal_handler(int signal) {
  int saved = errno;
  unsigned char byte = static_cast<unsigned char>(signal);
  int fd = g_write_fd.load(std::memory_order_relaxed);
  if (fd >= 0) {
    ssize_t n = ::write(fd, &byte, 1);
    (void)n;
  }
  errno = saved;
}

}  // namespace

SignalWatch::SignalWatch(std::initializer_list<int> signals,
                         std::function<void(int signal)> on_signal)
    : signals_(signals) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC | O_NONBLOCK) != 0) {
    return;
  }
  read_fd_ = fds[0];
  write_fd_ = fds[1];
  old_write_fd_ = g_write_fd.exchange(write_fd_);
  old_.resize(signals_.size());
  struct sigaction action {};
  action.sa_handler = on_signal_handler;
  action.sa_flags = SA_RESTART;
  sigemptyset(&action.sa_mask);
  for (size_t i = 0; i < signals_.size(); ++i) {
    ::sigaction(signals_[i], &action, &old_[i]);
  }
  thread_ = std::thread([this, on_signal = std::move(on_signal)] {
    pollfd fd{read_fd_, POLLIN, 0};
    while (true) {
      if (::poll(&fd, 1, -1) < 0 && errno != EINTR) {
        return;
      }
      unsigned char byte = 0;
      ssize_t n = ::read(read_fd_, &byte, 1);
      if (n == 0) {
        return;  // the write end closed: the watch ends
      }
      if (n == 1) {
        if (byte == 0) {
          return;  // the destructor's wake-up
        }
        on_signal(byte);
      }
    }
  });
}

SignalWatch::~SignalWatch() {
  if (read_fd_ < 0) {
    return;
  }
  for (size_t i = 0; i < signals_.size(); ++i) {
    ::sigaction(signals_[i], &old_[i], nullptr);
  }
  g_write_fd.store(old_write_fd_);
  unsigned char stop = 0;
  while (::write(write_fd_, &stop, 1) < 0 && errno == EAGAIN) {
    ::usleep(1000);  // the pipe is full of signals: let the thread drain it
  }
  thread_.join();
  ::close(write_fd_);
  ::close(read_fd_);
}

}  // namespace kiln
