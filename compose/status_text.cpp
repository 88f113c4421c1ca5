#include "compose/status_text.h"

#include <algorithm>

#include <llvm/ADT/StringRef.h>

namespace kiln::compose {

bool status_in_progress(const std::string& status) {
  return llvm::StringRef(status).endswith("ing") && status != "Running";
}

const char* status_mark(const std::string& status) {
  return status == "Error" ? " ✘ " : status_in_progress(status) ? " ⠿ " : " ✔ ";
}

std::string plain_status_line(const std::string& kind, const std::string& name,
                              const std::string& status) {
  return " " + kind + " " + name + "  " + status + "\n";
}

std::string marked_status_line(const std::string& kind, const std::string& name,
                               const std::string& status) {
  return status_mark(status) + kind + " " + name + "  " + status + "\n";
}

void StatusBlock::set(const std::string& kind, const std::string& name, const std::string& status) {
  auto it = std::find_if(lines_.begin(), lines_.end(),
                         [&](const Line& l) { return l.kind == kind && l.name == name; });
  if (it == lines_.end()) {
    lines_.push_back({kind, name, status});
  } else {
    it->status = status;
  }
}

std::vector<std::string> StatusBlock::lines() const {
  size_t done = std::count_if(lines_.begin(), lines_.end(),
                              [](const Line& l) { return !status_in_progress(l.status); });
  size_t width = 0;
  for (const Line& l : lines_) {
    width = std::max(width, l.kind.size() + 1 + l.name.size());
  }
  std::vector<std::string> out = {"[+] Running " + std::to_string(done) + "/" +
                                  std::to_string(lines_.size())};
  for (const Line& l : lines_) {
    std::string label = l.kind + " " + l.name;
    out.push_back(status_mark(l.status) + label + std::string(width - label.size() + 2, ' ') +
                  l.status);
  }
  return out;
}

}  // namespace kiln::compose
