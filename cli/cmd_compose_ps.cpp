// `kiln compose ps`, `logs`, `top` and `images`.
#include <dirent.h>
#include <unistd.h>

#include <iostream>
#include <mutex>
#include <thread>

#include <llvm/ADT/StringExtras.h>
#include <nlohmann/json.hpp>

#include "cli/cmd_compose.h"
#include "cli/store_open.h"
#include "containers/container_store.h"
#include "support/error.h"
#include "support/fs.h"

namespace kiln::cli {

void print_compose_logs(compose::Engine& engine,
                        const std::vector<compose::ContainerInfo>& containers,
                        const ComposeLogOptions& options, const std::function<bool()>& stop) {
  static const char* const colours[] = {"\033[36m", "\033[33m", "\033[32m", "\033[35m",
                                        "\033[34m", "\033[96m", "\033[93m", "\033[92m"};
  bool colour = !options.no_color && ::isatty(1);
  // docker compose prefixes with the name without the project: "web-1".
  std::vector<std::string> prefixes;
  size_t width = 0;
  for (const auto& c : containers) {
    std::string name = c.name;
    std::string project =
        c.labels.count(compose::kProjectLabel) ? c.labels.at(compose::kProjectLabel) + "-" : "";
    if (llvm::StringRef(name).startswith(project)) {
      name = name.substr(project.size());
    }
    prefixes.push_back(name);
    width = std::max(width, name.size());
  }
  std::mutex mu;
  std::map<std::string, size_t> service_colour;
  std::vector<std::thread> threads;
  for (size_t i = 0; i < containers.size(); ++i) {
    std::string service = containers[i].labels.count(compose::kServiceLabel)
                              ? containers[i].labels.at(compose::kServiceLabel)
                              : "";
    if (!service_colour.count(service)) {
      service_colour[service] = service_colour.size() % 8;
    }
    std::string prefix = prefixes[i] + std::string(width - prefixes[i].size(), ' ') + "  | ";
    if (colour) {
      prefix = std::string(colours[service_colour[service]]) + prefix + "\033[0m";
    }
    if (options.no_prefix) {
      prefix.clear();
    }
    threads.emplace_back([&, i, prefix] {
      llvm::consumeError(engine.read_logs(
          containers[i].id, options.tail, options.follow, [&](const compose::LogLine& line) {
            if (stop && stop()) {
              return;
            }
            std::lock_guard lock(mu);
            std::cout << prefix << (options.timestamps ? line.time + " " : "") << line.text << "\n";
            std::cout.flush();
          }));
      if (options.report_exit && !(stop && stop())) {
        auto info = engine.inspect_container(containers[i].id);
        if (!info) {
          llvm::consumeError(info.takeError());
        } else if (info->state == "exited") {
          std::lock_guard lock(mu);
          std::cout << prefixes[i] << " exited with code " << info->exit_code << "\n";
          std::cout.flush();
        }
      }
    });
  }
  for (auto& t : threads) {
    t.join();
  }
}

namespace {

std::string status_of(const compose::ContainerInfo& c) {
  int64_t now = containers::now_ns();
  if (c.state == "running") {
    std::string s = "Up " + human_duration((now - c.started_ns) / 1000000000LL);
    if (!c.health.empty()) {
      s += " (" + c.health + ")";
    }
    return s;
  }
  if (c.state == "restarting") {
    return "Restarting (" + std::to_string(c.exit_code) + ") " +
           human_duration((now - c.finished_ns) / 1000000000LL) + " ago";
  }
  if (c.state == "exited") {
    return "Exited (" + std::to_string(c.exit_code) + ") " +
           human_duration((now - c.finished_ns) / 1000000000LL) + " ago";
  }
  return "Created";
}

std::string command_of(const compose::ContainerInfo& c) {
  std::string cmd = llvm::join(c.command, " ");
  if (cmd.size() > 20) {
    cmd = cmd.substr(0, 19) + "…";
  }
  return "\"" + cmd + "\"";
}

CommandBody setup_ps(CLI::App& sub, const GlobalOptions& globals,
                     const std::shared_ptr<ComposeFlags>& flags) {
  auto services = std::make_shared<std::vector<std::string>>();
  auto all = std::make_shared<bool>(false);
  auto quiet = std::make_shared<bool>(false);
  auto only_services = std::make_shared<bool>(false);
  auto format = std::make_shared<std::string>("table");
  sub.add_flag("-a,--all", *all, "Show all stopped containers");
  sub.add_flag("-q,--quiet", *quiet, "Only display IDs");
  sub.add_flag("--services", *only_services, "Display services");
  sub.add_option("--format", *format, "Format the output (table or json)");
  sub.add_option("services", *services, "SERVICE...");
  return [=, &globals]() -> llvm::Expected<int> {
    auto session = open_compose(globals, *flags);
    if (!session) {
      return session.takeError();
    }
    auto& [project, engine] = *session;
    auto list = compose::project_containers(*engine, project, *services);
    if (!list) {
      return list.takeError();
    }
    std::vector<compose::ContainerInfo> shown;
    for (auto& c : *list) {
      if (*all || c.state == "running" || c.state == "restarting") {
        shown.push_back(std::move(c));
      }
    }
    if (*only_services) {
      std::set<std::string> names;
      for (const auto& c : shown) {
        if (names.insert(c.labels.at(compose::kServiceLabel)).second) {
          std::cout << c.labels.at(compose::kServiceLabel) << "\n";
        }
      }
      return 0;
    }
    if (*quiet) {
      for (const auto& c : shown) {
        std::cout << c.id << "\n";
      }
      return 0;
    }
    if (*format == "json") {
      for (const auto& c : shown) {
        nlohmann::ordered_json j;
        j["Command"] = command_of(c);
        j["CreatedAt"] = go_time_string(c.created_ns / 1000000000LL);
        j["ExitCode"] = c.exit_code;
        j["Health"] = c.health;
        j["ID"] = c.id;
        j["Image"] = c.image;
        j["Labels"] = c.labels;
        j["Name"] = c.name;
        j["Names"] = c.name;
        j["Ports"] = llvm::join(c.ports, ", ");
        j["Project"] = project.name;
        j["RunningFor"] = since(c.created_ns / 1000000000LL);
        j["Service"] = c.labels.at(compose::kServiceLabel);
        j["State"] = c.state;
        j["Status"] = status_of(c);
        std::cout << j.dump() << "\n";
      }
      return 0;
    }
    if (*format != "table") {
      return llvm::make_error<UsageError>("unsupported --format " + quote(*format) +
                                          " (expected table or json)");
    }
    std::vector<std::vector<std::string>> rows = {
        {"NAME", "IMAGE", "COMMAND", "SERVICE", "CREATED", "STATUS", "PORTS"}};
    for (const auto& c : shown) {
      rows.push_back({c.name, c.image, command_of(c), c.labels.at(compose::kServiceLabel),
                      since(c.created_ns / 1000000000LL), status_of(c), llvm::join(c.ports, ", ")});
    }
    print_table(std::cout, rows);
    return 0;
  };
}

CommandBody setup_logs(CLI::App& sub, const GlobalOptions& globals,
                       const std::shared_ptr<ComposeFlags>& flags) {
  auto services = std::make_shared<std::vector<std::string>>();
  auto o = std::make_shared<ComposeLogOptions>();
  auto tail = std::make_shared<std::string>("all");
  sub.add_flag("-f,--follow", o->follow, "Follow log output");
  sub.add_option("-n,--tail", *tail, "Number of lines to show from the end of the logs");
  sub.add_flag("-t,--timestamps", o->timestamps, "Show timestamps");
  sub.add_flag("--no-log-prefix", o->no_prefix, "Don't print prefix in logs");
  sub.add_flag("--no-color", o->no_color, "Produce monochrome output");
  sub.add_option("services", *services, "SERVICE...");
  return [=, &globals]() -> llvm::Expected<int> {
    if (*tail != "all" && llvm::StringRef(*tail).getAsInteger(10, o->tail)) {
      return llvm::make_error<UsageError>("invalid --tail " + quote(*tail));
    }
    auto session = open_compose(globals, *flags);
    if (!session) {
      return session.takeError();
    }
    auto& [project, engine] = *session;
    auto list = compose::project_containers(*engine, project, *services);
    if (!list) {
      return list.takeError();
    }
    print_compose_logs(*engine, *list, *o, nullptr);
    return 0;
  };
}

// The processes of a container: its first process and every descendant.
std::vector<int> process_tree(int root) {
  std::map<int, std::vector<int>> children;
  if (DIR* d = ::opendir("/proc")) {
    while (dirent* e = ::readdir(d)) {
      int pid = std::atoi(e->d_name);
      if (pid <= 0) {
        continue;
      }
      auto stat = fs::read_file("/proc/" + std::string(e->d_name) + "/stat");
      if (!stat) {
        llvm::consumeError(stat.takeError());
        continue;
      }
      size_t close = stat->rfind(')');
      if (close == std::string::npos) {
        continue;
      }
      int ppid = 0;
      std::sscanf(stat->c_str() + close + 2, "%*c %d", &ppid);
      children[ppid].push_back(pid);
    }
    ::closedir(d);
  }
  std::vector<int> out = {root};
  for (size_t i = 0; i < out.size(); ++i) {
    for (int c : children[out[i]]) {
      out.push_back(c);
    }
  }
  return out;
}

CommandBody setup_top(CLI::App& sub, const GlobalOptions& globals,
                      const std::shared_ptr<ComposeFlags>& flags) {
  auto services = std::make_shared<std::vector<std::string>>();
  sub.add_option("services", *services, "SERVICE...");
  return [=, &globals]() -> llvm::Expected<int> {
    auto session = open_compose(globals, *flags);
    if (!session) {
      return session.takeError();
    }
    auto& [project, engine] = *session;
    auto list = compose::project_containers(*engine, project, *services);
    if (!list) {
      return list.takeError();
    }
    for (const auto& c : *list) {
      if (c.state != "running" || c.pid <= 0) {
        continue;
      }
      std::cout << c.name << "\n";
      std::vector<std::vector<std::string>> rows = {{"UID", "PID", "PPID", "CMD"}};
      for (int pid : process_tree(c.pid)) {
        std::string dir = "/proc/" + std::to_string(pid);
        auto cmdline = fs::read_file(dir + "/cmdline");
        auto status = fs::read_file(dir + "/status");
        if (!cmdline || !status) {
          llvm::consumeError(cmdline.takeError());
          llvm::consumeError(status.takeError());
          continue;
        }
        std::string cmd = *cmdline;
        std::replace(cmd.begin(), cmd.end(), '\0', ' ');
        std::string uid = "?";
        std::string ppid = "?";
        llvm::SmallVector<llvm::StringRef, 64> lines;
        llvm::StringRef(*status).split(lines, '\n');
        for (llvm::StringRef l : lines) {
          if (l.consume_front("Uid:")) {
            uid = l.trim().split('\t').first.str();
          } else if (l.consume_front("PPid:")) {
            ppid = l.trim().str();
          }
        }
        rows.push_back({uid, std::to_string(pid), ppid, llvm::StringRef(cmd).rtrim().str()});
      }
      print_table(std::cout, rows);
      std::cout << "\n";
    }
    return 0;
  };
}

CommandBody setup_images(CLI::App& sub, const GlobalOptions& globals,
                         const std::shared_ptr<ComposeFlags>& flags) {
  auto services = std::make_shared<std::vector<std::string>>();
  auto quiet = std::make_shared<bool>(false);
  sub.add_flag("-q,--quiet", *quiet, "Only display IDs");
  sub.add_option("services", *services, "SERVICE...");
  return [=, &globals]() -> llvm::Expected<int> {
    auto session = open_compose(globals, *flags);
    if (!session) {
      return session.takeError();
    }
    auto& [project, engine] = *session;
    auto list = compose::project_containers(*engine, project, *services);
    if (!list) {
      return list.takeError();
    }
    std::vector<std::vector<std::string>> rows = {{"CONTAINER", "REPOSITORY", "TAG", "IMAGE ID"}};
    for (const auto& c : *list) {
      std::string id = llvm::StringRef(c.image_id).drop_front(7).take_front(12).str();
      if (*quiet) {
        std::cout << c.image_id << "\n";
        continue;
      }
      auto [repo, tag] = familiar_repo_tag(c.image);
      rows.push_back({c.name, repo, tag, id});
    }
    if (!*quiet) {
      print_table(std::cout, rows);
    }
    return 0;
  };
}

ComposeCommandRegistration ps_reg{{"ps", "List containers", setup_ps}};
ComposeCommandRegistration logs_reg{{"logs", "View output from containers", setup_logs}};
ComposeCommandRegistration top_reg{{"top", "Display the running processes", setup_top}};
ComposeCommandRegistration images_reg{
    {"images", "List images used by the created containers", setup_images}};

}  // namespace
}  // namespace kiln::cli
