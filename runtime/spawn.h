// Internal to runtime/: starting helper processes (the OCI runtime binary) with
// chosen standard fds, waiting for them, and splitting output into lines.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include <llvm/ADT/StringRef.h>
#include <llvm/Support/Error.h>

#include "runtime/executor.h"

namespace kiln::runtime {

/// An owned file descriptor, closed on destruction. Move-only.
class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  UniqueFd(UniqueFd&& other) noexcept : fd_(other.release()) {}
  UniqueFd& operator=(UniqueFd&& other) noexcept;
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  ~UniqueFd() { reset(); }
  int get() const { return fd_; }
  int release() {
    int fd = fd_;
    fd_ = -1;
    return fd;
  }
  void reset(int fd = -1);
  explicit operator bool() const { return fd_ >= 0; }

 private:
  int fd_ = -1;
};

/// A pipe with both ends close-on-exec.
struct Pipe {
  UniqueFd read;
  UniqueFd write;
};
llvm::Expected<Pipe> make_pipe();

/// Starts `argv` (argv[0] an absolute path) with `in`, `out`, `err` as its fds 0-2
/// (-1: /dev/null), in a new process group, default signal dispositions.
llvm::Expected<pid_t> spawn_process(const std::vector<std::string>& argv, int in, int out, int err);

/// Waits for the child `pid` (retrying on EINTR); returns its wait status or -1.
int wait_process(pid_t pid);

/// The output (stdout and stderr together) and wait status of a finished command.
struct CommandResult {
  int status = 0;
  std::string output;
  bool succeeded() const;
};

/// Runs `argv` to completion with stdin from /dev/null, capturing its output.
llvm::Expected<CommandResult> run_command(const std::vector<std::string>& argv);

/// Splits a byte stream into lines for an OutputCallback; lines longer than
/// kMaxLine are passed on in pieces.
class LineSplitter {
 public:
  static constexpr size_t kMaxLine = 64 * 1024;
  LineSplitter(OutputStream stream, const OutputCallback* callback)
      : stream_(stream), callback_(callback) {}
  /// Passes on every complete line of `data`, keeping the rest.
  void feed(llvm::StringRef data);
  /// Passes on the unterminated rest, if any.
  void finish();

 private:
  OutputStream stream_;
  const OutputCallback* callback_;  // may be null or empty: output is dropped
  std::string pending_;
};

}  // namespace kiln::runtime
