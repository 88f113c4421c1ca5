// `kiln compose ps`, `logs`, `top`, `images` and `port` (the host address a
// replica's port is published on, an ephemeral one too).
#include <unistd.h>

#include <iostream>

#include "cli/cmd_compose.h"
#include "compose/ops.h"
#include "compose/view.h"
#include "containers/container_store.h"
#include "support/error.h"

namespace kiln::cli {

void print_compose_logs(compose::Engine& engine,
                        const std::vector<compose::ContainerInfo>& containers,
                        const ComposeLogOptions& options, const std::function<bool()>& stop) {
  std::vector<compose::LogLabel> labels = compose::log_labels(containers);
  std::vector<std::string> prefixes = compose::log_prefixes(
      labels, options.no_prefix                  ? compose::LogPrefix::none
              : !options.no_color && ::isatty(1) ? compose::LogPrefix::coloured
                                                 : compose::LogPrefix::plain);
  compose::multiplex_logs(
      engine, containers, options.read,
      [&](size_t i, const compose::LogLine& line) {
        std::cout << prefixes[i] << (options.timestamps ? line.time + " " : "") << line.text
                  << "\n";
        std::cout.flush();
      },
      [&](size_t i, int exit_code) {
        std::cout << labels[i].name << " exited with code " << exit_code << "\n";
        std::cout.flush();
      },
      stop);
}

namespace {

struct PsFlags {
  std::vector<std::string> services;
  bool all = false;
  bool quiet = false;
  bool only_services = false;
  std::string format = "table";
};

ComposeCommand<PsFlags> ps_reg{
    "ps", "List containers",
    [](CLI::App& sub, PsFlags& f) {
      sub.add_flag("-a,--all", f.all, "Show all stopped containers");
      sub.add_flag("-q,--quiet", f.quiet, "Only display IDs");
      sub.add_flag("--services", f.only_services, "Display services");
      sub.add_option("--format", f.format, "Format the output (table or json)");
      add_services(sub, f.services);
    },
    in_session<PsFlags>([](PsFlags& f, compose::Session& session) -> llvm::Expected<int> {
      KILN_TRY(auto shown,
               compose::ps_containers(*session.engine, session.project, f.services, f.all));
      int64_t now = containers::now_ns();
      if (f.only_services) {
        for (const auto& name : compose::service_names(shown)) {
          std::cout << name << "\n";
        }
      } else if (f.quiet) {
        for (const auto& c : shown) {
          std::cout << c.id << "\n";
        }
      } else if (f.format == "json") {
        for (const auto& c : shown) {
          std::cout << compose::ps_json(c, session.project.name, now).dump() << "\n";
        }
      } else if (f.format == "table") {
        print_table(std::cout, compose::ps_table(shown, now));
      } else {
        return llvm::make_error<UsageError>("unsupported --format " + quote(f.format) +
                                            " (expected table or json)");
      }
      return 0;
    })};

struct LogsFlags {
  std::vector<std::string> services;
  ComposeLogOptions options;
  std::string tail = "all";
};

ComposeCommand<LogsFlags> logs_reg{
    "logs", "View output from containers",
    [](CLI::App& sub, LogsFlags& f) {
      sub.add_flag("-f,--follow", f.options.read.follow, "Follow log output");
      sub.add_option("-n,--tail", f.tail, "Number of lines to show from the end of the logs");
      sub.add_flag("-t,--timestamps", f.options.timestamps, "Show timestamps");
      sub.add_flag("--no-log-prefix", f.options.no_prefix, "Don't print prefix in logs");
      sub.add_flag("--no-color", f.options.no_color, "Produce monochrome output");
      add_services(sub, f.services);
    },
    [](LogsFlags& f, const ComposeContext& ctx) -> llvm::Expected<int> {
      if (f.tail != "all" && llvm::StringRef(f.tail).getAsInteger(10, f.options.read.tail)) {
        return llvm::make_error<UsageError>("invalid --tail " + quote(f.tail));
      }
      return ctx.run([&](compose::Session& session) -> llvm::Expected<int> {
        KILN_TRY(auto list,
                 compose::project_containers(*session.engine, session.project, f.services));
        print_compose_logs(*session.engine, list, f.options, nullptr);
        return 0;
      });
    }};

struct ServicesFlags {
  std::vector<std::string> services;
  bool quiet = false;
};

ComposeCommand<ServicesFlags> top_reg{
    "top", "Display the running processes",
    [](CLI::App& sub, ServicesFlags& f) { add_services(sub, f.services); },
    in_session<ServicesFlags>(
        [](ServicesFlags& f, compose::Session& session) -> llvm::Expected<int> {
          KILN_TRY(auto list, compose::top(*session.engine, session.project, f.services));
          for (const auto& c : list) {
            std::cout << c.name << "\n";
            print_table(std::cout, compose::top_rows(c));
            std::cout << "\n";
          }
          return 0;
        })};

ComposeCommand<ServicesFlags> images_reg{
    "images", "List images used by the created containers",
    [](CLI::App& sub, ServicesFlags& f) {
      sub.add_flag("-q,--quiet", f.quiet, "Only display IDs");
      add_services(sub, f.services);
    },
    in_session<ServicesFlags>(
        [](ServicesFlags& f, compose::Session& session) -> llvm::Expected<int> {
          KILN_TRY(auto list,
                   compose::project_containers(*session.engine, session.project, f.services));
          if (!f.quiet) {
            print_table(std::cout, compose::images_table(list));
          }
          for (size_t i = 0; f.quiet && i < list.size(); ++i) {
            std::cout << list[i].image_id << "\n";
          }
          return 0;
        })};

// `compose port SERVICE PRIVATE_PORT`.
struct PortFlags {
  std::string service;
  std::string private_port;
  std::string protocol = "tcp";
  int index = 1;
};

ComposeCommand<PortFlags> port_reg{
    "port", "Print the public port for a port binding",
    [](CLI::App& sub, PortFlags& f) {
      sub.add_option("SERVICE", f.service, "Service name")->required();
      sub.add_option("PRIVATE_PORT", f.private_port, "Private port")->required();
      sub.add_option("--protocol", f.protocol, "tcp or udp")->check(CLI::IsMember({"tcp", "udp"}));
      sub.add_option("--index", f.index, "Index of the container if service has multiple replicas");
    },
    [](PortFlags& f, const ComposeContext& ctx) -> llvm::Expected<int> {
      int port = 0;
      if (llvm::StringRef(f.private_port).getAsInteger(10, port) || port <= 0 || port > 65535) {
        return llvm::make_error<UsageError>("invalid port " + quote(f.private_port));
      }
      return ctx.run([&](compose::Session& session) -> llvm::Expected<int> {
        KILN_TRY(std::string address,
                 compose::published_port(*session.engine, session.project, f.service, f.index, port,
                                         f.protocol));
        std::cout << address << "\n";
        return 0;
      });
    }};

}  // namespace
}  // namespace kiln::cli
