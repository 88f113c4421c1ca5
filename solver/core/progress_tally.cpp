#include "solver/core/progress_tally.h"

namespace kiln::solver::core {

int ProgressTally::record(const ProgressEvent& e) {
  auto [it, inserted] = numbers_.emplace(e.vertex, static_cast<int>(numbers_.size()) + 1);
  StepStats& s = steps_[e.vertex];
  if (inserted) {
    order_.push_back(e.vertex);
    s.name = e.name;
  }
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
      auto& t = tails_[e.vertex];
      t.push_back(e.text);
      if (t.size() > 4) {
        t.pop_front();
      }
      break;
    }
    case ProgressKind::done:
      s.finished = e.time;
      tails_.erase(e.vertex);
      break;
    case ProgressKind::error:
    case ProgressKind::canceled:
      s.finished = e.time;
      s.failed = true;
      break;
  }
  return it->second;
}

const std::deque<std::string>& ProgressTally::tail(const Digest& vertex) const {
  static const std::deque<std::string> kNone;
  auto it = tails_.find(vertex);
  return it == tails_.end() ? kNone : it->second;
}

size_t ProgressTally::finished() const {
  size_t n = 0;
  for (const auto& [d, s] : steps_) {
    n += s.cached || s.finished != std::chrono::system_clock::time_point{} ? 1 : 0;
  }
  return n;
}

size_t ProgressTally::ran() const {
  size_t n = 0;
  for (const auto& [d, s] : steps_) {
    n += s.ran && !s.cached ? 1 : 0;
  }
  return n;
}

size_t ProgressTally::cached() const {
  size_t n = 0;
  for (const auto& [d, s] : steps_) {
    n += s.cached ? 1 : 0;
  }
  return n;
}

std::vector<const StepStats*> ProgressTally::critical_path() const {
  std::vector<const StepStats*> path;
  const StepStats* cur = nullptr;
  for (const auto& [d, s] : steps_) {
    if (s.ran && (!cur || s.finished > cur->finished)) {
      cur = &s;
    }
  }
  while (cur) {
    path.push_back(cur);
    const StepStats* prev = nullptr;
    for (const auto& [d, s] : steps_) {
      if (s.ran && s.started < cur->started &&
          s.finished <= cur->started + std::chrono::milliseconds(5) &&
          (!prev || s.finished > prev->finished)) {
        prev = &s;
      }
    }
    cur = prev;
  }
  return {path.rbegin(), path.rend()};
}

}  // namespace kiln::solver::core
