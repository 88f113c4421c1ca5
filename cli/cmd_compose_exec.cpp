// `kiln compose exec` and `run`: compose finds or creates the container; kiln's
// own `exec` runs the process, and a one-off container runs in the foreground
// as `kiln run` runs one (stdin attached unless -d).
#include <unistd.h>

#include <iostream>

#include "cli/cmd_compose.h"
#include "cli/foreground_run.h"
#include "support/error.h"

namespace kiln::cli {
namespace {

// SERVICE COMMAND [ARGS...] (exec) or SERVICE [COMMAND] [ARGS...] (run): the
// words after the flags, everything from SERVICE on belonging to the command.
std::vector<std::string> service_and_command(CLI::App& sub) {
  std::vector<std::string> args = sub.remaining();
  if (!args.empty() && args.front() == "--") {
    args.erase(args.begin());
  }
  return args;
}

CommandBody setup_exec(CLI::App& sub, const ComposeContext& ctx) {
  auto f = std::make_shared<compose::ExecOptions>();
  auto no_tty = std::make_shared<bool>(false);
  sub.add_flag("-d,--detach", f->detach, "Detached mode: Run command in the background");
  sub.add_flag("-T,--no-TTY", *no_tty, "Disable pseudo-TTY allocation");
  sub.add_option("-e,--env", f->env, "Set environment variables")->allow_extra_args(false);
  sub.add_option("-u,--user", f->user, "Run the command as this user");
  sub.add_option("-w,--workdir", f->workdir, "Path to workdir directory for this command");
  sub.add_option("--index", f->index, "Index of the container if service has multiple replicas");
  sub.prefix_command();
  sub.fallthrough(false);
  return [f, no_tty, ctx, &sub]() -> llvm::Expected<int> {
    std::vector<std::string> args = service_and_command(sub);
    if (args.size() < 2) {
      return llvm::make_error<UsageError>("\"kiln compose exec\" requires at least 2 arguments");
    }
    f->service = args[0];
    f->command.assign(args.begin() + 1, args.end());
    f->tty = !*no_tty && ::isatty(0) && ::isatty(1);
    return ctx.run(
        [&](compose::Session& session) { return compose::exec_in_service(session, *f); });
  };
}

// Runs the created one-off container as `kiln run` runs one in the foreground.
llvm::Expected<int> run_attached(const GlobalOptions& globals, const std::string& id) {
  auto store = containers::ContainerStore::open(globals.root);
  if (!store) {
    return store.takeError();
  }
  auto spec = store->load_spec(id);
  if (!spec) {
    return spec.takeError();
  }
  return run_foreground(*store, *spec);
}

struct RunFlags {
  compose::RunOptions run;
  bool detach = false;
  bool no_tty = false;
};

CommandBody setup_run(CLI::App& sub, const ComposeContext& ctx) {
  auto f = std::make_shared<RunFlags>();
  sub.add_flag("-d,--detach", f->detach, "Run container in background and print container ID");
  sub.add_flag("--rm", f->run.remove, "Automatically remove the container when it exits");
  sub.add_flag("-i,--interactive", f->run.interactive, "Keep STDIN open even if not attached");
  sub.add_flag("-T,--no-TTY", f->no_tty, "Disable pseudo-TTY allocation (default: auto-detected)");
  sub.add_option("-e,--env", f->run.env, "Set environment variables")->allow_extra_args(false);
  sub.add_option("--name", f->run.name, "Assign a name to the container");
  sub.add_option("-u,--user", f->run.user, "Run as specified username or uid");
  sub.add_option("-w,--workdir", f->run.workdir, "Working directory inside the container");
  sub.add_flag("--no-deps", f->run.no_deps, "Don't start linked services");
  sub.add_flag("--service-ports", f->run.service_ports,
               "Run command with all service's ports enabled and mapped to the host");
  sub.add_option("-p,--publish", f->run.publish, "Publish a container's port(s) to the host")
      ->allow_extra_args(false);
  sub.add_option_function<std::string>(
      "--entrypoint", [f](const std::string& value) { f->run.entrypoint = value; },
      "Override the entrypoint of the image");
  sub.prefix_command();
  sub.fallthrough(false);
  return [f, ctx, &sub]() -> llvm::Expected<int> {
    std::vector<std::string> args = service_and_command(sub);
    if (args.empty()) {
      return llvm::make_error<UsageError>("\"kiln compose run\" requires at least 1 argument");
    }
    f->run.service = args[0];
    f->run.command.assign(args.begin() + 1, args.end());
    f->run.tty = !f->no_tty && !f->detach && ::isatty(0) && ::isatty(1);
    return ctx.run([&](compose::Session& session) -> llvm::Expected<int> {
      compose::Engine& engine = *session.engine;
      PrintedComposeEvents events;
      auto prepare = make_image_preparer(session, events, false, false);
      auto container =
          compose::create_run_container(engine, session.project, f->run, prepare, events);
      if (!container) {
        return container.takeError();
      }
      if (f->detach) {
        if (auto err = engine.start_container(container->id)) {
          return std::move(err);
        }
        std::cout << container->name << "\n";
        return 0;
      }
      events.end_block();
      auto code = run_attached(ctx.globals, container->id);
      if (f->run.remove) {
        llvm::consumeError(engine.remove_container(container->id, true));
      }
      return code;
    });
  };
}

ComposeVerb exec_verb{"exec", "Execute a command in a running container", setup_exec};
ComposeVerb run_verb{"run", "Run a one-off command on a service", setup_run};

}  // namespace
}  // namespace kiln::cli
