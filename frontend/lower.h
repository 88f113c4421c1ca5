// Lowering a parsed Dockerfile into the build graph, like BuildKit's
// dockerfile2llb: stages become subgraphs, metadata instructions become the
// image config each stage produces, and nothing runs.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include <llvm/Support/Error.h>

#include "frontend/instructions.h"
#include "llb/definition.h"
#include "oci/image_config.h"
#include "oci/types.h"
#include "support/digest.h"
#include "support/error.h"

namespace kiln::frontend {

/// What the lowering needs to know about a base image.
struct ImageMeta {
  /// The image config document as stored (its sha256 is the config digest).
  std::string config_json;
  /// The manifest digest the reference resolved to; pins the image source.
  Digest manifest_digest;
};

/// Resolves base images (FROM, COPY --from, RUN --mount from=) to their config.
/// The solver implements it over the store and registries; tests use a fake.
class ImageMetaResolver {
 public:
  virtual ~ImageMetaResolver() = default;
  /// Resolves the normalized reference `ref` ("docker.io/library/alpine:3.20") for
  /// `platform` ("linux/amd64"). Errors are returned to the caller, with the
  /// FROM line attached by the lowering.
  virtual llvm::Expected<ImageMeta> resolve(const std::string& ref,
                                            const std::string& platform) = 0;
};

/// One finding of a lint rule (BuildKit's rule names and texts).
struct LintWarning {
  /// "JSONArgsRecommended", "UndefinedVar", ...
  std::string rule;
  /// The rule's general description.
  std::string description;
  /// The rule's documentation page.
  std::string url;
  /// This finding's message, e.g. "JSON arguments recommended for CMD to ...".
  std::string detail;
  SourceRange range;
};

/// Options of one lowering.
struct LowerOptions {
  /// The platform the build runs on (BUILDPLATFORM), "os/arch[/variant]": the host's.
  std::string build_platform = oci::normalize_platform(oci::host_platform()).str();
  /// The platform the image is for (TARGETPLATFORM); "" means `build_platform`.
  /// Stages without `FROM --platform=` are built for it.
  std::string target_platform;
  /// Stage to build (case-insensitive); "" means the last stage.
  std::string target;
  /// --build-arg values; they override ARG defaults.
  std::map<std::string, std::string> build_args;
  /// Resolves base images; null means base images have an empty config and
  /// unpinned references (enough for --dump-llb without a store).
  ImageMetaResolver* resolver = nullptr;
  /// --build-context values by name: "docker-image://REF" for an image, anything
  /// else is a local directory (a LocalSource named after the context, which the
  /// solver maps to the path). They replace images and stages of other names that
  /// FROM, COPY --from and RUN --mount from= refer to.
  std::map<std::string, std::string> build_contexts;
  /// .dockerignore patterns, applied to the build context source.
  std::vector<std::string> context_excludes;
  /// The name of the build context's LocalSource (the solver maps it to a
  /// directory): "context", or another for the second context of a graph that
  /// lowers several Dockerfiles (lower_targets).
  std::string context_name = "context";
  /// Lower every stage, not only those the target needs (for --check).
  bool all_stages = false;
  /// When set, lowering-time lint findings (UndefinedVar, UndefinedArgInFrom,
  /// WorkdirRelativePath, JSONArgsRecommended) are appended here.
  std::vector<LintWarning>* lint = nullptr;
};

/// What one stage produced.
struct StageResult {
  /// The stage name as written after AS (lowercased), or "" when unnamed.
  std::string name;
  /// Position of the stage in the Dockerfile.
  int index = 0;
  /// The stage's final file system.
  const llb::Vertex* vertex = nullptr;
  /// The image config the stage's image gets (history included).
  oci::ImageConfig config;
};

/// The context paths one COPY/ADD (or bind mount) reads, for cache keys.
struct ContextRead {
  /// The file op or exec that reads them.
  const llb::Vertex* vertex = nullptr;
  /// Paths relative to the context root, as written after expansion ("src", "*.go").
  std::vector<std::string> paths;
};

/// The lowering's result. Owns the graph; the vertex pointers point into it.
struct LowerResult {
  llb::Definition definition;
  /// The lowered stages in Dockerfile order (only those the target needs, unless
  /// all_stages).
  std::vector<StageResult> stages;
  /// Index into `stages` of the target stage.
  size_t target = 0;
  std::vector<ContextRead> context_reads;
  /// --build-arg names no ARG consumed, sorted (docker warns about them).
  std::vector<std::string> unused_build_args;
};

/// The stages lowered for one target platform of a multi-platform lowering.
struct PlatformStages {
  /// The normalized target platform ("linux/arm64").
  std::string platform;
  std::vector<StageResult> stages;
  /// Index into `stages` of the target stage.
  size_t target = 0;
};

/// One graph for several target platforms: vertices that do not depend on the
/// target platform (the context, `FROM --platform=$BUILDPLATFORM` stages) appear
/// once, so one solve runs them once.
struct MultiLowerResult {
  llb::Definition definition;
  /// One entry per requested platform, in the order given.
  std::vector<PlatformStages> platforms;
  std::vector<ContextRead> context_reads;
  std::vector<std::string> unused_build_args;
};

/// Lowers `dockerfile` once per platform of `platforms` (each "os/arch[/variant]",
/// normalized) into one graph; `options.target_platform` is ignored. Fails as
/// lower(), or with a UsageError for an invalid platform.
llvm::Expected<MultiLowerResult> lower_platforms(const Dockerfile& dockerfile,
                                                 const LowerOptions& options,
                                                 const std::vector<std::string>& platforms);

/// One Dockerfile to lower with its options, for lower_targets().
struct LowerTarget {
  /// Names the target in its lowering's error ("target 'NAME': ..."); may be empty.
  std::string name;
  /// Borrowed for the call.
  const Dockerfile* dockerfile = nullptr;
  /// Its target platform is `options.target_platform` (or the build platform).
  LowerOptions options;
};

/// Lowers every target (each its own Dockerfile and options) into one graph:
/// identical vertices (a base image, a step two Dockerfiles share) appear once,
/// so one solve runs them once. `platforms[i]` of the result is target i's
/// stages. Fails as lower() for the first target that fails, naming it.
llvm::Expected<MultiLowerResult> lower_targets(const std::vector<LowerTarget>& targets);

/// Lowers `dockerfile` into a graph. Fails with a SourceError on the line at
/// fault (unknown target, bad stage index, circular stages, bad image reference,
/// bad expansion, ...). Thread-compatible: `options.resolver` is called from the
/// calling thread only.
llvm::Expected<LowerResult> lower(const Dockerfile& dockerfile, const LowerOptions& options);

}  // namespace kiln::frontend
