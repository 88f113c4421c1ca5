// The compose verbs that change things: `kiln compose up`, `down`, `start`, `stop`,
// `restart`, `rm`, `kill`, `build`, `pull`, `push` (and the image step of up and
// run), `exec` and `run`: compose finds or creates the container; kiln's own `exec`
// runs the process, and a one-off container runs in the foreground as `kiln run` runs
// one (stdin attached unless -d).

#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <iostream>

#include "cli/cmd_compose.h"
#include "compose/images.h"
#include "runtime/container_control.h"
#include "support/error.h"
#include "support/signal_watch.h"

namespace kiln::cli {
namespace {

// The services' solves print plain progress on stderr, as `kiln build` does.
compose::BuildEventsFactory build_events() {
  return [] { return printed_build_events("plain"); };
}

// The image step of up and run: compose::image_preparer() with build_events().
compose::BuildFn make_image_preparer(compose::Session& session, compose::ComposeEvents& events,
                                     bool no_cache, bool pull) {
  return compose::image_preparer(session, {no_cache, pull}, build_events(), events);
}

struct BuildFlags {
  std::vector<std::string> services;
  compose::BuildFlags build;
};

ComposeCommand<BuildFlags> build_reg{
    "build", "Build or rebuild services",
    [](CLI::App& sub, BuildFlags& f) {
      sub.add_flag("--no-cache", f.build.no_cache, "Do not use cache when building the image");
      sub.add_flag("--pull", f.build.pull, "Always attempt to pull a newer version of the image");
      add_services(sub, f.services);
    },
    [](BuildFlags& f, const ComposeContext& ctx) {
      return ctx.run([&](compose::Session& session) {
        PrintedComposeEvents events;
        return exit_code(
            compose::build_images(session, f.services, f.build, build_events(), events));
      });
    }};

struct TransferFlags {
  std::vector<std::string> services;
  compose::TransferOptions options;
};

// pull and push: `kiln pull`/`kiln push` of each service's image.
ComposeCommand<TransferFlags> transfer(compose::Transfer way) {
  bool push = way == compose::Transfer::push;
  return {
      push ? "push" : "pull", push ? "Push service images" : "Pull service images",
      [push](CLI::App& sub, TransferFlags& f) {
        sub.add_flag("-q,--quiet", f.options.quiet, "Pull without printing progress information");
        sub.add_flag(push ? "--ignore-push-failures" : "--ignore-pull-failures",
                     f.options.ignore_failures, "Push what it can and ignore images with failures");
        add_services(sub, f.services);
      },
      [way](TransferFlags& f, const ComposeContext& ctx) -> llvm::Expected<int> {
        KILN_TRY(auto project, ctx.load());
        PrintedComposeEvents events;
        return compose::transfer_images(ctx.globals.root, project, way, f.services, f.options,
                                        events);
      }};
}

auto pull_reg = transfer(compose::Transfer::pull);
auto push_reg = transfer(compose::Transfer::push);

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
  KILN_TRY(auto containers,
           compose::project_containers(*session.engine, session.project, services));
  events.end_block();
  std::atomic<bool> interrupted{false};
  {
    SignalWatch signals({SIGINT, SIGTERM}, [&](int) { interrupted = true; });
    ComposeLogOptions options;
    options.read.follow = true;
    options.read.report_exit = true;
    print_compose_logs(*session.engine, containers, options, [&] { return interrupted.load(); });
  }
  if (!interrupted) {
    return 0;
  }
  std::cerr << "Gracefully stopping... (press Ctrl+C again to force)\n";
  KILN_CHECK(compose::lifecycle(*session.engine, session.project, compose::Lifecycle::stop,
                                services, {}, events));
  return 130;
}

ComposeCommand<UpFlags> up_reg{
    "up", "Create and start containers",
    [](CLI::App& sub, UpFlags& f) {
      sub.add_flag("-d,--detach", f.detach, "Detached mode: Run containers in the background");
      sub.add_flag("--build", f.up.build, "Build images before starting containers");
      sub.add_flag("--no-build", f.up.no_build, "Don't build an image, even if it's policy");
      sub.add_flag("--wait", f.up.wait,
                   "Wait for services to be running|healthy. Implies detached mode");
      sub.add_option("--wait-timeout", f.up.wait_timeout_s, "Maximum duration in seconds to wait");
      add_list(sub, "--scale", f.scale, "Scale SERVICE to NUM instances (SERVICE=NUM)");
      sub.add_flag("--no-deps", f.up.no_deps, "Don't start linked services");
      sub.add_flag("--force-recreate", f.up.force_recreate,
                   "Recreate containers even if their configuration and image haven't changed");
      sub.add_flag("--no-recreate", f.up.no_recreate,
                   "If containers already exist, don't recreate them");
      sub.add_flag("--remove-orphans", f.up.remove_orphans,
                   "Remove containers for services not defined in the Compose file");
      sub.add_flag("--no-cache", f.no_cache, "Do not use cache when building the image");
      sub.add_flag("--pull", f.pull, "Pull images before building");
      add_services(sub, f.up.services);
    },
    [](UpFlags& f, const ComposeContext& ctx) -> llvm::Expected<int> {
      KILN_CHECK(compose::parse_scale(f.scale, f.up.scale));
      return ctx.run([&](compose::Session& session) -> llvm::Expected<int> {
        PrintedComposeEvents events;
        auto prepare = make_image_preparer(session, events, f.no_cache, f.pull);
        KILN_CHECK(compose::up(*session.engine, session.project, f.up, prepare, events));
        return f.detach || f.up.wait ? 0 : attach(session, f.up.services, events);
      });
    }};

ComposeCommand<compose::DownOptions> down_reg{
    "down", "Stop and remove containers, networks",
    [](CLI::App& sub, compose::DownOptions& o) {
      sub.add_flag(
          "-v,--volumes", o.volumes,
          "Remove named volumes declared in the \"volumes\" section and anonymous volumes");
      sub.add_option("--rmi", o.rmi, "Remove images used by services (\"local\" or \"all\")")
          ->check(CLI::IsMember({"local", "all"}));
      sub.add_flag("--remove-orphans", o.remove_orphans,
                   "Remove containers for services not defined in the Compose file");
      sub.add_option("-t,--timeout", o.timeout_s, "Specify a shutdown timeout in seconds");
    },
    [](compose::DownOptions& o, const ComposeContext& ctx) {
      return ctx.run([&](compose::Session& session) {
        PrintedComposeEvents events;
        return exit_code(compose::down(*session.engine, session.project, o, events));
      });
    }};

struct LifecycleFlags {
  std::vector<std::string> services;
  compose::LifecycleOptions options;
  std::string signal = "SIGKILL";
};

// start, stop, restart, rm and kill of the services' containers.
ComposeCommand<LifecycleFlags> lifecycle(const char* verb, const char* description,
                                         compose::Lifecycle action) {
  using compose::Lifecycle;
  auto declare = [action](CLI::App& sub, LifecycleFlags& f) {
    if (action == Lifecycle::stop || action == Lifecycle::restart) {
      sub.add_option("-t,--timeout", f.options.timeout_s, "Specify a shutdown timeout in seconds");
    }
    if (action == Lifecycle::kill) {
      sub.add_option("-s,--signal", f.signal, "SIGNAL to send to the container");
    }
    if (action == Lifecycle::rm) {
      sub.add_flag("-f,--force", f.options.force, "Don't ask to confirm removal");
      sub.add_flag("-s,--stop", f.options.stop_first,
                   "Stop the containers, if required, before removing");
      sub.add_flag("-v,--volumes")
          ->description("Remove any anonymous volumes attached to containers");
    }
    add_services(sub, f.services);
  };
  return {verb, description, declare,
          [action](LifecycleFlags& f, const ComposeContext& ctx) -> llvm::Expected<int> {
            if (action == Lifecycle::kill) {
              KILN_TRY(f.options.signal, runtime::parse_signal(f.signal));
            }
            return ctx.run([&](compose::Session& session) {
              PrintedComposeEvents events;
              return exit_code(compose::lifecycle(*session.engine, session.project, action,
                                                  f.services, f.options, events));
            });
          }};
}

using compose::Lifecycle;
auto start_reg = lifecycle("start", "Start services", Lifecycle::start);
auto stop_reg = lifecycle("stop", "Stop services", Lifecycle::stop);
auto restart_reg = lifecycle("restart", "Restart service containers", Lifecycle::restart);
auto rm_reg = lifecycle("rm", "Removes stopped service containers", Lifecycle::rm);
auto kill_reg = lifecycle("kill", "Force stop service containers", Lifecycle::kill);

struct ExecFlags {
  compose::ExecOptions exec;
  bool no_tty = false;
  CLI::App* sub = nullptr;
};

ComposeCommand<ExecFlags> exec_reg{
    "exec", "Execute a command in a running container",
    [](CLI::App& sub, ExecFlags& f) {
      f.sub = as_prefix_command(sub);
      sub.add_flag("-d,--detach", f.exec.detach, "Detached mode: Run command in the background");
      sub.add_flag("-T,--no-TTY", f.no_tty, "Disable pseudo-TTY allocation");
      add_list(sub, "-e,--env", f.exec.env, "Set environment variables");
      sub.add_option("-u,--user", f.exec.user, "Run the command as this user");
      sub.add_option("-w,--workdir", f.exec.workdir, "Path to workdir directory for this command");
      sub.add_option("--index", f.exec.index,
                     "Index of the container if service has multiple replicas");
    },
    [](ExecFlags& f, const ComposeContext& ctx) -> llvm::Expected<int> {
      KILN_TRY(auto args, words_after_flags(*f.sub, 2));
      f.exec.service = args[0];
      f.exec.command.assign(args.begin() + 1, args.end());
      f.exec.tty = !f.no_tty && ::isatty(0) && ::isatty(1);
      return ctx.run(
          [&](compose::Session& session) { return compose::exec_in_service(session, f.exec); });
    }};

// Runs the created one-off container as `kiln run` runs one in the foreground.
llvm::Expected<int> run_attached(const GlobalOptions& globals, const std::string& id) {
  KILN_TRY(auto store, containers::ContainerStore::open(globals.root));
  KILN_TRY(auto spec, store.load_spec(id));
  return run_foreground(store, spec);
}

struct RunFlags {
  compose::RunOptions run;
  bool detach = false;
  bool no_tty = false;
  CLI::App* sub = nullptr;
};

llvm::Expected<int> run_one_off(RunFlags& f, const ComposeContext& ctx) {
  KILN_TRY(auto args, words_after_flags(*f.sub, 1));
  f.run.service = args[0];
  f.run.command.assign(args.begin() + 1, args.end());
  f.run.tty = !f.no_tty && !f.detach && ::isatty(0) && ::isatty(1);
  return ctx.run([&](compose::Session& session) -> llvm::Expected<int> {
    compose::Engine& engine = *session.engine;
    PrintedComposeEvents events;
    auto prepare = make_image_preparer(session, events, false, false);
    KILN_TRY(auto container,
             compose::create_run_container(engine, session.project, f.run, prepare, events));
    if (f.detach) {
      KILN_CHECK(engine.start_container(container.id));
      std::cout << container.name << "\n";
      return 0;
    }
    events.end_block();
    auto code = run_attached(ctx.globals, container.id);
    if (f.run.remove) {
      llvm::consumeError(engine.remove_container(container.id, true));
    }
    return code;
  });
}

ComposeCommand<RunFlags> run_reg{
    "run", "Run a one-off command on a service",
    [](CLI::App& sub, RunFlags& f) {
      f.sub = as_prefix_command(sub);
      sub.add_flag("-d,--detach", f.detach, "Run container in background and print container ID");
      sub.add_flag("--rm", f.run.remove, "Automatically remove the container when it exits");
      sub.add_flag("-i,--interactive", f.run.interactive, "Keep STDIN open even if not attached");
      sub.add_flag("-T,--no-TTY", f.no_tty,
                   "Disable pseudo-TTY allocation (default: auto-detected)");
      add_list(sub, "-e,--env", f.run.env, "Set environment variables");
      sub.add_option("--name", f.run.name, "Assign a name to the container");
      sub.add_option("-u,--user", f.run.user, "Run as specified username or uid");
      sub.add_option("-w,--workdir", f.run.workdir, "Working directory inside the container");
      sub.add_flag("--no-deps", f.run.no_deps, "Don't start linked services");
      sub.add_flag("--service-ports", f.run.service_ports,
                   "Run command with all service's ports enabled and mapped to the host");
      add_list(sub, "-p,--publish", f.run.publish, "Publish a container's port(s) to the host");
      sub.add_option_function<std::string>(
          "--entrypoint", [&f](const std::string& value) { f.run.entrypoint = value; },
          "Override the entrypoint of the image");
    },
    run_one_off};

}  // namespace
}  // namespace kiln::cli
