#include "cli/each_name.h"

#include <iostream>

#include "cli/print_error.h"

namespace kiln::cli {

int for_each_name(const std::vector<std::string>& names, EchoName echo,
                  const std::function<llvm::Error(const std::string& name)>& each) {
  int code = 0;
  for (const std::string& name : names) {
    if (llvm::Error err = each(name)) {
      std::cout.flush();
      code = print_error(std::move(err), std::cerr);
      continue;
    }
    if (echo == EchoName::yes) {
      std::cout << name << "\n";
      std::cout.flush();
    }
  }
  return code;
}

llvm::Expected<int> for_each_container(
    const GlobalOptions& globals, const std::vector<std::string>& names, EchoName echo,
    const std::function<llvm::Error(const containers::ContainerStore& store,
                                    const std::string& id)>& each) {
  auto store = containers::ContainerStore::open(globals.root);
  if (!store) {
    return store.takeError();
  }
  return for_each_name(names, echo, [&](const std::string& name) -> llvm::Error {
    auto id = store->resolve(name);
    return id ? each(*store, *id) : id.takeError();
  });
}

}  // namespace kiln::cli
