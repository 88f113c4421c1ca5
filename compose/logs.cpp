#include "compose/logs.h"

#include <algorithm>
#include <map>
#include <mutex>
#include <thread>

#include <llvm/ADT/StringRef.h>

#include "compose/service.h"

namespace kiln::compose {

std::string short_name(const ContainerInfo& c) {
  auto project = c.labels.find(kProjectLabel);
  llvm::StringRef name = c.name;
  if (project != c.labels.end()) {
    name.consume_front(project->second + "-");
  }
  return name.str();
}

std::vector<LogLabel> log_labels(const std::vector<ContainerInfo>& containers) {
  std::vector<LogLabel> labels;
  size_t width = 0;
  std::map<std::string, size_t> services;
  for (const auto& c : containers) {
    auto service = c.labels.find(kServiceLabel);
    std::string key = service == c.labels.end() ? "" : service->second;
    labels.push_back({short_name(c), "", services.emplace(key, services.size()).first->second});
    width = std::max(width, labels.back().name.size());
  }
  for (auto& l : labels) {
    l.prefix = l.name + std::string(width - l.name.size(), ' ') + "  | ";
  }
  return labels;
}

std::vector<std::string> log_prefixes(const std::vector<LogLabel>& labels, LogPrefix style) {
  static const char* const colours[] = {"\033[36m", "\033[33m", "\033[32m", "\033[35m",
                                        "\033[34m", "\033[96m", "\033[93m", "\033[92m"};
  std::vector<std::string> prefixes;
  for (const auto& l : labels) {
    prefixes.push_back(style == LogPrefix::none ? ""
                       : style == LogPrefix::coloured
                           ? colours[l.service % 8] + l.prefix + "\033[0m"
                           : l.prefix);
  }
  return prefixes;
}

void multiplex_logs(Engine& engine, const std::vector<ContainerInfo>& containers,
                    const LogOptions& options, const LogLineFn& on_line, const ExitFn& on_exit,
                    const std::function<bool()>& stop) {
  auto stopped = [&] { return stop && stop(); };
  std::mutex mu;
  std::vector<std::thread> threads;
  for (size_t i = 0; i < containers.size(); ++i) {
    threads.emplace_back([&, i] {
      const std::string& id = containers[i].id;
      llvm::consumeError(
          engine.read_logs(id, options.tail, options.follow, [&](const LogLine& line) {
            if (stopped()) {
              return;
            }
            std::lock_guard lock(mu);
            on_line(i, line);
          }));
      if (!options.report_exit || stopped()) {
        return;
      }
      auto info = engine.inspect_container(id);
      if (!info) {
        llvm::consumeError(info.takeError());
      } else if (info->state == "exited") {
        std::lock_guard lock(mu);
        on_exit(i, info->exit_code);
      }
    });
  }
  for (auto& t : threads) {
    t.join();
  }
}

}  // namespace kiln::compose
