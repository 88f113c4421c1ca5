// A detached container's output on disk, in docker's json-file format: one JSON
// object per line, {"log":"text\n","stream":"stdout","time":"<RFC 3339 nanos>"}.
// The file is rotated to `<path>.1` once it passes its size cap, so at most two
// caps' worth is kept.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include <llvm/ADT/StringRef.h>
#include <llvm/Support/Error.h>

#include "runtime/executor.h"

namespace kiln::containers {

/// Appends output lines to a log file. Move-only; not thread-safe.
class LogWriter {
 public:
  /// Opens (appending to) `path`; rotates once the file is `max_size` bytes.
  static llvm::Expected<LogWriter> open(llvm::StringRef path, int64_t max_size);
  LogWriter(LogWriter&& other) noexcept;
  LogWriter& operator=(LogWriter&&) = delete;
  LogWriter(const LogWriter&) = delete;
  ~LogWriter();
  /// Appends one line (its newline is added). Best effort: a full disk drops it.
  void append(runtime::OutputStream stream, llvm::StringRef line);

 private:
  LogWriter(std::string path, int fd, int64_t size, int64_t max_size)
      : path_(std::move(path)), fd_(fd), size_(size), max_size_(max_size) {}
  void rotate();

  std::string path_;
  int fd_ = -1;
  int64_t size_ = 0;
  int64_t max_size_ = 0;
};

struct LogReadOptions {
  /// Keep printing new lines until `running()` says the container stopped.
  bool follow = false;
  /// Only the last N lines of what is there.
  std::optional<size_t> tail;
  /// Prefix each line with its time.
  bool timestamps = false;
  /// Print only what the current file holds past this byte offset (for
  /// `start -a`: the size before the start).
  std::optional<int64_t> from_offset;
};

/// Prints the log at `path` (stdout lines to fd 1, stderr lines to fd 2). With
/// `follow`, polls for new lines (across a rotation) until `running()` is false.
llvm::Error print_logs(llvm::StringRef path, const LogReadOptions& options,
                       const std::function<bool()>& running);

/// `kiln logs`: print_logs() of container `name` (a name or (short) ID) of the
/// store at `root`, following it while something runs it. Fails when there is no
/// such container or its log cannot be read.
llvm::Error print_container_logs(llvm::StringRef root, llvm::StringRef name,
                                 const LogReadOptions& options);

}  // namespace kiln::containers
