// A build's events for people and scripts (printed_build_events(), cli/command.h):
// BuildKit's plain format, a compact live view on a terminal, or one JSON event
// per line.
#include "cli/command.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <thread>

#include <llvm/ADT/StringExtras.h>

#include "builder/build_events.h"
#include "builder/progress_text.h"
#include "support/error.h"

namespace kiln::cli {

using solver::core::ProgressEvent;
using Clock = std::chrono::system_clock;

namespace {

/// How progress is shown (`--progress`).
enum class ProgressMode { tty, plain, rawjson, quiet };

/// Parses "auto" (tty when `out` is a terminal, else plain), "tty", "plain",
/// "rawjson" or "quiet".
llvm::Expected<ProgressMode> parse_progress_mode(llvm::StringRef text, FILE* out) {
  if (text == "auto" || text.empty()) {
    return ::isatty(::fileno(out)) ? ProgressMode::tty : ProgressMode::plain;
  }
  for (auto [name, mode] : {std::pair{"tty", ProgressMode::tty},
                            {"plain", ProgressMode::plain},
                            {"rawjson", ProgressMode::rawjson},
                            {"quiet", ProgressMode::quiet}}) {
    if (text == name) {
      return mode;
    }
  }
  return llvm::make_error<UsageError>("invalid progress mode " + quote(text) +
                                      " (choose from auto, tty, plain, rawjson, quiet)");
}

/// Writes `text` and flushes.
void write(FILE* out, const std::string& text) {
  std::fputs(text.c_str(), out);
  std::fflush(out);
}

/// A build's events on stderr, as --progress says: a live view on a terminal
/// (redrawn by a ticker thread; warnings kept back until the end), BuildKit's
/// plain lines, or one JSON object per line. Thread-safe.
class PrintedEvents : public builder::BuildEvents {
 public:
  PrintedEvents(std::string progress, bool quiet) : progress_(std::move(progress)), quiet_(quiet) {}
  ~PrintedEvents() override {
    for (const auto& msg : deferred_) {
      std::fprintf(out_, "WARNING: %s\n", msg.c_str());
    }
    stop_ticker();
  }

  llvm::Error begin() override;
  bool wants_explanations() const override { return mode_ == ProgressMode::rawjson; }
  void progress(const ProgressEvent& event) override;
  void note(const std::string& name, const std::string& detail) override;
  void finish(bool success) override;
  void warning(const std::string& msg) override;
  void cache_miss(const Digest& vertex, const std::string& name,
                  const std::vector<std::string>& reasons) override;
  void step_failed(const std::string& description,
                   const std::vector<std::string>& last_lines) override;

 private:
  /// Redraws the live view (mu_ held).
  void draw();
  /// Stops the live view's ticker; false when there was none.
  bool stop_ticker();

  std::string progress_;
  bool quiet_ = false;
  FILE* out_ = stderr;
  ProgressMode mode_ = ProgressMode::plain;
  Clock::time_point begin_ = Clock::now();
  std::mutex mu_;
  builder::ProgressText text_;
  std::vector<std::string> deferred_;
  std::thread ticker_;
  std::condition_variable cv_;
  bool stopping_ = false;
  int drawn_lines_ = 0;
};

llvm::Error PrintedEvents::begin() {
  KILN_TRY(mode_, parse_progress_mode(quiet_ ? "quiet" : progress_, out_));
  begin_ = Clock::now();
  if (mode_ == ProgressMode::tty) {
    ticker_ = std::thread([this] {
      std::unique_lock lock(mu_);
      while (!stopping_) {
        draw();
        cv_.wait_for(lock, std::chrono::milliseconds(150));
      }
    });
  }
  return llvm::Error::success();
}

void PrintedEvents::progress(const ProgressEvent& event) {
  std::lock_guard lock(mu_);
  std::string plain = text_.record(event);
  if (mode_ == ProgressMode::plain) {
    write(out_, plain);
  } else if (mode_ == ProgressMode::rawjson) {
    write(out_, builder::progress_event_json(event) + "\n");
  }
}

void PrintedEvents::draw() {
  std::string text = text_.live_frame(begin_, Clock::now());
  if (drawn_lines_ > 0) {
    std::fprintf(out_, "\x1b[%dA", drawn_lines_);
  }
  int lines = 0;
  std::string cleared;
  for (size_t pos = 0; pos < text.size(); ++lines) {
    size_t nl = text.find('\n', pos);
    cleared += "\x1b[2K" + text.substr(pos, nl - pos + 1);
    pos = nl + 1;
  }
  for (int i = lines; i < drawn_lines_; ++i) {
    cleared += "\x1b[2K\n";
  }
  std::fputs(cleared.c_str(), out_);
  std::fflush(out_);
  drawn_lines_ = std::max(lines, drawn_lines_);
}

bool PrintedEvents::stop_ticker() {
  if (!ticker_.joinable()) {
    return false;
  }
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  ticker_.join();
  return true;
}

void PrintedEvents::note(const std::string& name, const std::string& detail) {
  for (const auto& event : builder::note_events(name, detail, Clock::now())) {
    progress(event);
  }
}

void PrintedEvents::finish(bool success) {
  if (stop_ticker()) {
    std::lock_guard lock(mu_);
    draw();
  }
  std::lock_guard lock(mu_);
  if (mode_ == ProgressMode::quiet || mode_ == ProgressMode::rawjson) {
    return;
  }
  write(out_, text_.summary(success, Clock::now() - begin_));
}

void PrintedEvents::warning(const std::string& msg) {
  std::lock_guard lock(mu_);
  if (mode_ == ProgressMode::tty) {
    deferred_.push_back(msg);
  } else if (mode_ == ProgressMode::rawjson) {
    write(out_, builder::warning_json(msg) + "\n");
  } else {
    std::fprintf(out_, "WARNING: %s\n", msg.c_str());
  }
}

void PrintedEvents::cache_miss(const Digest& vertex, const std::string& name,
                               const std::vector<std::string>& reasons) {
  if (mode_ == ProgressMode::rawjson) {
    write(out_, builder::cache_miss_json(Clock::now(), vertex, name, reasons) + "\n");
  } else if (mode_ == ProgressMode::tty) {
    note("cache miss: " + name, llvm::join(reasons, "; "));
  } else {
    for (const auto& event : builder::cache_miss_events(vertex, name, reasons, Clock::now())) {
      progress(event);
    }
  }
}

void PrintedEvents::step_failed(const std::string& description,
                                const std::vector<std::string>& last_lines) {
  std::fputs(builder::failed_step_text(description, last_lines).c_str(), out_);
}

}  // namespace

std::unique_ptr<builder::BuildEvents> printed_build_events(const std::string& progress,
                                                           bool quiet) {
  return std::make_unique<PrintedEvents>(progress, quiet);
}

}  // namespace kiln::cli
