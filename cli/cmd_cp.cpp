// `kiln cp CONTAINER:SRC_PATH DEST_PATH | SRC_PATH CONTAINER:DEST_PATH`.
#include "cli/command.h"
#include "containers/container_cp.h"
#include "support/error.h"

namespace kiln::cli {
namespace {

struct CpFlags {
  std::vector<std::string> paths;
};

// "NAME:/path" -> {NAME, /path}; a host path has no ':' before its first '/'.
std::optional<std::pair<std::string, std::string>> container_part(llvm::StringRef text) {
  size_t colon = text.find(':');
  if (colon == llvm::StringRef::npos || colon == 0 || text.substr(0, colon).contains('/')) {
    return std::nullopt;
  }
  return std::make_pair(text.substr(0, colon).str(), text.substr(colon + 1).str());
}

llvm::Expected<int> run_cp(const GlobalOptions& globals, const CpFlags& flags) {
  auto from = container_part(flags.paths[0]);
  auto to = container_part(flags.paths[1]);
  if (bool(from) == bool(to)) {
    return llvm::make_error<UsageError>(
        "copying between containers or between host paths is not supported; "
        "one of the paths must be CONTAINER:PATH");
  }
  auto store = containers::ContainerStore::open(globals.root);
  if (!store) {
    return store.takeError();
  }
  const auto& part = from ? *from : *to;
  auto id = store->resolve(part.first);
  if (!id) {
    return id.takeError();
  }
  if (auto err =
          containers::copy_files(*store, *id, part.second, from ? flags.paths[1] : flags.paths[0],
                                 from ? containers::CopyDirection::from_container
                                      : containers::CopyDirection::to_container)) {
    return std::move(err);
  }
  return 0;
}

CommandBody setup_cp(CLI::App& sub, const GlobalOptions& globals) {
  auto flags = std::make_shared<CpFlags>();
  sub.add_option("SRC DEST", flags->paths,
                 "CONTAINER:SRC_PATH DEST_PATH or SRC_PATH CONTAINER:DEST_PATH")
      ->required()
      ->expected(2);
  return [flags, &globals]() { return run_cp(globals, *flags); };
}

CommandRegistration reg{
    {"cp", "Copy files/folders between a container and the local filesystem", setup_cp, 24}};

}  // namespace
}  // namespace kiln::cli
