// kiln's entry point: parses the command line, runs one subcommand, prints its
// error (the only place that prints errors) and maps it to an exit code.
#include <unistd.h>

#include <algorithm>
#include <iostream>
#include <map>
#include <tuple>

#include "cache/store_root.h"
#include "cli/command.h"
#include "support/error.h"
#include "support/trace.h"

namespace kiln::cli {

namespace {

// --help with a fixed "Usage:" line.
class UsageFormatter : public CLI::Formatter {
 public:
  explicit UsageFormatter(std::string usage) : usage_(std::move(usage)) {}
  std::string make_usage(const CLI::App* /*app*/, std::string /*name*/) const override {
    return "Usage: " + usage_ + "\n";
  }

 private:
  std::string usage_;
};

// The first argument that is not one of kiln's global options: the command.
std::string command_word(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--root") {
      ++i;
      continue;
    }
    if (!arg.empty() && arg[0] == '-') {
      continue;
    }
    return arg;
  }
  return "";
}

}  // namespace

void set_usage(CLI::App& sub, std::string usage) {
  sub.formatter(std::make_shared<UsageFormatter>(std::move(usage)));
}

CLI::App* as_prefix_command(CLI::App& sub) {
  sub.prefix_command();
  sub.fallthrough(false);
  return &sub;
}

llvm::Expected<std::vector<std::string>> words_after_flags(const CLI::App& sub, size_t min) {
  std::vector<std::string> rest = sub.remaining();
  if (!rest.empty() && rest.front() == "--") {
    rest.erase(rest.begin());
  } else if (!rest.empty() && llvm::StringRef(rest.front()).startswith("-")) {
    return llvm::make_error<UsageError>("unknown flag: " + rest.front());
  }
  if (rest.size() < min) {
    std::string path = sub.get_name();
    for (const CLI::App* parent = sub.get_parent(); parent; parent = parent->get_parent()) {
      path = parent->get_name() + " " + path;
    }
    return llvm::make_error<UsageError>("\"" + path + "\" requires at least " +
                                        std::to_string(min) +
                                        (min == 1 ? " argument" : " arguments"));
  }
  return rest;
}

std::vector<CommandSpec>& command_registry() {
  static std::vector<CommandSpec> registry;
  return registry;
}

CommandGroup::CommandGroup(std::string name, std::string description, int order,
                           std::function<void(CLI::App& sub)> declare) {
  auto setup = [declare](CLI::App& sub, const GlobalOptions&) -> CommandBody {
    sub.require_subcommand(1);
    if (declare) {
      declare(sub);
    }
    return {};
  };
  command_registry().push_back({std::move(name), std::move(description), setup, order});
}

}  // namespace kiln::cli

int main(int argc, char** argv) {
  using namespace kiln::cli;
  kiln::trace("main");
  CLI::App app{"kiln: a daemonless container image builder", "kiln"};
  app.require_subcommand(1);
  app.fallthrough();
  GlobalOptions globals;
  std::string root_flag;
  app.add_option("--root", root_flag, "Store root (default: $KILN_ROOT or /var/lib/kiln)");
  app.add_flag("-D,--debug", globals.debug, "Print debug output");

  // Groups before their verbs, then in the order of `kiln --help` (by name within one
  // order, as docker lists its commands).
  auto& registry = command_registry();
  auto depth = [](const CommandSpec& s) { return std::count(s.name.begin(), s.name.end(), ' '); };
  std::stable_sort(registry.begin(), registry.end(), [&](const auto& a, const auto& b) {
    return std::tuple(depth(a), a.order, a.name) < std::tuple(depth(b), b.order, b.name);
  });
  std::map<std::string, CLI::App*> apps = {{"", &app}};
  std::vector<std::pair<CLI::App*, CommandBody>> bodies;
  for (auto& spec : registry) {
    size_t space = spec.name.rfind(' ');
    std::string parent = space == std::string::npos ? "" : spec.name.substr(0, space);
    CLI::App* sub = apps.at(parent)->add_subcommand(spec.name.substr(space + 1), spec.description);
    apps[spec.name] = sub;
    if (CommandBody body = spec.setup(*sub, globals)) {
      bodies.emplace_back(sub, std::move(body));
    }
  }
  // docker: an unknown command is named, not "A subcommand is required".
  if (std::string word = command_word(argc, argv); !word.empty()) {
    if (!apps.count(word)) {
      std::cerr << "kiln: '" << word << "' is not a kiln command.\nSee 'kiln --help'\n";
      return 1;
    }
  }
  // Callbacks may read globals.root; fill it after parsing, before running.
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int code = app.exit(e);
    return code == 0 ? 0 : 1;
  }
  globals.root = kiln::cache::store_root(root_flag);  // flag, environment, default
  for (auto& [sub, body] : bodies) {  // one body: a group has none, a verb's group is parsed too
    if (sub->parsed()) {
      auto result = body();
      if (!result) {
        return print_error(result.takeError(), std::cerr);
      }
      return *result;
    }
  }
  return 1;
}
