#include "cli/progress.h"

#include <unistd.h>

#include <algorithm>
#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <set>
#include <thread>

#include <llvm/ADT/StringExtras.h>
#include <nlohmann/json.hpp>

#include "solver/core/progress_tally.h"
#include "support/error.h"

namespace kiln::cli {

using solver::core::ProgressEvent;
using solver::core::ProgressKind;
using solver::core::StepStats;
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

double seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

std::string fmt_secs(double s, int precision = 1) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.*fs", precision, s);
  return buf;
}

double unix_seconds(Clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::microseconds>(t.time_since_epoch()).count() / 1e6;
}

/// One rawjson line (invalid UTF-8 replaced), flushed.
void print_json(FILE* out, const nlohmann::json& j) {
  std::fprintf(out, "%s\n",
               j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
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
  void plain(const ProgressEvent& e, int n, const StepStats& s);
  void json(const ProgressEvent& e);
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
  solver::core::ProgressTally tally_;
  std::set<Digest> announced_;  // plain: vertices whose "#N name" line is out
  std::vector<std::string> deferred_;
  std::thread ticker_;
  std::condition_variable cv_;
  bool stopping_ = false;
  int drawn_lines_ = 0;
};

llvm::Error PrintedEvents::begin() {
  auto mode = parse_progress_mode(quiet_ ? "quiet" : progress_, out_);
  if (!mode) {
    return mode.takeError();
  }
  mode_ = *mode;
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
  int n = tally_.record(event);
  if (mode_ == ProgressMode::plain) {
    plain(event, n, tally_.step(event.vertex));
  } else if (mode_ == ProgressMode::rawjson) {
    json(event);
  }
}

void PrintedEvents::plain(const ProgressEvent& e, int n, const StepStats& s) {
  switch (e.kind) {
    case ProgressKind::started:
      std::fprintf(out_, "\n#%d %s\n", n, e.name.c_str());
      announced_.insert(e.vertex);
      break;
    case ProgressKind::cached:
      std::fprintf(out_, "\n#%d %s\n#%d CACHED\n", n, e.name.c_str(), n);
      announced_.insert(e.vertex);
      break;
    case ProgressKind::log:
      std::fprintf(out_, "#%d %.3f %s\n", n, seconds(e.time - s.started), e.text.c_str());
      break;
    case ProgressKind::done:
      std::fprintf(out_, "#%d DONE %s\n", n, fmt_secs(seconds(e.time - s.started)).c_str());
      break;
    case ProgressKind::error:
      if (announced_.insert(e.vertex).second) {
        std::fprintf(out_, "\n#%d %s\n", n, e.name.c_str());  // failed before it started
      }
      std::fprintf(out_, "#%d ERROR: %s\n", n, e.text.c_str());
      break;
    case ProgressKind::canceled:
      std::fprintf(out_, "#%d CANCELED\n", n);
      break;
  }
  std::fflush(out_);
}

void PrintedEvents::json(const ProgressEvent& e) {
  nlohmann::json j;
  j["time"] = unix_seconds(e.time);
  j["vertex"] = e.vertex.str();
  j["name"] = e.name;
  j["kind"] = solver::core::progress_kind_name(e.kind);
  if (!e.text.empty()) {
    j["text"] = e.text;
  }
  print_json(out_, j);
}

void PrintedEvents::draw() {
  const auto& order = tally_.order();
  std::string text = "[+] Building " + fmt_secs(seconds(Clock::now() - begin_)) + " (" +
                     std::to_string(tally_.finished()) + "/" + std::to_string(order.size()) + ")\n";
  for (size_t i = order.size() > 18 ? order.size() - 18 : 0; i < order.size(); ++i) {
    const StepStats& s = tally_.step(order[i]);
    bool running = s.ran && s.finished == Clock::time_point{};
    std::string status = s.cached   ? "CACHED"
                         : s.failed ? "ERROR"
                         : running  ? fmt_secs(seconds(Clock::now() - s.started))
                                    : fmt_secs(seconds(s.finished - s.started));
    text += " => " + s.name.substr(0, 70) + "  " + status + "\n";
    if (running) {
      for (const auto& line : tally_.tail(order[i])) {
        text += " => => " + line.substr(0, 90) + "\n";
      }
    }
  }
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
  ProgressEvent e;
  e.vertex = Digest::of("kiln.note:" + name);
  e.name = name;
  e.time = Clock::now();
  e.kind = ProgressKind::started;
  progress(e);
  if (!detail.empty()) {
    e.kind = ProgressKind::log;
    e.text = detail;
    e.time = Clock::now();
    progress(e);
  }
  e.kind = ProgressKind::done;
  e.text.clear();
  e.time = Clock::now();
  progress(e);
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
  std::fprintf(out_, "\n%s in %s: %zu steps run, %zu cached\n", success ? "Built" : "Failed",
               fmt_secs(seconds(Clock::now() - begin_), 2).c_str(), tally_.ran(), tally_.cached());
  std::vector<const StepStats*> path = tally_.critical_path();
  if (!path.empty()) {
    std::fprintf(out_, "Critical path:");
    for (size_t i = 0; i < path.size(); ++i) {
      std::fprintf(out_, "%s %s (%s)", i == 0 ? "" : " ->", path[i]->name.c_str(),
                   fmt_secs(seconds(path[i]->finished - path[i]->started), 2).c_str());
    }
    std::fprintf(out_, "\n");
  }
  std::fflush(out_);
}

void PrintedEvents::warning(const std::string& msg) {
  std::lock_guard lock(mu_);
  if (mode_ == ProgressMode::tty) {
    deferred_.push_back(msg);
  } else if (mode_ == ProgressMode::rawjson) {
    print_json(out_, {{"kind", "warning"}, {"text", msg}});
  } else {
    std::fprintf(out_, "WARNING: %s\n", msg.c_str());
  }
}

void PrintedEvents::cache_miss(const Digest& vertex, const std::string& name,
                               const std::vector<std::string>& reasons) {
  if (mode_ == ProgressMode::rawjson) {
    nlohmann::json j;
    j["time"] = unix_seconds(Clock::now());
    j["vertex"] = vertex.str();
    j["name"] = name;
    j["kind"] = "explain";
    j["reasons"] = reasons;
    print_json(out_, j);
  } else if (mode_ == ProgressMode::tty) {
    note("cache miss: " + name, llvm::join(reasons, "; "));
  } else {
    ProgressEvent event;
    event.kind = ProgressKind::log;
    event.vertex = vertex;
    event.name = name;
    event.time = Clock::now();
    for (const auto& r : reasons) {
      event.text = "cache miss: " + r;
      progress(event);
    }
  }
}

/// BuildKit's report of a failed step: its last output lines between dashes.
void PrintedEvents::step_failed(const std::string& description,
                                const std::vector<std::string>& last_lines) {
  std::string block = "------\n > " + description + ":\n";
  for (const auto& l : last_lines) {
    block += l + "\n";
  }
  block += "------\n";
  std::fputs(block.c_str(), out_);
}

}  // namespace

std::unique_ptr<builder::BuildEvents> printed_build_events(const std::string& progress,
                                                           bool quiet) {
  return std::make_unique<PrintedEvents>(progress, quiet);
}

}  // namespace kiln::cli
