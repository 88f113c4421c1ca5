// Error kinds shared by every module. Nothing of ours throws: code that can fail
// returns llvm::Expected<T> or llvm::Error carrying one of these.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <llvm/ADT/StringRef.h>
#include <llvm/ADT/Twine.h>
#include <llvm/Support/Error.h>

namespace kiln {

/// Base of kiln's error kinds. Holds the message and the context prefixes that
/// callers add on the way out (outermost first when printed).
class KilnError : public llvm::ErrorInfo<KilnError> {
 public:
  static char ID;
  explicit KilnError(std::string message) : message_(std::move(message)) {}

  /// The full message: contexts outermost first, then the message, joined by ": ".
  std::string message() const override;
  void log(llvm::raw_ostream& os) const override;
  std::error_code convertToErrorCode() const override;

  /// Prepends `context` (e.g. "push 'reg/app:1'") to this error's message.
  void add_context(std::string context) { contexts_.push_back(std::move(context)); }
  /// The message without any added context.
  const std::string& bare_message() const { return message_; }

 private:
  std::string message_;
  std::vector<std::string> contexts_;  // innermost first
};

/// A command-line or input usage error (bad flag, bad reference).
class UsageError : public llvm::ErrorInfo<UsageError, KilnError> {
 public:
  static char ID;
  using ErrorInfo::ErrorInfo;
};

/// A line range in a source file, 1-based and inclusive.
struct SourceRange {
  int start_line = 0;
  int end_line = 0;
  bool operator==(const SourceRange&) const = default;
};

/// An error located in a source file (a Dockerfile): names the file, the lines,
/// and keeps the file's text so the CLI can show an excerpt.
class SourceError : public llvm::ErrorInfo<SourceError, KilnError> {
 public:
  static char ID;
  SourceError(std::string message, std::string file, std::vector<SourceRange> ranges,
              std::shared_ptr<const std::string> source)
      : ErrorInfo(std::move(message)),
        file_(std::move(file)),
        ranges_(std::move(ranges)),
        source_(std::move(source)) {}
  const std::string& file() const { return file_; }
  const std::vector<SourceRange>& ranges() const { return ranges_; }
  /// The whole text of the file; may be null when it is not known.
  const std::shared_ptr<const std::string>& source() const { return source_; }

 private:
  std::string file_;
  std::vector<SourceRange> ranges_;
  std::shared_ptr<const std::string> source_;
};

/// A build step's process that failed. `exit_code` is the process's exit code, or
/// 128+signal when it was killed.
class ExecError : public llvm::ErrorInfo<ExecError, KilnError> {
 public:
  static char ID;
  ExecError(std::string message, std::string vertex, int exit_code,
            std::vector<std::string> last_lines = {})
      : ErrorInfo(std::move(message)),
        vertex_(std::move(vertex)),
        exit_code_(exit_code),
        last_lines_(std::move(last_lines)) {}
  const std::string& vertex() const { return vertex_; }
  int exit_code() const { return exit_code_; }
  /// The last lines the process printed, oldest first.
  const std::vector<std::string>& last_lines() const { return last_lines_; }

 private:
  std::string vertex_;
  int exit_code_;
  std::vector<std::string> last_lines_;
};

/// A registry operation that failed. `http_status` is 0 when no response came.
class RegistryError : public llvm::ErrorInfo<RegistryError, KilnError> {
 public:
  static char ID;
  RegistryError(std::string message, std::string registry, std::string op, int http_status)
      : ErrorInfo(std::move(message)),
        registry_(std::move(registry)),
        op_(std::move(op)),
        http_status_(http_status) {}
  const std::string& registry() const { return registry_; }
  const std::string& op() const { return op_; }
  int http_status() const { return http_status_; }

 private:
  std::string registry_;
  std::string op_;
  int http_status_;
};

/// Authentication to a registry failed (401/403 after trying credentials).
class AuthError : public llvm::ErrorInfo<AuthError, RegistryError> {
 public:
  static char ID;
  using ErrorInfo::ErrorInfo;
};

/// A file-system operation failed; `path` is the file, `errno_value` the cause.
class IoError : public llvm::ErrorInfo<IoError, KilnError> {
 public:
  static char ID;
  IoError(std::string message, std::string path, int errno_value)
      : ErrorInfo(std::move(message)), path_(std::move(path)), errno_(errno_value) {}
  const std::string& path() const { return path_; }
  int errno_value() const { return errno_; }

 private:
  std::string path_;
  int errno_;
};

/// Cancelled by the user (Ctrl-C) or by a failing sibling.
class CancelledError : public llvm::ErrorInfo<CancelledError, KilnError> {
 public:
  static char ID;
  CancelledError() : ErrorInfo("cancelled") {}
};

/// Why a container's process could not be started, as docker tells them apart.
enum class StartFailure {
  not_found,       ///< no such command or file: exit code 127
  not_executable,  ///< found but not executable (permission denied): 126
  other,           ///< anything else that kept it from starting: 125
};

/// A container whose process could not be started (the runtime refused it, or its
/// rootfs, network or ports could not be set up). `exit_code()` is docker's code
/// for it, which `kiln run` exits with.
class StartError : public llvm::ErrorInfo<StartError, KilnError> {
 public:
  static char ID;
  StartError(std::string message, StartFailure failure)
      : ErrorInfo(std::move(message)), failure_(failure) {}
  StartFailure failure() const { return failure_; }
  /// 127, 126 or 125, as `failure()` says.
  int exit_code() const { return start_exit_code(failure_); }
  /// docker's exit code for `failure`.
  static int start_exit_code(StartFailure failure);
  /// The failure whose exit code is `code` (125 and unknown codes: other).
  static StartFailure from_exit_code(int code);

 private:
  StartFailure failure_;
};

/// `err` (consumed, not success) as one StartError with its whole message: of the
/// kind of a StartError it holds, else of kind other.
std::unique_ptr<StartError> to_start_error(llvm::Error err);

/// A plain kiln error with `message`.
llvm::Error make_error(const llvm::Twine& message);

/// An IoError "`what` 'path': strerror(errno_value)".
llvm::Error make_io_error(const llvm::Twine& what, llvm::StringRef path, int errno_value);

/// Adds `context` in front of the message of every KilnError in `err`; other error
/// kinds are turned into a KilnError first. Returns success unchanged.
llvm::Error with_context(llvm::Error err, const llvm::Twine& context);

/// As above for an Expected.
template <typename T>
llvm::Expected<T> with_context(llvm::Expected<T> value, const llvm::Twine& context) {
  if (value) {
    return value;
  }
  return with_context(value.takeError(), context);
}

/// The message of `err` (consumes it), as printed after "error: ".
std::string error_message(llvm::Error err);

/// Quotes `value` for messages: 'value'.
std::string quote(llvm::StringRef value);

/// Formats a SourceError as DESIGN.md shows: "file:line", a dashed excerpt with
/// ">>>" on the error's lines and two lines of context, then "error: message".
std::string format_source_error(const SourceError& err);

}  // namespace kiln
