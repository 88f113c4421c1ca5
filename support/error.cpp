#include "support/error.h"
#include "support/shown.h"

#include <cstring>

#include <llvm/ADT/SmallVector.h>
#include <llvm/ADT/StringExtras.h>
#include <llvm/Support/raw_ostream.h>

namespace kiln {

char KilnError::ID = 0;
char UsageError::ID = 0;
char SourceError::ID = 0;
char ExecError::ID = 0;
char RegistryError::ID = 0;
char AuthError::ID = 0;
char IoError::ID = 0;
char CancelledError::ID = 0;
char StartError::ID = 0;

std::string KilnError::message() const {
  std::string out;
  for (auto it = contexts_.rbegin(); it != contexts_.rend(); ++it) {
    out += *it;
    out += ": ";
  }
  out += message_;
  return out;
}

void KilnError::log(llvm::raw_ostream& os) const { os << message(); }

std::error_code KilnError::convertToErrorCode() const { return llvm::inconvertibleErrorCode(); }

llvm::Error make_error(const llvm::Twine& message) {
  return llvm::make_error<KilnError>(message.str());
}

llvm::Error make_io_error(const llvm::Twine& what, llvm::StringRef path, int errno_value) {
  return llvm::make_error<IoError>((what + " '" + path + "': " + std::strerror(errno_value)).str(),
                                   path.str(), errno_value);
}

int StartError::start_exit_code(StartFailure failure) {
  switch (failure) {
    case StartFailure::not_found:
      return 127;
    case StartFailure::not_executable:
      return 126;
    case StartFailure::other:
      return 125;
  }
  return 125;
}

StartFailure StartError::from_exit_code(int code) {
  switch (code) {
    case 127:
      return StartFailure::not_found;
    case 126:
      return StartFailure::not_executable;
    default:
      return StartFailure::other;
  }
}

std::unique_ptr<StartError> to_start_error(llvm::Error err) {
  StartFailure failure = StartFailure::other;
  llvm::Error all = llvm::handleErrors(std::move(err), [&](std::unique_ptr<StartError> e) {
    failure = e->failure();
    return llvm::Error(std::move(e));
  });
  return std::make_unique<StartError>(error_message(std::move(all)), failure);
}

llvm::Error with_context(llvm::Error err, const llvm::Twine& context) {
  if (!err) {
    return err;
  }
  std::string ctx = context.str();
  return llvm::handleErrors(
      std::move(err),
      [&](std::unique_ptr<KilnError> e) -> llvm::Error {
        e->add_context(ctx);
        return llvm::Error(std::move(e));
      },
      [&](std::unique_ptr<llvm::ErrorInfoBase> e) -> llvm::Error {
        return llvm::make_error<KilnError>(ctx + ": " + e->message());
      });
}

std::string error_message(llvm::Error err) {
  std::string out;
  llvm::handleAllErrors(std::move(err), [&](const llvm::ErrorInfoBase& e) {
    if (!out.empty()) {
      out += "; ";
    }
    out += e.message();
  });
  return out;
}

std::string quote(llvm::StringRef value) { return ("'" + value + "'").str(); }

std::string shown_start(llvm::StringRef text) {
  constexpr size_t kMaxShown = 1024;
  if (text.size() <= kMaxShown) {
    return text.str();
  }
  return text.take_front(kMaxShown).str() + "...";
}

std::string format_source_error(const SourceError& err) {
  std::string out;
  llvm::raw_string_ostream os(out);
  const auto& ranges = err.ranges();
  if (ranges.empty() || !err.source()) {
    os << err.file() << "\nerror: " << err.message() << "\n";
    return out;
  }
  os << err.file() << ":" << ranges.front().start_line << "\n";
  llvm::SmallVector<llvm::StringRef, 64> lines;
  llvm::StringRef(*err.source()).split(lines, '\n');
  if (!lines.empty() && lines.back().empty()) {
    lines.pop_back();
  }
  int first = ranges.front().start_line;
  int last = ranges.front().end_line;
  for (const auto& r : ranges) {
    first = std::min(first, r.start_line);
    last = std::max(last, r.end_line);
  }
  int from = std::max(1, first - 2);
  int to = std::min(static_cast<int>(lines.size()), last + 2);
  auto marked = [&](int line) {
    for (const auto& r : ranges) {
      if (line >= r.start_line && line <= r.end_line) {
        return true;
      }
    }
    return false;
  };
  os << "--------------------\n";
  int width = std::max<int>(4, std::to_string(to).size() + 1);
  for (int line = from; line <= to; ++line) {
    std::string num = std::to_string(line);
    os << std::string(width - num.size(), ' ') << num << " | " << (marked(line) ? ">>> " : "    ")
       << shown_start(lines[line - 1].rtrim("\r")) << "\n";
  }
  os << "--------------------\n";
  os << "error: " << err.message() << "\n";
  return out;
}

}  // namespace kiln
