// `kiln login [-u USER] [-p PASS | --password-stdin] [SERVER]` and `kiln logout
// [SERVER]`: credentials in docker's config.json (mode 0600, written atomically),
// verified against the registry's /v2/ before they are saved.

#include <unistd.h>

#include <iostream>

#include "cli/command.h"
#include "cli/registry_store.h"
#include "registry/auth.h"
#include "support/error.h"

namespace kiln::cli {
namespace {

struct LoginFlags {
  std::string server = "docker.io";
  std::string username;
  std::string password;
  bool password_stdin = false;
  RegistryFlags registry;
};

std::string read_line(std::istream& in, llvm::StringRef prompt) {
  if (!prompt.empty() && isatty(STDIN_FILENO)) {
    std::cout << prompt.str() << std::flush;
  }
  std::string line;
  std::getline(in, line);
  return llvm::StringRef(line).rtrim("\r\n").str();
}

llvm::Expected<int> run_login(const LoginFlags& flags) {
  std::string domain = registry::server_domain(flags.server);
  registry::Credentials creds{flags.username, flags.password, ""};
  if (flags.password_stdin) {
    if (!flags.password.empty()) {
      return llvm::make_error<UsageError>("--password and --password-stdin are mutually exclusive");
    }
    if (flags.username.empty()) {
      return llvm::make_error<UsageError>("must provide --username with --password-stdin");
    }
    std::string all(std::istreambuf_iterator<char>(std::cin), {});
    creds.password = llvm::StringRef(all).rtrim("\r\n").str();
  }
  if (creds.username.empty()) {
    creds.username = read_line(std::cin, "Username: ");
  }
  if (creds.password.empty() && !flags.password_stdin) {
    creds.password = read_line(std::cin, "Password: ");
  }
  if (creds.username.empty() || creds.password.empty()) {
    return llvm::make_error<UsageError>("username and password are required");
  }
  if (llvm::Error err = exporter::log_in(flags.registry, domain, creds)) {
    return std::move(err);
  }
  std::cout << "Login Succeeded\n";
  return 0;
}

CommandBody setup_login(CLI::App& sub, const GlobalOptions&) {
  auto flags = std::make_shared<LoginFlags>();
  sub.add_option("SERVER", flags->server, "Registry (default docker.io)");
  sub.add_option("-u,--username", flags->username, "Username");
  sub.add_option("-p,--password", flags->password, "Password");
  sub.add_flag("--password-stdin", flags->password_stdin, "Take the password from stdin");
  add_registry_flags(sub, flags->registry);
  return [flags]() { return run_login(*flags); };
}

CommandBody setup_logout(CLI::App& sub, const GlobalOptions&) {
  auto server = std::make_shared<std::string>("docker.io");
  sub.add_option("SERVER", *server, "Registry (default docker.io)");
  return [server]() -> llvm::Expected<int> {
    std::string domain = registry::server_domain(*server);
    llvm::Expected<bool> erased =
        registry::erase_credentials(registry::default_docker_config_path(), domain);
    if (!erased) {
      return with_context(erased.takeError(), "logout " + quote(domain));
    }
    if (*erased) {
      std::cout << "Removing login credentials for " << registry::config_key(domain) << "\n";
    } else {
      std::cout << "Not logged in to " << registry::config_key(domain) << "\n";
    }
    return 0;
  };
}

CommandRegistration login_reg{{"login", "Log in to a registry", setup_login, 42}};
CommandRegistration logout_reg{{"logout", "Log out from a registry", setup_logout, 43}};

}  // namespace
}  // namespace kiln::cli
