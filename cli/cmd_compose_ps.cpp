// `kiln compose ps`, `logs`, `top`, `images` and `port` (the host address a
// replica's port is published on, an ephemeral one too).
#include <unistd.h>

#include <iostream>

#include "cli/cmd_compose.h"
#include "cli/store_open.h"
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

CommandBody setup_ps(CLI::App& sub, const ComposeContext& ctx) {
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
  return [=]() {
    return ctx.run([&](compose::Session& session) -> llvm::Expected<int> {
      auto shown = compose::ps_containers(*session.engine, session.project, *services, *all);
      if (!shown) {
        return shown.takeError();
      }
      int64_t now = containers::now_ns();
      if (*only_services) {
        for (const auto& name : compose::service_names(*shown)) {
          std::cout << name << "\n";
        }
      } else if (*quiet) {
        for (const auto& c : *shown) {
          std::cout << c.id << "\n";
        }
      } else if (*format == "json") {
        for (const auto& c : *shown) {
          std::cout << compose::ps_json(c, session.project.name, now).dump() << "\n";
        }
      } else if (*format == "table") {
        print_table(std::cout, compose::ps_table(*shown, now));
      } else {
        return llvm::make_error<UsageError>("unsupported --format " + quote(*format) +
                                            " (expected table or json)");
      }
      return 0;
    });
  };
}

CommandBody setup_logs(CLI::App& sub, const ComposeContext& ctx) {
  auto services = std::make_shared<std::vector<std::string>>();
  auto o = std::make_shared<ComposeLogOptions>();
  auto tail = std::make_shared<std::string>("all");
  sub.add_flag("-f,--follow", o->read.follow, "Follow log output");
  sub.add_option("-n,--tail", *tail, "Number of lines to show from the end of the logs");
  sub.add_flag("-t,--timestamps", o->timestamps, "Show timestamps");
  sub.add_flag("--no-log-prefix", o->no_prefix, "Don't print prefix in logs");
  sub.add_flag("--no-color", o->no_color, "Produce monochrome output");
  sub.add_option("services", *services, "SERVICE...");
  return [=]() -> llvm::Expected<int> {
    if (*tail != "all" && llvm::StringRef(*tail).getAsInteger(10, o->read.tail)) {
      return llvm::make_error<UsageError>("invalid --tail " + quote(*tail));
    }
    return ctx.run([&](compose::Session& session) -> llvm::Expected<int> {
      auto list = compose::project_containers(*session.engine, session.project, *services);
      if (!list) {
        return list.takeError();
      }
      print_compose_logs(*session.engine, *list, *o, nullptr);
      return 0;
    });
  };
}

CommandBody setup_top(CLI::App& sub, const ComposeContext& ctx) {
  auto services = std::make_shared<std::vector<std::string>>();
  sub.add_option("services", *services, "SERVICE...");
  return [=]() {
    return ctx.run([&](compose::Session& session) -> llvm::Expected<int> {
      auto list = compose::top(*session.engine, session.project, *services);
      if (!list) {
        return list.takeError();
      }
      for (const auto& c : *list) {
        std::cout << c.name << "\n";
        print_table(std::cout, compose::top_rows(c));
        std::cout << "\n";
      }
      return 0;
    });
  };
}

CommandBody setup_images(CLI::App& sub, const ComposeContext& ctx) {
  auto services = std::make_shared<std::vector<std::string>>();
  auto quiet = std::make_shared<bool>(false);
  sub.add_flag("-q,--quiet", *quiet, "Only display IDs");
  sub.add_option("services", *services, "SERVICE...");
  return [=]() {
    return ctx.run([&](compose::Session& session) -> llvm::Expected<int> {
      auto list = compose::project_containers(*session.engine, session.project, *services);
      if (!list) {
        return list.takeError();
      }
      std::vector<std::vector<std::string>> rows = {{"CONTAINER", "REPOSITORY", "TAG", "IMAGE ID"}};
      for (const auto& c : *list) {
        auto [repo, tag] = familiar_repo_tag(c.image);
        rows.push_back({c.name, repo, tag, llvm::StringRef(c.image_id).substr(7, 12).str()});
        if (*quiet) {
          std::cout << c.image_id << "\n";
        }
      }
      if (!*quiet) {
        print_table(std::cout, rows);
      }
      return 0;
    });
  };
}

// `compose port SERVICE PRIVATE_PORT`.
struct PortFlags {
  std::string service;
  std::string private_port;
  std::string protocol = "tcp";
  int index = 1;
};

CommandBody setup_port(CLI::App& sub, const ComposeContext& ctx) {
  auto f = std::make_shared<PortFlags>();
  sub.add_option("SERVICE", f->service, "Service name")->required();
  sub.add_option("PRIVATE_PORT", f->private_port, "Private port")->required();
  sub.add_option("--protocol", f->protocol, "tcp or udp")->check(CLI::IsMember({"tcp", "udp"}));
  sub.add_option("--index", f->index, "Index of the container if service has multiple replicas");
  return [f, ctx]() -> llvm::Expected<int> {
    int port = 0;
    if (llvm::StringRef(f->private_port).getAsInteger(10, port) || port <= 0 || port > 65535) {
      return llvm::make_error<UsageError>("invalid port " + quote(f->private_port));
    }
    return ctx.run([&](compose::Session& session) -> llvm::Expected<int> {
      auto address = compose::published_port(*session.engine, session.project, f->service, f->index,
                                             port, f->protocol);
      if (!address) {
        return address.takeError();
      }
      std::cout << *address << "\n";
      return 0;
    });
  };
}

ComposeVerb port_verb{"port", "Print the public port for a port binding", setup_port};
ComposeVerb ps_verb{"ps", "List containers", setup_ps};
ComposeVerb logs_verb{"logs", "View output from containers", setup_logs};
ComposeVerb top_verb{"top", "Display the running processes", setup_top};
ComposeVerb images_verb{"images", "List images used by the created containers", setup_images};

}  // namespace
}  // namespace kiln::cli
