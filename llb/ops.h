// The operations of the build graph: sources, exec and file ops, as plain data.
// Everything in an op enters the vertex digest unless its comment says otherwise.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "support/digest.h"

namespace kiln::llb {

/// An image from a registry or the local store. `ref` is the normalized reference
/// ("docker.io/library/alpine:3.20"); `config_digest` is filled when the frontend
/// already resolved the image's config (so the key pins exactly that image).
struct ImageSource {
  std::string ref;
  std::optional<Digest> config_digest;
  /// "os/arch[/variant]", e.g. "linux/amd64".
  std::string platform = "linux/amd64";
};

/// A local directory given to the build (the context, or a named build context).
struct LocalSource {
  /// "context", "dockerfile" or a `--build-context` name.
  std::string name;
  /// .dockerignore-style patterns; empty include means everything.
  std::vector<std::string> include_patterns;
  std::vector<std::string> exclude_patterns;
  /// Paths the consumer will read; lets the hasher skip the rest (may be empty).
  std::vector<std::string> follow_paths;
};

/// The empty file system.
struct ScratchSource {};

/// A file fetched over HTTP(S) (ADD https://...).
struct HttpSource {
  std::string url;
  /// Expected content digest (ADD --checksum); when set it also identifies the content.
  std::optional<Digest> checksum;
  /// Name of the file in the output; empty means taken from the URL.
  std::string filename;
  /// Permissions of the file; unset means 0600 like BuildKit.
  std::optional<uint32_t> chmod;
  /// The request's User-Agent header (ADD --user-agent); "" means kiln's own. Never
  /// holds a control character (the lowering refuses them).
  std::string user_agent;
};

/// A git repository's tree at one commit (ADD https://host/repo.git#ref:subdir, or the
/// query form `?ref=…&subdir=…&checksum=…&keep-git-dir=…`). The solver resolves `ref`
/// to a commit with the real `git` binary; the commit (not the ref) keys the cache.
struct GitSource {
  /// The remote as git takes it ("https://host/repo.git", "git@host:repo.git",
  /// "ssh://…", "git://…"), without the fragment and query.
  std::string remote;
  /// Branch, tag, full ref ("refs/tags/v1") or commit; empty means the remote's HEAD.
  std::string ref;
  /// Directory of the repository that becomes the root of the output; empty: all.
  std::string subdir;
  /// ADD --checksum / `?checksum=`: a hex prefix the resolved commit (or the
  /// annotated tag) must have.
  std::string checksum;
  /// Keep the `.git` directory (ADD --keep-git-dir).
  bool keep_git_dir = false;
};

/// What a mount brings into an exec.
enum class MountKind { rootfs, bind, cache, tmpfs, secret, ssh };

/// How concurrent builds share a cache mount.
enum class CacheSharing { shared, private_, locked };

/// One mount of an exec. Which fields matter depends on `kind`:
/// rootfs/bind use `input` + `selector` + `readonly`; cache uses `cache_id`,
/// `sharing`, `input` (its seed, optional) and uid/gid/mode; tmpfs uses `tmpfs_size`;
/// secret and ssh use `secret_id`, `required`, uid/gid/mode.
struct Mount {
  MountKind kind = MountKind::bind;
  /// Absolute path inside the container ("/" for rootfs).
  std::string target = "/";
  /// Index into the vertex's inputs; unset for tmpfs, secret, ssh and unseeded caches.
  std::optional<uint32_t> input;
  /// Path inside the input that is mounted ("/" for all of it).
  std::string selector = "/";
  bool readonly = false;
  std::string cache_id;
  CacheSharing sharing = CacheSharing::shared;
  /// Bytes; 0 means the kernel's default.
  uint64_t tmpfs_size = 0;
  std::string secret_id;
  /// secret: also expose the secret in this environment variable; with an empty
  /// `target` the secret is only in the environment.
  std::string secret_env;
  bool required = false;
  uint32_t uid = 0;
  uint32_t gid = 0;
  uint32_t mode = 0755;
};

/// Network a RUN step sees.
enum class NetworkMode { unset, host, none };
/// Whether the container is confined (sandbox) or gets all capabilities.
enum class SecurityMode { sandbox, insecure };

/// Runs a process. The output is the rootfs mount after the process exits.
struct ExecOp {
  std::vector<std::string> args;
  /// "KEY=value" in order of definition.
  std::vector<std::string> env;
  std::string cwd = "/";
  /// "user[:group]" or numeric; empty means root.
  std::string user;
  /// The first mount is the rootfs (kind rootfs, input 0).
  std::vector<Mount> mounts;
  NetworkMode network = NetworkMode::unset;
  SecurityMode security = SecurityMode::sandbox;
  /// HTTP_PROXY and friends: given to the process but, like BuildKit, kept out of
  /// the digest so a proxy change does not invalidate the cache.
  std::map<std::string, std::string> proxy_env;
  /// "os/arch[/variant]" the process runs as when it is not the build platform
  /// (through an emulator); "" for the build platform. In the digest only when set,
  /// so the digests of native steps do not change.
  std::string platform;
};

/// Owner of created files: numeric ids, or names resolved against /etc/passwd and
/// /etc/group of the destination when the op runs.
struct Chown {
  std::optional<uint32_t> uid;
  std::optional<uint32_t> gid;
  std::string user;
  std::string group;
  bool empty() const { return !uid && !gid && user.empty() && group.empty(); }
};

/// Copies files from an input into the file op's base (COPY and ADD semantics).
struct CopyAction {
  /// Index into the vertex's inputs of the source file system.
  uint32_t src_input = 1;
  /// Source paths inside the input, in order; may contain wildcards.
  std::vector<std::string> src_paths;
  /// Destination; a trailing '/' means "into this directory".
  std::string dest;
  bool follow_symlinks = true;
  /// Copy a directory's contents rather than the directory itself.
  bool dir_contents_only = true;
  bool allow_wildcard = true;
  /// A wildcard matching nothing is fine (COPY with other sources).
  bool allow_empty_wildcard = false;
  bool create_dest_path = true;
  Chown chown;
  /// Octal ("0755") or symbolic ("u+x,g-w") as written; empty keeps source modes.
  std::string chmod;
  std::vector<std::string> include_patterns;
  std::vector<std::string> exclude_patterns;
  /// COPY --parents: keep the source's parent directories.
  bool parents = false;
  /// ADD: unpack local tar archives into `dest`.
  bool unpack_archives = false;
  bool always_replace_existing_dir_with_file = false;
};

/// Creates a directory.
struct MkdirAction {
  std::string path;
  uint32_t mode = 0755;
  bool make_parents = true;
  Chown chown;
};

/// Creates a file with `data`.
struct MkfileAction {
  std::string path;
  std::string data;
  uint32_t mode = 0644;
  Chown chown;
};

/// Removes a path.
struct RmAction {
  std::string path;
  bool allow_not_found = false;
  bool allow_wildcard = false;
};

/// Creates a symlink at `path` pointing to `target`.
struct SymlinkAction {
  std::string target;
  std::string path;
};

using FileAction = std::variant<CopyAction, MkdirAction, MkfileAction, RmAction, SymlinkAction>;

/// Ordered file actions on input 0 (the base); copies read other inputs.
struct FileOp {
  std::vector<FileAction> actions;
};

/// Any operation of the graph.
using Op =
    std::variant<ImageSource, LocalSource, ScratchSource, HttpSource, ExecOp, FileOp, GitSource>;

/// Short name of the op kind: "image", "local", "scratch", "http", "exec", "file", "git".
const char* op_kind(const Op& op);

}  // namespace kiln::llb
