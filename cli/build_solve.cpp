#include "cli/build_solve.h"

#include <chrono>
#include <cstdio>
#include <iostream>
#include <memory>
#include <mutex>
#include <optional>

#include <llvm/ADT/StringExtras.h>
#include <nlohmann/json.hpp>

#include "cli/progress.h"

namespace kiln::cli {
namespace {

/// A build's events on stderr, as --progress says: a live view on a terminal
/// (warnings kept back until the end), BuildKit's plain lines, or one JSON
/// object per line.
class PrintedEvents : public builder::BuildEvents {
 public:
  PrintedEvents(std::string progress, bool quiet) : progress_(std::move(progress)), quiet_(quiet) {}
  /// Prints the warnings a live tty view kept back.
  ~PrintedEvents() override {
    for (const auto& msg : deferred_) {
      std::fprintf(stderr, "WARNING: %s\n", msg.c_str());
    }
  }

  llvm::Error begin() override {
    auto mode = parse_progress_mode(quiet_ ? "quiet" : progress_, stderr);
    if (!mode) {
      return mode.takeError();
    }
    mode_ = *mode;
    printer_ = std::make_unique<ProgressPrinter>(mode_, stderr);
    return llvm::Error::success();
  }
  bool wants_explanations() const override { return mode_ == ProgressMode::rawjson; }
  void progress(const solver::core::ProgressEvent& event) override { printer_->on_event(event); }
  void note(const std::string& name, const std::string& detail) override {
    printer_->note(name, detail);
  }
  void finish(bool success) override { printer_->finish(success); }
  void warning(const std::string& msg) override;
  void cache_miss(const Digest& vertex, const std::string& name,
                  const std::vector<std::string>& reasons) override;
  void step_failed(const std::string& description,
                   const std::vector<std::string>& last_lines) override;

 private:
  std::string progress_;
  bool quiet_ = false;
  ProgressMode mode_ = ProgressMode::plain;
  std::unique_ptr<ProgressPrinter> printer_;
  std::mutex mu_;
  std::vector<std::string> deferred_;
};

void PrintedEvents::warning(const std::string& msg) {
  std::lock_guard lock(mu_);
  if (mode_ == ProgressMode::tty) {
    deferred_.push_back(msg);
  } else if (mode_ == ProgressMode::rawjson) {
    nlohmann::json j;
    j["kind"] = "warning";
    j["text"] = msg;
    std::fprintf(stderr, "%s\n",
                 j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
  } else {
    std::fprintf(stderr, "WARNING: %s\n", msg.c_str());
  }
}

void PrintedEvents::cache_miss(const Digest& vertex, const std::string& name,
                               const std::vector<std::string>& reasons) {
  if (mode_ == ProgressMode::rawjson) {
    nlohmann::json j;
    j["time"] = std::chrono::duration_cast<std::chrono::microseconds>(
                    std::chrono::system_clock::now().time_since_epoch())
                    .count() /
                1e6;
    j["vertex"] = vertex.str();
    j["name"] = name;
    j["kind"] = "explain";
    j["reasons"] = reasons;
    std::fprintf(stderr, "%s\n",
                 j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
    std::fflush(stderr);
  } else if (mode_ == ProgressMode::tty) {
    printer_->note("cache miss: " + name, llvm::join(reasons, "; "));
  } else {
    solver::core::ProgressEvent event;
    event.kind = solver::core::ProgressKind::log;
    event.vertex = vertex;
    event.name = name;
    event.time = std::chrono::system_clock::now();
    for (const auto& r : reasons) {
      event.text = "cache miss: " + r;
      printer_->on_event(event);
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
  std::fputs(block.c_str(), stderr);
}

}  // namespace

std::unique_ptr<builder::BuildEvents> printed_build_events(const std::string& progress) {
  return std::make_unique<PrintedEvents>(progress, false);
}

llvm::Expected<int> solve_build(const GlobalOptions& globals, const SolveFlags& flags,
                                const frontend::Dockerfile& dockerfile,
                                frontend::LowerOptions lower) {
  PrintedEvents events(flags.progress, flags.quiet);
  builder::BuildRequest request;
  request.root = globals.root;
  request.dockerfile = &dockerfile;
  request.lower = std::move(lower);
  request.options = flags;
  auto built = builder::build(request, events);
  if (!built) {
    return built.takeError();
  }
  if (flags.quiet) {
    std::cout << built->config_digest.str() << "\n";
  }
  return 0;
}

}  // namespace kiln::cli
