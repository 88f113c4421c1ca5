#include "compose/session.h"

#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <iostream>
#include <sstream>

#include "compose/engine_local.h"
#include "compose/ops.h"
#include "containers/container_monitor.h"
#include "support/error.h"

extern char** environ;

namespace kiln::compose {

Environment process_environment() {
  Environment env;
  for (char** e = environ; e && *e; ++e) {
    auto [k, v] = llvm::StringRef(*e).split('=');
    env.emplace(k.str(), v.str());
  }
  return env;
}

llvm::Expected<Project> load_project_here(LoadOptions options, const WarnFn& warn) {
  char cwd[4096];
  options.working_dir = ::getcwd(cwd, sizeof(cwd)) ? cwd : "/";
  options.environment = process_environment();
  if (std::find(options.files.begin(), options.files.end(), "-") != options.files.end()) {
    std::stringstream in;
    in << std::cin.rdbuf();
    options.stdin_text = in.str();
  }
  return load_project(options, warn);
}

llvm::Expected<int> run_kiln(const std::string& root, const std::vector<std::string>& args) {
  auto self = containers::kiln_executable();
  if (!self) {
    return self.takeError();
  }
  std::vector<std::string> argv = {*self, "--root", root};
  argv.insert(argv.end(), args.begin(), args.end());
  std::vector<char*> raw;
  for (auto& a : argv) {
    raw.push_back(a.data());
  }
  raw.push_back(nullptr);
  pid_t pid = ::fork();
  if (pid < 0) {
    return make_io_error("fork", *self, errno);
  }
  if (pid == 0) {
    ::execv(raw[0], raw.data());
    ::_exit(127);
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (WIFEXITED(status)) {
    return WEXITSTATUS(status);
  }
  return 128 + (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
}

llvm::Expected<Session> open_session(const std::string& root, const LoadOptions& options,
                                     const WarnFn& warn) {
  auto project = load_project_here(options, warn);
  if (!project) {
    return project.takeError();
  }
  auto engine = make_local_engine(
      root, [root](const std::string& id) -> llvm::Expected<std::vector<std::string>> {
        auto self = containers::kiln_executable();
        if (!self) {
          return self.takeError();
        }
        return std::vector<std::string>{*self, "--root", root, containers::kMonitorCommand, id};
      });
  if (!engine) {
    return engine.takeError();
  }
  return Session{std::move(*project), root, std::move(*engine)};
}

std::vector<std::string> exec_args(const ExecOptions& options, const std::string& id) {
  std::vector<std::string> args = {"exec"};
  if (options.detach) {
    args.push_back("-d");
  }
  if (options.tty) {
    args.push_back("-it");
  } else if (!options.detach) {
    args.push_back("-i");
  }
  for (const auto& e : options.env) {
    args.insert(args.end(), {"-e", e});
  }
  if (!options.user.empty()) {
    args.insert(args.end(), {"-u", options.user});
  }
  if (!options.workdir.empty()) {
    args.insert(args.end(), {"-w", options.workdir});
  }
  args.push_back(id);
  args.insert(args.end(), options.command.begin(), options.command.end());
  return args;
}

llvm::Expected<int> exec_in_service(Session& session, const ExecOptions& options) {
  auto container =
      service_container(*session.engine, session.project, options.service, options.index);
  if (!container) {
    return container.takeError();
  }
  return run_kiln(session.root, exec_args(options, container->id));
}

}  // namespace kiln::compose
