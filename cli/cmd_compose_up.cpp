// `kiln compose up`, `down`, `start`, `stop`, `restart`, `rm`, `kill`.
#include <signal.h>

#include <atomic>
#include <iostream>

#include "cli/cmd_compose.h"
#include "runtime/container_control.h"
#include "support/signal_watch.h"

namespace kiln::cli {
namespace {

struct UpFlags {
  compose::UpOptions up;
  bool detach = false;
  bool no_cache = false;
  bool pull = false;
  std::vector<std::string> scale;
};

// Attached `up`: the containers' output until they all stop, or until Ctrl-C
// stops them.
llvm::Expected<int> attach(compose::Session& session, const std::vector<std::string>& services,
                           PrintedComposeEvents& events) {
  auto containers = compose::project_containers(*session.engine, session.project, services);
  if (!containers) {
    return containers.takeError();
  }
  events.end_block();
  std::atomic<bool> interrupted{false};
  {
    SignalWatch signals({SIGINT, SIGTERM}, [&](int) { interrupted = true; });
    ComposeLogOptions options;
    options.read.follow = true;
    options.read.report_exit = true;
    print_compose_logs(*session.engine, *containers, options, [&] { return interrupted.load(); });
  }
  if (!interrupted) {
    return 0;
  }
  std::cerr << "Gracefully stopping... (press Ctrl+C again to force)\n";
  if (auto err = compose::lifecycle(*session.engine, session.project, compose::Lifecycle::stop,
                                    services, {}, events)) {
    return std::move(err);
  }
  return 130;
}

CommandBody setup_up(CLI::App& sub, const ComposeContext& ctx) {
  auto f = std::make_shared<UpFlags>();
  sub.add_flag("-d,--detach", f->detach, "Detached mode: Run containers in the background");
  sub.add_flag("--build", f->up.build, "Build images before starting containers");
  sub.add_flag("--no-build", f->up.no_build, "Don't build an image, even if it's policy");
  sub.add_flag("--wait", f->up.wait,
               "Wait for services to be running|healthy. Implies detached mode");
  sub.add_option("--wait-timeout", f->up.wait_timeout_s, "Maximum duration in seconds to wait");
  sub.add_option("--scale", f->scale, "Scale SERVICE to NUM instances (SERVICE=NUM)")
      ->allow_extra_args(false);
  sub.add_flag("--no-deps", f->up.no_deps, "Don't start linked services");
  sub.add_flag("--force-recreate", f->up.force_recreate,
               "Recreate containers even if their configuration and image haven't changed");
  sub.add_flag("--no-recreate", f->up.no_recreate,
               "If containers already exist, don't recreate them");
  sub.add_flag("--remove-orphans", f->up.remove_orphans,
               "Remove containers for services not defined in the Compose file");
  sub.add_flag("--no-cache", f->no_cache, "Do not use cache when building the image");
  sub.add_flag("--pull", f->pull, "Pull images before building");
  sub.add_option("services", f->up.services, "SERVICE...");
  return [=]() -> llvm::Expected<int> {
    if (auto err = compose::parse_scale(f->scale, f->up.scale)) {
      return std::move(err);
    }
    return ctx.run([&](compose::Session& session) -> llvm::Expected<int> {
      PrintedComposeEvents events;
      auto prepare = make_image_preparer(session, events, f->no_cache, f->pull);
      if (auto err = compose::up(*session.engine, session.project, f->up, prepare, events)) {
        return std::move(err);
      }
      return f->detach || f->up.wait ? 0 : attach(session, f->up.services, events);
    });
  };
}

CommandBody setup_down(CLI::App& sub, const ComposeContext& ctx) {
  auto o = std::make_shared<compose::DownOptions>();
  sub.add_flag("-v,--volumes", o->volumes,
               "Remove named volumes declared in the \"volumes\" section and anonymous volumes");
  sub.add_option("--rmi", o->rmi, "Remove images used by services (\"local\" or \"all\")")
      ->check(CLI::IsMember({"local", "all"}));
  sub.add_flag("--remove-orphans", o->remove_orphans,
               "Remove containers for services not defined in the Compose file");
  sub.add_option("-t,--timeout", o->timeout_s, "Specify a shutdown timeout in seconds");
  return [=]() {
    return ctx.run([&](compose::Session& session) {
      PrintedComposeEvents events;
      return exit_code(compose::down(*session.engine, session.project, *o, events));
    });
  };
}

// start, stop, restart, rm and kill of the services' containers.
ComposeSetup lifecycle(compose::Lifecycle action) {
  return [action](CLI::App& sub, const ComposeContext& ctx) -> CommandBody {
    auto services = std::make_shared<std::vector<std::string>>();
    auto o = std::make_shared<compose::LifecycleOptions>();
    auto signal = std::make_shared<std::string>("SIGKILL");
    if (action == compose::Lifecycle::stop || action == compose::Lifecycle::restart) {
      sub.add_option("-t,--timeout", o->timeout_s, "Specify a shutdown timeout in seconds");
    }
    if (action == compose::Lifecycle::kill) {
      sub.add_option("-s,--signal", *signal, "SIGNAL to send to the container");
    }
    if (action == compose::Lifecycle::rm) {
      sub.add_flag("-f,--force", o->force, "Don't ask to confirm removal");
      sub.add_flag("-s,--stop", o->stop_first, "Stop the containers, if required, before removing");
      sub.add_flag("-v,--volumes")
          ->description("Remove any anonymous volumes attached to containers");
    }
    sub.add_option("services", *services, "SERVICE...");
    return [=]() -> llvm::Expected<int> {
      if (action == compose::Lifecycle::kill) {
        auto number = runtime::parse_signal(*signal);
        if (!number) {
          return number.takeError();
        }
        o->signal = *number;
      }
      return ctx.run([&](compose::Session& session) {
        PrintedComposeEvents events;
        return exit_code(
            compose::lifecycle(*session.engine, session.project, action, *services, *o, events));
      });
    };
  };
}

using compose::Lifecycle;
ComposeVerb up_verb{"up", "Create and start containers", setup_up};
ComposeVerb down_verb{"down", "Stop and remove containers, networks", setup_down};
ComposeVerb start_verb{"start", "Start services", lifecycle(Lifecycle::start)};
ComposeVerb stop_verb{"stop", "Stop services", lifecycle(Lifecycle::stop)};
ComposeVerb restart_verb{"restart", "Restart service containers", lifecycle(Lifecycle::restart)};
ComposeVerb rm_verb{"rm", "Removes stopped service containers", lifecycle(Lifecycle::rm)};
ComposeVerb kill_verb{"kill", "Force stop service containers", lifecycle(Lifecycle::kill)};

}  // namespace
}  // namespace kiln::cli
