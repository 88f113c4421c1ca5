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
  /// What this build is called in its progress ("[NAME 2/3] RUN ...") and in the
  /// error of a step that fails it ("target 'NAME': ..."), e.g. a compose
  /// service in build_many(); may be empty (a plain `kiln build`).
  std::string name;
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

/// Whether `a` and `b` may be built in one solve by build_many(): the same
/// store, executor, solve-wide options (--no-cache, --no-cache-filter, --pull,
/// --network, --jobs, registry flags, secrets, ssh agents, named build contexts,
/// SOURCE_DATE_EPOCH), at most one platform each, and neither with a cache
/// import or export (--cache-from/--cache-to: each export would be written
/// from the whole solve's steps, so such a build gets a solve of its own).
bool can_share_solve(const BuildRequest& a, const BuildRequest& b);

/// Builds every request in ONE graph and ONE solve, as `docker buildx bake`
/// builds its targets: each request keeps its own context, Dockerfile, target,
/// build args, labels, tags and outputs, and steps two requests share (by
/// digest: same base, same instruction, same inputs) run once. Then each
/// image is assembled, stored, exported and pushed in request order; the
/// results are in request order. `events` gets one begin() and one finish();
/// progress names carry the requests' names ("[web 2/3] RUN ...", "[web,api
/// 1/2] FROM ..." for a step both need). The first failing step cancels the
/// rest of the solve (as bake does) and is returned with its Dockerfile lines,
/// named after the first request that needs it. Fails with a UsageError when
/// two requests cannot share a solve (can_share_solve()). SIGINT and SIGTERM
/// cancel the whole solve. Without --jobs, as many RUN containers run at once as
/// one per CPU per request (what each had in a solve of its own). One step
/// history for the whole solve (cache-miss explanations compare with the last
/// solve of the same requests, not with a lone build of one of them).
llvm::Expected<std::vector<BuildResult>> build_many(const std::vector<BuildRequest>& requests,
                                                    BuildEvents& events);

}  // namespace kiln::builder
