#include "cli/progress.h"

#include <unistd.h>

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <set>
#include <thread>

#include <nlohmann/json.hpp>

#include "support/error.h"

namespace kiln::cli {

using solver::core::ProgressEvent;
using solver::core::ProgressKind;
using Clock = std::chrono::system_clock;

llvm::Expected<ProgressMode> parse_progress_mode(llvm::StringRef text, FILE* out) {
  if (text == "auto" || text.empty()) {
    return ::isatty(::fileno(out)) ? ProgressMode::tty : ProgressMode::plain;
  }
  if (text == "tty") {
    return ProgressMode::tty;
  }
  if (text == "plain") {
    return ProgressMode::plain;
  }
  if (text == "rawjson") {
    return ProgressMode::rawjson;
  }
  if (text == "quiet") {
    return ProgressMode::quiet;
  }
  return llvm::make_error<UsageError>("invalid progress mode " + quote(text) +
                                      " (choose from auto, tty, plain, rawjson, quiet)");
}

namespace {

double seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

std::string fmt_secs(double s, int precision = 1) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.*fs", precision, s);
  return buf;
}

const char* kind_name(ProgressKind k) {
  switch (k) {
    case ProgressKind::started:
      return "started";
    case ProgressKind::cached:
      return "cached";
    case ProgressKind::log:
      return "log";
    case ProgressKind::done:
      return "done";
    case ProgressKind::error:
      return "error";
    case ProgressKind::canceled:
      return "canceled";
  }
  return "unknown";
}

}  // namespace

struct ProgressPrinter::Impl {
  ProgressMode mode;
  FILE* out;
  Clock::time_point begin = Clock::now();
  mutable std::mutex mu;
  std::map<Digest, int> numbers;
  std::map<Digest, StepStats> steps;
  std::map<Digest, std::deque<std::string>> tails;  // tty: last lines of running steps
  std::vector<Digest> order;
  std::set<Digest> announced;  // plain: vertices whose "#N name" line is out
  int next_number = 1;
  // tty redraw
  std::thread ticker;
  std::condition_variable cv;
  bool stopping = false;
  int drawn_lines = 0;

  int number(const ProgressEvent& e) {
    auto [it, inserted] = numbers.emplace(e.vertex, next_number);
    if (inserted) {
      ++next_number;
      order.push_back(e.vertex);
      steps[e.vertex].name = e.name;
    }
    return it->second;
  }

  void plain(const ProgressEvent& e, int n, StepStats& s) {
    switch (e.kind) {
      case ProgressKind::started:
        std::fprintf(out, "\n#%d %s\n", n, e.name.c_str());
        announced.insert(e.vertex);
        break;
      case ProgressKind::cached:
        std::fprintf(out, "\n#%d %s\n#%d CACHED\n", n, e.name.c_str(), n);
        announced.insert(e.vertex);
        break;
      case ProgressKind::log:
        std::fprintf(out, "#%d %.3f %s\n", n, seconds(e.time - s.started), e.text.c_str());
        break;
      case ProgressKind::done:
        std::fprintf(out, "#%d DONE %s\n", n, fmt_secs(seconds(e.time - s.started)).c_str());
        break;
      case ProgressKind::error:
        if (announced.insert(e.vertex).second) {
          std::fprintf(out, "\n#%d %s\n", n, e.name.c_str());  // failed before it started
        }
        std::fprintf(out, "#%d ERROR: %s\n", n, e.text.c_str());
        break;
      case ProgressKind::canceled:
        std::fprintf(out, "#%d CANCELED\n", n);
        break;
    }
    std::fflush(out);
  }

  void json(const ProgressEvent& e) {
    nlohmann::json j;
    j["time"] =
        std::chrono::duration_cast<std::chrono::microseconds>(e.time.time_since_epoch()).count() /
        1e6;
    j["vertex"] = e.vertex.str();
    j["name"] = e.name;
    j["kind"] = kind_name(e.kind);
    if (!e.text.empty()) {
      j["text"] = e.text;
    }
    std::fprintf(out, "%s\n",
                 j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
    std::fflush(out);
  }

  void record(const ProgressEvent& e, StepStats& s) {
    switch (e.kind) {
      case ProgressKind::started:
        s.started = e.time;
        s.ran = true;
        break;
      case ProgressKind::cached:
        s.started = s.finished = e.time;
        s.cached = true;
        break;
      case ProgressKind::log: {
        auto& t = tails[e.vertex];
        t.push_back(e.text);
        if (t.size() > 4) {
          t.pop_front();
        }
        break;
      }
      case ProgressKind::done:
        s.finished = e.time;
        tails.erase(e.vertex);
        break;
      case ProgressKind::error:
      case ProgressKind::canceled:
        s.finished = e.time;
        s.failed = true;
        break;
    }
  }

  /// Redraws the live view (mu held).
  void draw() {
    std::string text;
    size_t done = 0;
    for (const auto& [d, s] : steps) {
      if (s.cached || s.finished != Clock::time_point{}) {
        ++done;
      }
    }
    text += "[+] Building " + fmt_secs(seconds(Clock::now() - begin)) + " (" +
            std::to_string(done) + "/" + std::to_string(steps.size()) + ")\n";
    size_t first = order.size() > 18 ? order.size() - 18 : 0;
    for (size_t i = first; i < order.size(); ++i) {
      const StepStats& s = steps[order[i]];
      bool running = s.ran && s.finished == Clock::time_point{};
      std::string status = s.cached   ? "CACHED"
                           : s.failed ? "ERROR"
                           : running  ? fmt_secs(seconds(Clock::now() - s.started))
                                      : fmt_secs(seconds(s.finished - s.started));
      text += " => " + s.name.substr(0, 70) + "  " + status + "\n";
      if (running) {
        for (const auto& line : tails[order[i]]) {
          text += " => => " + line.substr(0, 90) + "\n";
        }
      }
    }
    if (drawn_lines > 0) {
      std::fprintf(out, "\x1b[%dA", drawn_lines);
    }
    int lines = 0;
    for (char c : text) {
      if (c == '\n') {
        ++lines;
      }
    }
    std::string cleared;
    size_t pos = 0;
    while (pos < text.size()) {
      size_t nl = text.find('\n', pos);
      cleared += "\x1b[2K" + text.substr(pos, nl - pos + 1);
      pos = nl + 1;
    }
    for (int i = lines; i < drawn_lines; ++i) {
      cleared += "\x1b[2K\n";
    }
    std::fputs(cleared.c_str(), out);
    std::fflush(out);
    drawn_lines = std::max(lines, drawn_lines);
  }
};

ProgressPrinter::ProgressPrinter(ProgressMode mode, FILE* out) : impl_(std::make_unique<Impl>()) {
  impl_->mode = mode;
  impl_->out = out;
  if (mode == ProgressMode::tty) {
    impl_->ticker = std::thread([impl = impl_.get()] {
      std::unique_lock lock(impl->mu);
      while (!impl->stopping) {
        impl->draw();
        impl->cv.wait_for(lock, std::chrono::milliseconds(150));
      }
    });
  }
}

ProgressPrinter::~ProgressPrinter() {
  if (impl_->ticker.joinable()) {
    {
      std::lock_guard lock(impl_->mu);
      impl_->stopping = true;
    }
    impl_->cv.notify_all();
    impl_->ticker.join();
  }
}

void ProgressPrinter::on_event(const ProgressEvent& event) {
  std::lock_guard lock(impl_->mu);
  int n = impl_->number(event);
  StepStats& s = impl_->steps[event.vertex];
  impl_->record(event, s);
  switch (impl_->mode) {
    case ProgressMode::plain:
      impl_->plain(event, n, s);
      break;
    case ProgressMode::rawjson:
      impl_->json(event);
      break;
    case ProgressMode::tty:
    case ProgressMode::quiet:
      break;
  }
}

void ProgressPrinter::note(const std::string& name, const std::string& detail) {
  ProgressEvent e;
  e.vertex = Digest::of("kiln.note:" + name);
  e.name = name;
  e.time = Clock::now();
  e.kind = ProgressKind::started;
  on_event(e);
  if (!detail.empty()) {
    e.kind = ProgressKind::log;
    e.text = detail;
    e.time = Clock::now();
    on_event(e);
  }
  e.kind = ProgressKind::done;
  e.text.clear();
  e.time = Clock::now();
  on_event(e);
}

void ProgressPrinter::finish(bool success) {
  if (impl_->ticker.joinable()) {
    {
      std::lock_guard lock(impl_->mu);
      impl_->stopping = true;
    }
    impl_->cv.notify_all();
    impl_->ticker.join();
    std::lock_guard lock(impl_->mu);
    impl_->draw();
  }
  std::lock_guard lock(impl_->mu);
  if (impl_->mode == ProgressMode::quiet || impl_->mode == ProgressMode::rawjson) {
    return;
  }
  size_t ran = 0, cached = 0;
  for (const auto& [d, s] : impl_->steps) {
    ran += s.ran && !s.cached ? 1 : 0;
    cached += s.cached ? 1 : 0;
  }
  // The critical path: from the step that ended last, back through the step that
  // ended last before each one started.
  std::vector<const StepStats*> path;
  const StepStats* cur = nullptr;
  for (const auto& [d, s] : impl_->steps) {
    if (s.ran && (!cur || s.finished > cur->finished)) {
      cur = &s;
    }
  }
  while (cur) {
    path.push_back(cur);
    const StepStats* prev = nullptr;
    for (const auto& [d, s] : impl_->steps) {
      if (s.ran && s.started < cur->started &&
          s.finished <= cur->started + std::chrono::milliseconds(5) &&
          (!prev || s.finished > prev->finished)) {
        prev = &s;
      }
    }
    cur = prev;
  }
  std::fprintf(impl_->out, "\n%s in %s: %zu steps run, %zu cached\n", success ? "Built" : "Failed",
               fmt_secs(seconds(Clock::now() - impl_->begin), 2).c_str(), ran, cached);
  if (!path.empty()) {
    std::fprintf(impl_->out, "Critical path:");
    for (auto it = path.rbegin(); it != path.rend(); ++it) {
      std::fprintf(impl_->out, "%s %s (%s)", it == path.rbegin() ? "" : " ->", (*it)->name.c_str(),
                   fmt_secs(seconds((*it)->finished - (*it)->started), 2).c_str());
    }
    std::fprintf(impl_->out, "\n");
  }
  std::fflush(impl_->out);
}

std::map<Digest, StepStats> ProgressPrinter::stats() const {
  std::lock_guard lock(impl_->mu);
  return impl_->steps;
}

}  // namespace kiln::cli
