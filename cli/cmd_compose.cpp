// `kiln compose ...`: the shared flags, project loading and `config`.
#include "cli/cmd_compose.h"

#include <sys/wait.h>
#include <unistd.h>

#include <iostream>

#include "compose/engine_local.h"
#include "support/error.h"

extern char** environ;

namespace kiln::cli {

std::vector<ComposeCommandSpec>& compose_command_registry() {
  static std::vector<ComposeCommandSpec> registry;
  return registry;
}

compose::Environment process_environment() {
  compose::Environment env;
  for (char** e = environ; e && *e; ++e) {
    llvm::StringRef entry(*e);
    auto [k, v] = entry.split('=');
    env.emplace(k.str(), v.str());
  }
  return env;
}

llvm::Expected<compose::Project> load_compose_project(const ComposeFlags& flags) {
  compose::LoadOptions options;
  options.files = flags.files;
  char cwd[4096];
  options.working_dir = ::getcwd(cwd, sizeof(cwd)) ? cwd : "/";
  options.project_directory = flags.project_directory;
  options.project_name = flags.project_name;
  options.env_files = flags.env_files;
  options.profiles = flags.profiles;
  options.environment = process_environment();
  return compose::load_project(
      options, [](const std::string& warning) { std::cerr << "WARN[0000] " << warning << "\n"; });
}

llvm::Expected<std::string> kiln_executable() {
  char buf[4096];
  ssize_t n = ::readlink("/proc/self/exe", buf, sizeof(buf) - 1);
  if (n <= 0) {
    return make_io_error("find", "/proc/self/exe", errno);
  }
  return std::string(buf, static_cast<size_t>(n));
}

llvm::Expected<std::unique_ptr<compose::Engine>> make_compose_engine(const GlobalOptions& globals) {
  std::string root = globals.root;
  return compose::make_local_engine(
      root, [root](const std::string& id) -> llvm::Expected<std::vector<std::string>> {
        auto self = kiln_executable();
        if (!self) {
          return self.takeError();
        }
        return std::vector<std::string>{*self, "--root", root, "container-monitor", id};
      });
}

llvm::Expected<ComposeSession> open_compose(const GlobalOptions& globals,
                                            const ComposeFlags& flags) {
  auto project = load_compose_project(flags);
  if (!project) {
    return project.takeError();
  }
  auto engine = make_compose_engine(globals);
  if (!engine) {
    return engine.takeError();
  }
  return ComposeSession{std::move(*project), std::move(*engine)};
}

PrintedComposeEvents::PrintedComposeEvents() : tty_(::isatty(2)) {}

void PrintedComposeEvents::status(const std::string& kind, const std::string& name,
                                  const std::string& status) {
  std::lock_guard lock(mu_);
  if (status == "Waiting" && !tty_) {
    std::cerr << " " << kind << " " << name << "  " << status << "\n";
    return;
  }
  if (status == "Waiting") {
    return;
  }
  const char* mark = status == "Error" ? " ✘ " : " ✔ ";
  std::cerr << (tty_ ? mark : " ") << kind << " " << name << "  " << status << "\n";
  std::cerr.flush();
}

void PrintedComposeEvents::warning(const std::string& message) {
  std::lock_guard lock(mu_);
  std::cerr << "WARN[0000] " << message << "\n";
}

llvm::Expected<int> run_kiln(const GlobalOptions& globals, const std::vector<std::string>& args) {
  auto self = kiln_executable();
  if (!self) {
    return self.takeError();
  }
  std::vector<std::string> argv = {*self, "--root", globals.root};
  argv.insert(argv.end(), args.begin(), args.end());
  pid_t pid = ::fork();
  if (pid < 0) {
    return make_io_error("fork", *self, errno);
  }
  if (pid == 0) {
    std::vector<char*> raw;
    for (auto& a : argv) {
      raw.push_back(a.data());
    }
    raw.push_back(nullptr);
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

namespace {

CommandBody setup_config(CLI::App& sub, const GlobalOptions&,
                         const std::shared_ptr<ComposeFlags>& flags) {
  auto services = std::make_shared<bool>(false);
  auto volumes = std::make_shared<bool>(false);
  auto quiet = std::make_shared<bool>(false);
  auto output = std::make_shared<std::string>();
  sub.add_flag("--services", *services, "Print the service names, one per line");
  sub.add_flag("--volumes", *volumes, "Print the volume names, one per line");
  sub.add_flag("-q,--quiet", *quiet, "Only validate the configuration, don't print anything");
  sub.add_option("-o,--output", *output, "Save to file (default to stdout)");
  return [=]() -> llvm::Expected<int> {
    auto project = load_compose_project(*flags);
    if (!project) {
      return project.takeError();
    }
    if (*quiet) {
      return 0;
    }
    std::string text;
    if (*services || *volumes) {
      const compose::Node* list = project->model.find(*services ? "services" : "volumes");
      for (const auto& entry : list ? list->entries : decltype(list->entries){}) {
        text += entry.first + "\n";
      }
    } else {
      text = compose::config_yaml(*project);
    }
    if (!output->empty()) {
      FILE* f = std::fopen(output->c_str(), "w");
      if (!f) {
        return make_io_error("open", *output, errno);
      }
      std::fwrite(text.data(), 1, text.size(), f);
      std::fclose(f);
      return 0;
    }
    std::cout << text;
    return 0;
  };
}

ComposeCommandRegistration config_reg{
    {"config", "Parse, resolve and render compose file in canonical format", setup_config}};

CommandBody setup_compose(CLI::App& sub, const GlobalOptions& globals) {
  auto flags = std::make_shared<ComposeFlags>();
  auto each = [](CLI::Option* o) { o->allow_extra_args(false); };
  each(sub.add_option("-f,--file", flags->files, "Compose configuration files"));
  sub.add_option("-p,--project-name", flags->project_name, "Project name");
  each(sub.add_option("--env-file", flags->env_files, "Specify an alternate environment file"));
  each(sub.add_option("--profile", flags->profiles, "Specify a profile to enable"));
  sub.add_option("--project-directory", flags->project_directory,
                 "Specify an alternate working directory (default: the first compose file's)");
  sub.require_subcommand(1);
  auto bodies = std::make_shared<std::vector<std::pair<CLI::App*, CommandBody>>>();
  for (auto& spec : compose_command_registry()) {
    CLI::App* child = sub.add_subcommand(spec.name, spec.description);
    bodies->emplace_back(child, spec.setup(*child, globals, flags));
  }
  return [bodies]() -> llvm::Expected<int> {
    for (auto& [child, body] : *bodies) {
      if (child->parsed()) {
        return body();
      }
    }
    return 1;
  };
}

CommandRegistration reg{
    {"compose", "Define and run multi-container applications", setup_compose, 30}};

}  // namespace
}  // namespace kiln::cli
