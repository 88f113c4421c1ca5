// `docker commit` without a daemon: a container's file system changes become a
// new layer on its image, with the container's configuration.
#pragma once

#include <string>
#include <vector>

#include <llvm/ADT/StringRef.h>
#include <llvm/Support/Error.h>

#include "containers/container_store.h"
#include "support/digest.h"

namespace kiln::containers {

/// What to commit and how.
struct CommitOptions {
  std::string author;
  std::string message;
  /// Dockerfile instructions applied to the new config (CMD, ENTRYPOINT, ENV,
  /// EXPOSE, LABEL, STOPSIGNAL, USER, WORKDIR).
  std::vector<std::string> changes;
  /// Pause a running container while its layer is copied.
  bool pause = true;
  /// The container's name or (short) ID.
  std::string container;
  /// The new image's name; empty for none.
  std::string reference;
};

/// Stores the container's changes as a new image in the kiln root `root` and
/// names it `options.reference`. Returns the image ID. A bad change or
/// reference is a UsageError.
llvm::Expected<Digest> commit_container(llvm::StringRef root, const CommitOptions& options);

}  // namespace kiln::containers
