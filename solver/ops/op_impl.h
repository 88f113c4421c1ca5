// Internal to solver/ops: the per-kind cache maps and execs behind OpVertex.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "llb/definition.h"
#include "solver/core/vertex.h"
#include "solver/ops/solve_context.h"
#include "support/temp_file.h"

namespace kiln::solver::ops::detail {

/// The digest that stands for the op itself in cache keys: its canonical bytes
/// plus what of the build options changes its output (SOURCE_DATE_EPOCH).
Digest op_key_digest(const llb::Vertex& vertex, const SolveContext& ctx);

/// Whether step `v` must run even when cached (its own flag, or `--no-cache-filter`
/// naming its stage).
bool ignores_cache(const llb::Vertex& v, const SolveContext& ctx);

/// How the steps' layers are packed: the build's compression and
/// SOURCE_DATE_EPOCH.
cache::PackOptions layer_pack_options(const SolveContext& ctx);

/// A content digest function over `paths` (wildcards allowed) of an input that is
/// a local directory or a snapshot.
core::ContentDigestFn content_of(const SolveContext& ctx, std::vector<std::string> paths,
                                 bool allow_empty);

// source_ops.cpp
llvm::Expected<core::ResultPtr> exec_image(const SolveContext& ctx, const llb::ImageSource& op);
llvm::Expected<core::ResultPtr> exec_local(const SolveContext& ctx, const llb::LocalSource& op);

// http_source.cpp
/// A file downloaded for ADD from a URL, waiting under ROOT/tmp (removed with
/// this object when no step took it).
struct HttpDownload {
  ScratchDir dir;  // under ROOT/tmp, holding `file`
  std::string file;
  Digest digest;
  /// The server's Last-Modified, in Unix seconds.
  std::optional<int64_t> mtime;
};
/// Downloads `op.url` (checked against `op.checksum` when set). `cancel` may be null.
llvm::Expected<std::shared_ptr<HttpDownload>> download_http(const SolveContext& ctx,
                                                            const llb::HttpSource& op,
                                                            const CancelToken* cancel);
/// The cache key of the http source: its content, file name, mode and time.
Digest http_cache_key(const llb::HttpSource& op, const Digest& content,
                      std::optional<int64_t> mtime);
/// Lays `download` as the one file of a new snapshot on scratch.
llvm::Expected<core::ResultPtr> exec_http(const SolveContext& ctx, const llb::HttpSource& op,
                                          const HttpDownload& download);

// git_source.cpp
/// What a git source's ref resolved to.
struct GitResolved {
  /// The commit (hex, 40 or 64 digits).
  std::string commit;
  /// The annotated tag's object when the ref is one, else "".
  std::string tag;
  /// The full ref name the remote listed ("refs/tags/v1", "HEAD"); "" when the
  /// ref named a commit.
  std::string ref_name;
};
/// Resolves `op.ref` to a commit: a whole commit name as it is, else through
/// `git ls-remote`; checks ADD --checksum. Errors in BuildKit's words
/// ("repository does not contain ref …", "expected checksum to match …").
llvm::Expected<GitResolved> resolve_git(const llb::GitSource& op, const CancelToken* cancel);
/// The cache key of a git source: the commit, the subdirectory, keep-git-dir.
Digest git_cache_key(const llb::GitSource& op, const std::string& commit);
/// Fetches `resolved` into the store's mirror of the remote (ROOT/git/) and checks
/// it out (its subdirectory, .git removed unless kept) as a snapshot on scratch.
llvm::Expected<core::ResultPtr> exec_git(const SolveContext& ctx, const llb::GitSource& op,
                                         const GitResolved& resolved, const CancelToken* cancel);

// exec_op.cpp
llvm::Expected<core::CacheMap> exec_cache_map(const SolveContext& ctx, const llb::Vertex& v);
llvm::Expected<core::ResultPtr> exec_run(const SolveContext& ctx, const llb::Vertex& v,
                                         const core::ExecContext& ec,
                                         const std::vector<core::ResultPtr>& inputs);

// file_op.cpp
llvm::Expected<core::CacheMap> file_cache_map(const SolveContext& ctx, const llb::Vertex& v);
llvm::Expected<core::ResultPtr> exec_file(const SolveContext& ctx, const llb::Vertex& v,
                                          const core::ExecContext& ec,
                                          const std::vector<core::ResultPtr>& inputs);

/// The copy of a file op that can be made apart from its base as a layer of its
/// own (a link layer, as BuildKit makes for `COPY --link`): the op's only
/// action, a COPY/ADD from another input to an absolute path whose `--chown`
/// needs no lookup in the base's /etc/passwd. Null otherwise.
const llb::CopyAction* linkable_copy(const llb::FileOp& op);
/// The link layer of file op `v` (linkable_copy() must be non-null): keyed by
/// the op and the checksum of what it copies, not by the base.
llvm::Expected<core::CacheMap> link_layer_cache_map(const SolveContext& ctx, const llb::Vertex& v);
/// Makes the link layer of `v`: its copy into an empty directory, packed (with
/// its blob) and added as a one-layer snapshot. `source` is the copied input.
llvm::Expected<core::ResultPtr> exec_link_layer(const SolveContext& ctx, const llb::Vertex& v,
                                                const core::ExecContext& ec,
                                                const core::ResultPtr& source);

}  // namespace kiln::solver::ops::detail
