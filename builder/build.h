// kiln's build, from a parsed Dockerfile to a stored image: lower it, solve the
// graph with the scheduler over the store (running RUN steps through an OCI
// runtime), assemble the image, write the outputs, push, write the metadata.
// Nothing here prints: progress, warnings and cache explanations are
// BuildEvents for cli/ to show.
#pragma once

#include <map>
#include <string>
#include <vector>

#include <llvm/Support/Error.h>

#include "builder/build_cache.h"
#include "builder/build_events.h"
#include "exporter/registry_store.h"
#include "frontend/instructions.h"
#include "frontend/lower.h"
#include "runtime/executor.h"

namespace kiln::builder {

/// What `kiln build` was asked beyond the Dockerfile and the lowering options.
struct BuildOptions {
  std::string context;
  /// The Dockerfile's path ("-" for stdin), for `<Dockerfile>.dockerignore`.
  std::string dockerfile_path;
  std::vector<std::string> tags;
  bool no_cache = false;
  std::vector<std::string> no_cache_filter;
  std::vector<std::string> outputs;
  std::string iidfile;
  std::string metadata_file;
  std::vector<std::string> labels;
  std::vector<std::string> secrets;
  /// --ssh: "default" (the agent at $SSH_AUTH_SOCK) or "ID[=SOCKET]".
  std::vector<std::string> ssh;
  std::vector<std::string> build_contexts;
  std::string network;
  unsigned jobs = 0;
  /// --pull: re-resolve every base image in its registry.
  bool pull = false;
  /// --push: upload the image under every -t name.
  bool push = false;
  exporter::RegistryFlags registry;
  /// --cache-to, --cache-from, --explain-cache.
  CacheFlags cache;
  /// --platform values ("linux/amd64,linux/arm64" or one each). Several platforms
  /// make an image index; one other than the host's an image of that platform.
  std::vector<std::string> platforms;
};

/// One build.
struct BuildRequest {
  /// The kiln root (store) to build in.
  std::string root;
  /// The parsed Dockerfile; borrowed for the call.
  const frontend::Dockerfile* dockerfile = nullptr;
  frontend::LowerOptions lower;
  BuildOptions options;
  /// Runs the RUN steps; borrowed. Null: the OCI runtime KILN_OCI_RUNTIME names
  /// (runc when unset).
  runtime::Executor* executor = nullptr;
};

/// The stored image.
struct BuildResult {
  /// The image ID (its config's digest; the index digest for several platforms).
  Digest config_digest;
  /// The manifest's digest, or the image index's for several platforms.
  Digest manifest_digest;
};

/// Builds `request.dockerfile` into the store at `request.root`, reporting to
/// `events`. SIGINT and SIGTERM cancel the build while it solves. Fails with the
/// first error: a UsageError for bad options, a SourceError at the Dockerfile
/// lines of a failed step (after events.step_failed()), a CancelledError.
llvm::Expected<BuildResult> build(const BuildRequest& request, BuildEvents& events);

}  // namespace kiln::builder
