// `kiln create [OPTIONS] IMAGE [COMMAND] [ARG...]`: creates a container as `run`
// does, without starting it (`kiln start` does), and prints its ID.
#include <iostream>

#include "cli/command.h"
#include "cli/create_flags.h"
#include "cli/image_pull.h"
#include "containers/container_create.h"
#include "support/error.h"

namespace kiln::cli {
namespace {

CommandBody setup_create(CLI::App& sub, const GlobalOptions& globals) {
  auto flags = std::make_shared<containers::CreateFlags>();
  add_create_flags(sub, *flags);
  set_usage(sub, "kiln create [OPTIONS] IMAGE [COMMAND] [ARG...]");
  return [flags, &sub, &globals]() -> llvm::Expected<int> {
    auto rest = image_and_command(sub, "create");
    if (!rest) {
      return rest.takeError();
    }
    flags->image_and_command = std::move(*rest);
    auto store = containers::ContainerStore::open(globals.root);
    if (!store) {
      return store.takeError();
    }
    if (auto err = pull_if_missing(globals, flags->image_and_command.front())) {
      return std::move(err);
    }
    auto spec = containers::create_container(
        *store, *flags, [](const std::string& warning) { std::cerr << warning << "\n"; });
    if (!spec) {
      return spec.takeError();
    }
    std::cout << spec->id << "\n";
    return 0;
  };
}

CommandRegistration reg{{"create", "Create a new container", setup_create, 19}};

}  // namespace
}  // namespace kiln::cli
