// `kiln exec [-d] [-i] [-t] [-e K=V] [-u USER] [-w DIR] CONTAINER COMMAND [ARG...]`
// (runs a process in a running container: kiln becomes the OCI runtime's `exec`,
// which joins the container's namespaces and passes on stdio, signals and the
// exit code) and `kiln logs [-f] [--tail N] [-t] CONTAINER`.
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <iostream>

#include "cli/command.h"
#include "containers/container_log.h"
#include "containers/container_store.h"
#include "runtime/container_control.h"
#include "runtime/user.h"
#include "support/error.h"

namespace kiln::cli {

using containers::container_runtime;
using containers::ContainerStatus;
using containers::ContainerStore;
using containers::LogReadOptions;
using containers::print_logs;

namespace {

struct ExecFlags {
  bool detach = false;
  bool interactive = false;
  bool tty = false;
  std::vector<std::string> env;
  std::string user;
  std::string workdir;
};

// "K" without a value takes kiln's own value, as docker does (and is dropped when unset).
std::vector<std::string> exec_env(const std::vector<std::string>& flags) {
  std::vector<std::string> out;
  for (const std::string& e : flags) {
    if (e.find('=') != std::string::npos) {
      out.push_back(e);
    } else if (const char* value = std::getenv(e.c_str())) {
      out.push_back(e + "=" + value);
    }
  }
  return out;
}

void redirect_to_null(std::initializer_list<int> fds) {
  int null_fd = ::open("/dev/null", O_RDWR | O_CLOEXEC);
  if (null_fd < 0) {
    return;
  }
  for (int fd : fds) {
    ::dup2(null_fd, fd);
  }
  ::close(null_fd);
}

llvm::Expected<int> run_exec(const GlobalOptions& globals, const ExecFlags& flags,
                             const std::vector<std::string>& rest) {
  auto store = ContainerStore::open(globals.root);
  if (!store) {
    return store.takeError();
  }
  auto id = store->resolve(rest.front());
  if (!id) {
    return id.takeError();
  }
  auto state = store->current_state(*id);
  if (!state) {
    return state.takeError();
  }
  if (state->status != ContainerStatus::running || !store->has_runner(*id)) {
    return make_error("container " + *id + " is not running");
  }
  runtime::ExecRequest request;
  request.args.assign(rest.begin() + 1, rest.end());
  request.env = exec_env(flags.env);
  request.cwd = flags.workdir;
  request.tty = flags.tty;
  if (!flags.user.empty()) {
    auto user = runtime::resolve_user_in_rootfs(store->paths(*id).rootfs(), flags.user);
    if (!user) {
      return user.takeError();
    }
    request.user = *user;
  }
  auto control = runtime::ContainerControl::open(container_runtime(store->root()));
  if (!control) {
    return control.takeError();
  }
  std::vector<std::string> argv = control->exec_argv(*id, request);
  if (flags.detach) {
    // runc exec --detach: the process keeps no stdio of ours.
    argv.insert(std::find(argv.begin(), argv.end(), "exec") + 1, "--detach");
    redirect_to_null({0, 1, 2});
  } else if (!flags.interactive) {
    redirect_to_null({0});
  }
  std::vector<char*> args;
  for (auto& a : argv) {
    args.push_back(a.data());
  }
  args.push_back(nullptr);
  std::cout.flush();
  ::execv(args[0], args.data());
  return make_io_error("run", argv[0], errno);
}

CommandBody setup_exec(CLI::App& sub, const GlobalOptions& globals) {
  auto flags = std::make_shared<ExecFlags>();
  sub.add_flag("-d,--detach", flags->detach, "Detached mode: run command in the background");
  sub.add_flag("-i,--interactive", flags->interactive, "Keep STDIN open");
  sub.add_flag("-t,--tty", flags->tty, "Allocate a pseudo-TTY");
  sub.add_option("-e,--env", flags->env, "Set environment variables")->allow_extra_args(false);
  sub.add_option("-u,--user", flags->user, "Username or UID (format: <name|uid>[:<group|gid>])");
  sub.add_option("-w,--workdir", flags->workdir, "Working directory inside the container");
  sub.prefix_command();
  sub.fallthrough(false);
  return [flags, &sub, &globals]() -> llvm::Expected<int> {
    std::vector<std::string> rest = sub.remaining();
    if (!rest.empty() && rest.front() == "--") {
      rest.erase(rest.begin());
    } else if (!rest.empty() && llvm::StringRef(rest.front()).startswith("-")) {
      return llvm::make_error<UsageError>("unknown flag: " + rest.front());
    }
    if (rest.size() < 2) {
      return llvm::make_error<UsageError>("\"kiln exec\" requires at least 2 arguments");
    }
    return run_exec(globals, *flags, rest);
  };
}

CommandBody setup_logs(CLI::App& sub, const GlobalOptions& globals) {
  auto name = std::make_shared<std::string>();
  auto options = std::make_shared<LogReadOptions>();
  auto tail = std::make_shared<std::string>("all");
  sub.add_flag("-f,--follow", options->follow, "Follow log output");
  sub.add_option("-n,--tail", *tail, "Number of lines to show from the end of the logs");
  sub.add_flag("-t,--timestamps", options->timestamps, "Show timestamps");
  sub.add_option("container", *name, "CONTAINER")->required();
  return [name, options, tail, &globals]() -> llvm::Expected<int> {
    if (*tail != "all") {
      size_t n = 0;
      if (llvm::StringRef(*tail).getAsInteger(10, n)) {
        return llvm::make_error<UsageError>("invalid --tail " + quote(*tail));
      }
      options->tail = n;
    }
    auto store = ContainerStore::open(globals.root);
    if (!store) {
      return store.takeError();
    }
    auto id = store->resolve(*name);
    if (!id) {
      return id.takeError();
    }
    if (auto state = store->current_state(*id); !state) {
      return state.takeError();
    }
    std::string log = store->paths(*id).log();
    if (auto err = print_logs(log, *options, [&] { return store->has_runner(*id); })) {
      return err;
    }
    return 0;
  };
}

CommandRegistration exec_reg{{"exec", "Execute a command in a running container", setup_exec, 22}};
CommandRegistration logs_reg{{"logs", "Fetch the logs of a container", setup_logs, 22}};

}  // namespace
}  // namespace kiln::cli
