#include "builder/progress_text.h"

#include <cstdio>

#include <nlohmann/json.hpp>

namespace kiln::builder {

using solver::core::ProgressEvent;
using solver::core::ProgressKind;
using solver::core::StepStats;
using Clock = std::chrono::system_clock;

namespace {

double seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

std::string fmt_secs(double s, int precision = 1) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.*fs", precision, s);
  return buf;
}

double unix_seconds(Clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::microseconds>(t.time_since_epoch()).count() / 1e6;
}

std::string dump(const nlohmann::json& j) {
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace

std::string ProgressText::record(const ProgressEvent& e) {
  int number = tally_.record(e);
  const StepStats& s = tally_.step(e.vertex);
  bool announced = true;
  if (e.kind == ProgressKind::started || e.kind == ProgressKind::cached ||
      e.kind == ProgressKind::error) {
    announced = !announced_.insert(e.vertex).second;
  }
  std::string n = "#" + std::to_string(number);
  switch (e.kind) {
    case ProgressKind::started:
      return "\n" + n + " " + e.name + "\n";
    case ProgressKind::cached:
      return "\n" + n + " " + e.name + "\n" + n + " CACHED\n";
    case ProgressKind::log: {
      char secs[32];
      std::snprintf(secs, sizeof(secs), "%.3f", seconds(e.time - s.started));
      return n + " " + secs + " " + e.text + "\n";
    }
    case ProgressKind::done:
      return n + " DONE " + fmt_secs(seconds(e.time - s.started)) + "\n";
    case ProgressKind::error:
      // A step can fail before it started: its name line comes first.
      return (announced ? "" : "\n" + n + " " + e.name + "\n") + n + " ERROR: " + e.text + "\n";
    case ProgressKind::canceled:
      return n + " CANCELED\n";
  }
  return "";
}

std::string ProgressText::live_frame(Clock::time_point begin, Clock::time_point now) const {
  const auto& order = tally_.order();
  std::string text = "[+] Building " + fmt_secs(seconds(now - begin)) + " (" +
                     std::to_string(tally_.finished()) + "/" + std::to_string(order.size()) + ")\n";
  for (size_t i = order.size() > 18 ? order.size() - 18 : 0; i < order.size(); ++i) {
    const StepStats& s = tally_.step(order[i]);
    bool running = s.ran && s.finished == Clock::time_point{};
    std::string status = s.cached   ? "CACHED"
                         : s.failed ? "ERROR"
                         : running  ? fmt_secs(seconds(now - s.started))
                                    : fmt_secs(seconds(s.finished - s.started));
    text += " => " + s.name.substr(0, 70) + "  " + status + "\n";
    if (running) {
      for (const auto& line : tally_.tail(order[i])) {
        text += " => => " + line.substr(0, 90) + "\n";
      }
    }
  }
  return text;
}

std::string ProgressText::summary(bool success, Clock::duration elapsed) const {
  std::string text = std::string("\n") + (success ? "Built" : "Failed") + " in " +
                     fmt_secs(seconds(elapsed), 2) + ": " + std::to_string(tally_.ran()) +
                     " steps run, " + std::to_string(tally_.cached()) + " cached\n";
  std::vector<const StepStats*> path = tally_.critical_path();
  if (!path.empty()) {
    text += "Critical path:";
    for (size_t i = 0; i < path.size(); ++i) {
      text += (i == 0 ? " " : " -> ") + path[i]->name + " (" +
              fmt_secs(seconds(path[i]->finished - path[i]->started), 2) + ")";
    }
    text += "\n";
  }
  return text;
}

std::vector<ProgressEvent> note_events(const std::string& name, const std::string& detail,
                                       Clock::time_point time) {
  ProgressEvent e;
  e.vertex = Digest::of("kiln.note:" + name);
  e.name = name;
  e.time = time;
  std::vector<ProgressEvent> events{e};
  if (!detail.empty()) {
    e.kind = ProgressKind::log;
    e.text = detail;
    events.push_back(e);
  }
  e.kind = ProgressKind::done;
  e.text.clear();
  events.push_back(e);
  return events;
}

std::vector<ProgressEvent> cache_miss_events(const Digest& vertex, const std::string& name,
                                             const std::vector<std::string>& reasons,
                                             Clock::time_point time) {
  std::vector<ProgressEvent> events;
  for (const auto& r : reasons) {
    ProgressEvent e;
    e.kind = ProgressKind::log;
    e.vertex = vertex;
    e.name = name;
    e.time = time;
    e.text = "cache miss: " + r;
    events.push_back(std::move(e));
  }
  return events;
}

std::string progress_event_json(const ProgressEvent& e) {
  nlohmann::json j;
  j["time"] = unix_seconds(e.time);
  j["vertex"] = e.vertex.str();
  j["name"] = e.name;
  j["kind"] = solver::core::progress_kind_name(e.kind);
  if (!e.text.empty()) {
    j["text"] = e.text;
  }
  return dump(j);
}

std::string warning_json(const std::string& message) {
  return dump({{"kind", "warning"}, {"text", message}});
}

std::string cache_miss_json(Clock::time_point time, const Digest& vertex, const std::string& name,
                            const std::vector<std::string>& reasons) {
  nlohmann::json j;
  j["time"] = unix_seconds(time);
  j["vertex"] = vertex.str();
  j["name"] = name;
  j["kind"] = "explain";
  j["reasons"] = reasons;
  return dump(j);
}

std::string failed_step_text(const std::string& description,
                             const std::vector<std::string>& last_lines) {
  std::string block = "------\n > " + description + ":\n";
  for (const auto& l : last_lines) {
    block += l + "\n";
  }
  block += "------\n";
  return block;
}

}  // namespace kiln::builder
