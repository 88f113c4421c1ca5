// `kiln commit [-a AUTHOR] [-m MESSAGE] [-c CHANGE]... [-p] CONTAINER [REPOSITORY[:TAG]]`:
// the container's file system changes become a new layer on its image, with the
// container's configuration, like `docker commit`. Prints the new image ID.
#include <iostream>

#include "cli/command.h"
#include "containers/container_commit.h"

namespace kiln::cli {
namespace {

llvm::Expected<int> run_commit(const GlobalOptions& globals,
                               const containers::CommitOptions& flags) {
  auto id = containers::commit_container(globals.root, flags);
  if (!id) {
    return id.takeError();
  }
  std::cout << id->str() << "\n";
  return 0;
}

CommandBody setup_commit(CLI::App& sub, const GlobalOptions& globals) {
  auto flags = std::make_shared<containers::CommitOptions>();
  sub.add_option("-a,--author", flags->author,
                 "Author (e.g., \"John Hannibal Smith <hannibal@a-team.com>\")");
  sub.add_option("-m,--message", flags->message, "Commit message");
  sub.add_option("-c,--change", flags->changes, "Apply Dockerfile instruction to the created image")
      ->allow_extra_args(false);
  sub.add_flag("-p,--pause,!--no-pause", flags->pause, "Pause container during commit");
  sub.add_option("container", flags->container, "CONTAINER")->required();
  sub.add_option("reference", flags->reference, "[REPOSITORY[:TAG]]");
  return [flags, &globals]() { return run_commit(globals, *flags); };
}

CommandRegistration reg{
    {"commit", "Create a new image from a container's changes", setup_commit, 24}};

}  // namespace
}  // namespace kiln::cli
