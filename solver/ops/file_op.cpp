// File ops (COPY, ADD, WORKDIR's mkdir, COPY <<EOF): the actions applied in order
// on a mutable snapshot of input 0; copies read other inputs.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <map>
#include <set>
#include <thread>

#include "cache/layer_blobs.h"
#include "solver/ops/file_copy.h"
#include "solver/ops/op_impl.h"
#include "solver/ops/scoped_mounts.h"
#include "support/atomic_file.h"
#include "support/error.h"
#include "support/fs.h"
#include "support/trace.h"

namespace kiln::solver::ops::detail {

llvm::Expected<core::CacheMap> file_cache_map(const SolveContext& ctx, const llb::Vertex& v) {
  const auto& op = std::get<llb::FileOp>(v.op());
  core::CacheMap map;
  map.op_digest = op_key_digest(v, ctx);
  map.deps.resize(v.inputs().size());
  // Every input a copy reads enters the key by the checksum of what it reads.
  std::map<uint32_t, std::vector<std::string>> reads;
  std::map<uint32_t, bool> allow_empty;
  for (const auto& action : op.actions) {
    if (auto* copy = std::get_if<llb::CopyAction>(&action)) {
      auto& paths = reads[copy->src_input];
      paths.insert(paths.end(), copy->src_paths.begin(), copy->src_paths.end());
      allow_empty[copy->src_input] = copy->allow_empty_wildcard;
    }
  }
  for (auto& [input, paths] : reads) {
    if (input == 0 || input >= map.deps.size()) {
      continue;
    }
    Sha256 sel;
    for (const auto& p : paths) {
      sel.field("path", p);
    }
    map.deps[input].selector = sel.finish();
    map.deps[input].content = content_of(ctx, paths, allow_empty[input]);
  }
  return map;
}

namespace {

/// The host directory and rules a copy reads input `index` with.
llvm::Expected<CopySource> source_of(const SolveContext& ctx, const core::ResultPtr& input,
                                     ScopedMounts& mounts) {
  if (auto* local = dynamic_cast<const LocalResult*>(input.get())) {
    const LocalDir& dir = *ctx.locals.at(local->name());
    return CopySource{dir.path, dir.filter, false};
  }
  auto dir = mounts.mount_snapshot(static_cast<const SnapshotResult&>(*input));
  if (!dir) {
    return dir.takeError();
  }
  return CopySource{*dir, {}, true};
}

llvm::Error apply(const SolveContext& ctx, const llb::FileAction& action, const std::string& rootfs,
                  const std::vector<core::ResultPtr>& inputs, ScopedMounts& mounts,
                  std::map<uint32_t, CopySource>& sources) {
  if (auto* copy = std::get_if<llb::CopyAction>(&action)) {
    auto it = sources.find(copy->src_input);
    if (it == sources.end()) {
      auto src = source_of(ctx, inputs.at(copy->src_input), mounts);
      if (!src) {
        return src.takeError();
      }
      it = sources.emplace(copy->src_input, std::move(*src)).first;
    }
    return apply_copy(it->second, rootfs, *copy);
  }
  if (auto* mkdir = std::get_if<llb::MkdirAction>(&action)) {
    return apply_mkdir(rootfs, *mkdir);
  }
  if (auto* mkfile = std::get_if<llb::MkfileAction>(&action)) {
    return apply_mkfile(rootfs, *mkfile);
  }
  if (auto* rm = std::get_if<llb::RmAction>(&action)) {
    return apply_rm(rootfs, *rm);
  }
  return apply_symlink(rootfs, std::get<llb::SymlinkAction>(action));
}

/// The result of a linkable copy: its link layer (`layer`, made by the helper
/// vertex; null when that failed) laid over the base (input 0), or nullopt when
/// the copy must be applied to the base instead because it writes where the
/// base has something (see SnapshotStore::lay_over()).
llvm::Expected<std::optional<core::ResultPtr>> link_copy(const SolveContext& ctx,
                                                         const llb::CopyAction& copy,
                                                         const SnapshotResult& base,
                                                         const core::ResultPtr& layer) {
  const auto* made = dynamic_cast<const SnapshotResult*>(layer.get());
  if (!made || !made->chain()) {
    return std::nullopt;
  }
  trace("link layer: lay over");
  auto laid = ctx.snapshots.lay_over(*made->chain(), base.chain(), copy.dest);
  if (!laid) {
    return laid.takeError();
  }
  if (!*laid) {
    return std::nullopt;
  }
  return std::optional<core::ResultPtr>(std::make_shared<const SnapshotResult>(**laid));
}

/// The kiln.db key naming the last link layer made for the op `op_digest`
/// (whatever it copied), whose files a new one may share.
Digest last_link_layer_key(const Digest& op_digest) {
  Sha256 h;
  h.field("kiln.last-link-layer", "v1");
  h.field("op", op_digest.str());
  return h.finish();
}

/// ROOT/snapshots/<chain>/sources: the regular files of a link layer and the
/// content digests of the context files they were copied from, one per line
/// ("<digest hex> <path in the layer>").
std::string sources_file(const SolveContext& ctx, const Digest& chain) {
  return ctx.snapshots.fs_dir(chain) + "/../sources";
}

/// Loads into `reuse` the last link layer recorded under `key`, if it is still
/// there with its sources file.
llvm::Error load_last_link_layer(const SolveContext& ctx, const Digest& key, CopyReuse& reuse) {
  auto last = ctx.db->load_key(key);
  if (!last) {
    return last.takeError();
  }
  if (!*last || !(*last)->chain || !ctx.snapshots.contains(*(*last)->chain)) {
    return llvm::Error::success();
  }
  auto text = fs::read_file(sources_file(ctx, *(*last)->chain));
  if (!text) {
    llvm::consumeError(text.takeError());  // none: nothing to share
    return llvm::Error::success();
  }
  llvm::StringRef rest(*text);
  while (!rest.empty()) {
    auto [line, tail] = rest.split('\n');
    rest = tail;
    auto [hex, path] = line.split(' ');
    auto digest = Digest::parse("sha256:" + hex.str());
    if (!digest || path.empty()) {
      llvm::consumeError(digest ? llvm::Error::success() : digest.takeError());
      reuse.prev.clear();  // damaged: share nothing
      return llvm::Error::success();
    }
    reuse.prev.emplace(path.str(), *digest);
  }
  reuse.prev_root = ctx.snapshots.fs_dir(*(*last)->chain);
  return llvm::Error::success();
}

/// Writes the sources file of link layer `chain` and records it as the last
/// one under `key`.
llvm::Error save_last_link_layer(const SolveContext& ctx, const Digest& key, const Digest& chain,
                                 const CopyReuse& reuse) {
  std::string text;
  for (const auto& [path, digest] : reuse.made) {
    if (path.find('\n') == std::string::npos) {
      text += digest.hex() + " " + path + "\n";
    }
  }
  if (auto err = write_file_atomic(sources_file(ctx, chain), text)) {
    return err;
  }
  return ctx.db->save_key(key, cache::CachedStep{chain});
}

/// The op digest of the link layer of `v`: the copy, and whether it reads a
/// local directory or a file system.
Digest link_layer_op_digest(const SolveContext& ctx, const llb::Vertex& v,
                            const llb::CopyAction& copy) {
  const llb::Vertex& src = *v.inputs().at(copy.src_input);
  Sha256 op;
  op.field("kiln.link-layer", "v1");
  op.field("op", op_key_digest(v, ctx).str());
  op.field("source", std::holds_alternative<llb::LocalSource>(src.op()) ? "local" : "snapshot");
  return op.finish();
}

}  // namespace

const llb::CopyAction* linkable_copy(const llb::FileOp& op) {
  if (op.actions.size() != 1) {
    return nullptr;
  }
  const auto* copy = std::get_if<llb::CopyAction>(&op.actions[0]);
  if (!copy || copy->src_input == 0 || !copy->chown.user.empty() || !copy->chown.group.empty() ||
      !llvm::StringRef(copy->dest).startswith("/")) {
    return nullptr;
  }
  return copy;
}

llvm::Expected<core::CacheMap> link_layer_cache_map(const SolveContext& ctx, const llb::Vertex& v) {
  const llb::CopyAction& copy = *linkable_copy(std::get<llb::FileOp>(v.op()));
  core::CacheMap map;
  map.op_digest = link_layer_op_digest(ctx, v, copy);
  Sha256 sel;
  for (const auto& p : copy.src_paths) {
    sel.field("path", p);
  }
  map.deps.push_back({sel.finish(), content_of(ctx, copy.src_paths, copy.allow_empty_wildcard)});
  return map;
}

llvm::Expected<core::ResultPtr> exec_link_layer(const SolveContext& ctx, const llb::Vertex& v,
                                                const core::ExecContext& ec,
                                                const core::ResultPtr& source) {
  const llb::CopyAction& copy = *linkable_copy(std::get<llb::FileOp>(v.op()));
  ScopedMounts mounts(ctx);
  auto tmp = mounts.temp_dir("copy-");
  if (!tmp) {
    return tmp.takeError();
  }
  auto lock = FileLock::acquire(*tmp, LockMode::exclusive,
                                LockTarget::directory);  // keeps remove_stale() off it
  if (!lock) {
    return lock.takeError();
  }
  std::string rootfs = *tmp + "/fs";
  if (::mkdir(rootfs.c_str(), 0755) != 0) {
    return make_io_error("create directory", rootfs, errno);
  }
  auto src = source_of(ctx, source, mounts);
  if (!src) {
    return src.takeError();
  }
  Digest last_key = last_link_layer_key(link_layer_op_digest(ctx, v, copy));
  CopyReuse reuse;
  if (const auto* local = dynamic_cast<const LocalResult*>(source.get())) {
    reuse.stat_cache = ctx.locals.at(local->name())->stat_cache;
  }
  if (reuse.stat_cache && !ctx.options.no_cache && !ignores_cache(v, ctx)) {
    if (auto err = load_last_link_layer(ctx, last_key, reuse)) {
      return std::move(err);
    }
  }
  trace("link layer: copy");
  if (ec.cancel().cancelled()) {
    return llvm::make_error<CancelledError>();
  }
  if (auto err = apply_copy(*src, rootfs, copy, &reuse)) {
    return std::move(err);
  }
  if (ec.cancel().cancelled()) {
    return llvm::make_error<CancelledError>();
  }
  trace("link layer: copied (" + llvm::Twine(reuse.linked) + " files shared with the last one)");
  // The copied files reach the disk (as an overlay unmount would make them)
  // while the layer is packed, before the snapshot is recorded.
  int fd = ::open(rootfs.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) {
    return make_io_error("open", rootfs, errno);
  }
  int sync_errno = 0;
  std::thread syncer([fd, &sync_errno] { sync_errno = ::syncfs(fd) == 0 ? 0 : errno; });
  auto layer = cache::store_layer(ctx.content, *ctx.db, rootfs, layer_pack_options(ctx));
  syncer.join();
  ::close(fd);
  if (!layer) {
    return layer.takeError();
  }
  if (sync_errno != 0) {
    return make_io_error("sync", rootfs, sync_errno);
  }
  trace("link layer: packed");
  auto chain = ctx.snapshots.add_dir(rootfs, std::nullopt, layer->diff_id);
  if (!chain) {
    return chain.takeError();
  }
  if (reuse.stat_cache) {
    if (auto err = save_last_link_layer(ctx, last_key, *chain, reuse)) {
      return std::move(err);
    }
  }
  return std::make_shared<const SnapshotResult>(*chain);
}

llvm::Expected<core::ResultPtr> exec_file(const SolveContext& ctx, const llb::Vertex& v,
                                          const core::ExecContext& ec,
                                          const std::vector<core::ResultPtr>& inputs) {
  const auto& op = std::get<llb::FileOp>(v.op());
  // With a helper (a link layer), the inputs end with its result.
  const llb::CopyAction* copy = linkable_copy(op);
  if (copy && inputs.size() == v.inputs().size() + 1) {
    const auto& base = static_cast<const SnapshotResult&>(*inputs.at(0));
    auto linked = link_copy(ctx, *copy, base, inputs.back());
    if (!linked) {
      return linked.takeError();
    }
    if (*linked) {
      return std::move(**linked);
    }
  }
  ScopedMounts mounts(ctx);
  const auto& base = static_cast<const SnapshotResult&>(*inputs.at(0));
  std::string rootfs;
  auto snap = mounts.mount_step_rootfs(base, rootfs);
  if (!snap) {
    return snap.takeError();
  }
  trace("exec_file: mounted");
  std::map<uint32_t, CopySource> sources;
  for (const auto& action : op.actions) {
    if (ec.cancel().cancelled()) {
      return llvm::make_error<CancelledError>();
    }
    if (auto err = apply(ctx, action, rootfs, inputs, mounts, sources)) {
      return err;
    }
  }
  return commit_layer(ctx, *snap);
}

}  // namespace kiln::solver::ops::detail
