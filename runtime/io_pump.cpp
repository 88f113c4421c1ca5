#include "runtime/io_pump.h"

#include <poll.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <vector>

#include "runtime/spawn.h"
#include "support/fs.h"

namespace kiln::runtime {
namespace {

constexpr int kPollMs = 100;

// One readable source: where its bytes go and whether it is still open.
struct Source {
  int fd;
  LineSplitter* splitter;  // null: bytes go to `sink`
  int sink;
  bool open;
};

// Reads once from `src`; marks it closed at EOF or error (EIO for a pty master).
void read_once(Source& src, std::vector<char>& buf) {
  ssize_t n = ::read(src.fd, buf.data(), buf.size());
  if (n < 0 && (errno == EINTR || errno == EAGAIN)) {
    return;
  }
  if (n <= 0) {
    src.open = false;
    return;
  }
  if (src.splitter) {
    src.splitter->feed(llvm::StringRef(buf.data(), static_cast<size_t>(n)));
  } else if (src.sink >= 0 &&
             !fs::write_all(src.sink, llvm::StringRef(buf.data(), static_cast<size_t>(n)))) {
    src.sink = -1;  // the reader went away: keep draining, drop the bytes
  }
}

}  // namespace

PumpEnd pump_io(const PumpFds& fds, const OutputCallback& callback, const CancelToken* cancel) {
  LineSplitter out_lines(OutputStream::out, &callback);
  LineSplitter err_lines(OutputStream::err, &callback);
  std::vector<Source> sources;
  if (fds.out >= 0) {
    sources.push_back({fds.out, &out_lines, -1, true});
  }
  if (fds.err >= 0) {
    sources.push_back({fds.err, &err_lines, -1, true});
  }
  if (fds.master >= 0) {
    sources.push_back({fds.master, fds.stdout_fd >= 0 ? nullptr : &out_lines, fds.stdout_fd, true});
    if (fds.stdin_fd >= 0) {
      sources.push_back({fds.stdin_fd, nullptr, fds.master, true});
    }
  }
  std::vector<char> buf(64 * 1024);
  bool exited = fds.process < 0;
  auto output_open = [&] {
    for (const auto& s : sources) {
      if (s.open && s.fd != fds.stdin_fd) {
        return true;
      }
    }
    return false;
  };
  while (!exited || output_open()) {
    if (cancel && cancel->cancelled()) {
      return PumpEnd::cancelled;
    }
    if (int signal = cancel && !exited ? cancel->take_forwarded() : 0) {
      ::syscall(SYS_pidfd_send_signal, fds.process, signal, nullptr, 0);
    }
    std::vector<pollfd> pfds;
    std::vector<Source*> polled;
    for (auto& s : sources) {
      if (s.open) {
        pfds.push_back({s.fd, POLLIN, 0});
        polled.push_back(&s);
      }
    }
    if (!exited) {
      pfds.push_back({fds.process, POLLIN, 0});
    }
    int ready = ::poll(pfds.data(), pfds.size(), kPollMs);
    if (ready < 0 && errno != EINTR) {
      break;
    }
    if (ready == 0 && exited) {
      break;  // the process is gone but something else holds its output open
    }
    for (size_t i = 0; i < polled.size(); ++i) {
      if (pfds[i].revents != 0) {
        read_once(*polled[i], buf);
      }
    }
    if (!exited && pfds.back().revents != 0) {
      exited = true;
    }
  }
  out_lines.finish();
  err_lines.finish();
  return PumpEnd::exited;
}

}  // namespace kiln::runtime
