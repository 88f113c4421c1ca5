// `kiln compose exec` and `run`: compose finds or creates the container; kiln's
// own `exec` runs the process, and a one-off container runs in the foreground
// as `kiln run` runs one (stdin attached unless -d).
#include <unistd.h>

#include <iostream>

#include "cli/cmd_compose.h"
#include "support/error.h"

namespace kiln::cli {
namespace {

struct ExecFlags {
  compose::ExecOptions exec;
  bool no_tty = false;
  CLI::App* sub = nullptr;
};

ComposeCommand<ExecFlags> exec_reg{
    "exec", "Execute a command in a running container",
    [](CLI::App& sub, ExecFlags& f) {
      f.sub = &sub;
      sub.add_flag("-d,--detach", f.exec.detach, "Detached mode: Run command in the background");
      sub.add_flag("-T,--no-TTY", f.no_tty, "Disable pseudo-TTY allocation");
      add_list(sub, "-e,--env", f.exec.env, "Set environment variables");
      sub.add_option("-u,--user", f.exec.user, "Run the command as this user");
      sub.add_option("-w,--workdir", f.exec.workdir, "Path to workdir directory for this command");
      sub.add_option("--index", f.exec.index,
                     "Index of the container if service has multiple replicas");
      sub.prefix_command();
      sub.fallthrough(false);
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
      f.sub = &sub;
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
      sub.prefix_command();
      sub.fallthrough(false);
    },
    run_one_off};

}  // namespace
}  // namespace kiln::cli
