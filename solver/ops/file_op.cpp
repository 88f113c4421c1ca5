// File ops (COPY, ADD, WORKDIR's mkdir, COPY <<EOF): the actions applied in order
// on a mutable snapshot of input 0; copies read other inputs.
#include <map>
#include <set>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <thread>

#include "cache/layer_blobs.h"
#include "solver/ops/file_copy.h"
#include "solver/ops/op_impl.h"
#include "solver/ops/scoped_mounts.h"
#include "support/error.h"
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

/// The one copy of a file op that may be made apart from its base, as a layer of
/// its own (a "link layer", as BuildKit makes for `COPY --link`): a single
/// COPY/ADD from another input to an absolute path, whose owner needs no lookup
/// in the base's /etc/passwd. Null otherwise.
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

/// Makes the link layer of `copy` (its files copied into an empty directory) as
/// a one-layer snapshot, with its blob, and returns the snapshot's chain ID.
llvm::Expected<Digest> make_link_layer(const SolveContext& ctx, const llb::CopyAction& copy,
                                       const std::vector<core::ResultPtr>& inputs) {
  ScopedMounts mounts(ctx);
  auto tmp = mounts.temp_dir("copy-");
  if (!tmp) {
    return tmp.takeError();
  }
  auto lock = cache::DirLock::acquire(*tmp);  // keeps remove_stale() off it
  if (!lock) {
    return lock.takeError();
  }
  std::string rootfs = *tmp + "/fs";
  if (::mkdir(rootfs.c_str(), 0755) != 0) {
    return make_io_error("create directory", rootfs, errno);
  }
  auto source = source_of(ctx, inputs.at(copy.src_input), mounts);
  if (!source) {
    return source.takeError();
  }
  trace("link layer: copy");
  if (auto err = apply_copy(*source, rootfs, copy)) {
    return std::move(err);
  }
  trace("link layer: pack");
  // The copied files reach the disk (as an overlay unmount would make them)
  // while the layer is packed, before the snapshot is recorded.
  int fd = ::open(rootfs.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) {
    return make_io_error("open", rootfs, errno);
  }
  int sync_errno = 0;
  std::thread syncer([fd, &sync_errno] { sync_errno = ::syncfs(fd) == 0 ? 0 : errno; });
  cache::PackOptions pack;
  pack.compression = ctx.options.compression;
  pack.source_date_epoch = ctx.options.source_date_epoch;
  auto layer = cache::store_layer(ctx.content, *ctx.db, rootfs, pack);
  syncer.join();
  ::close(fd);
  if (!layer) {
    return layer.takeError();
  }
  if (sync_errno != 0) {
    return make_io_error("sync", rootfs, sync_errno);
  }
  trace("link layer: packed");
  return ctx.snapshots.add_dir(rootfs, std::nullopt, layer->diff_id);
}

/// The result of a linkable copy laid over its base (input 0), making or reusing
/// its link layer; nullopt when the copy must be applied to the base instead
/// (what it writes is not new to the base: see SnapshotStore::lay_over()).
/// The link layer is keyed by the op and the checksum of what it copies, not by
/// the base, so an unchanged COPY after a changed step costs no copy at all.
llvm::Expected<std::optional<core::ResultPtr>> link_copy(
    const SolveContext& ctx, const llb::Vertex& v, const llb::CopyAction& copy,
    const std::vector<core::ResultPtr>& inputs) {
  const auto& base = static_cast<const SnapshotResult&>(*inputs.at(0));
  auto clear = ctx.snapshots.absent_or_empty_dir(base.chain(), copy.dest);
  if (!clear || !*clear) {
    return clear ? llvm::Expected<std::optional<core::ResultPtr>>(std::nullopt) : clear.takeError();
  }
  const core::ResultPtr& src = inputs.at(copy.src_input);
  auto content = content_of(ctx, copy.src_paths, copy.allow_empty_wildcard)(src);
  if (!content) {
    return content.takeError();
  }
  Sha256 h;
  h.field("kiln.link-layer", "v1");
  h.field("op", op_key_digest(v, ctx).str());
  h.field("content", content->str());
  h.field("source", dynamic_cast<const LocalResult*>(src.get()) ? "local" : "snapshot");
  Digest key = h.finish();
  std::optional<Digest> layer;
  auto known = ctx.db->load_key(key);
  if (!known) {
    return known.takeError();
  }
  const auto& m = v.metadata();
  bool reuse = !ctx.options.no_cache && !m.ignore_cache &&
               ctx.options.no_cache_stages.count(m.progress_group) == 0;
  if (reuse && *known && (*known)->chain && ctx.snapshots.contains(*(*known)->chain)) {
    layer = *(*known)->chain;
  } else {
    auto made = make_link_layer(ctx, copy, inputs);
    if (!made) {
      return made.takeError();
    }
    if (auto err = ctx.db->save_key(key, cache::CachedStep{*made})) {
      return std::move(err);
    }
    layer = *made;
  }
  trace("link layer: lay over");
  auto laid = ctx.snapshots.lay_over(*layer, base.chain());
  trace("link layer: laid over");
  if (!laid) {
    return laid.takeError();
  }
  if (!*laid) {
    return std::nullopt;
  }
  return std::optional<core::ResultPtr>(std::make_shared<const SnapshotResult>(**laid));
}

}  // namespace

llvm::Expected<core::ResultPtr> exec_file(const SolveContext& ctx, const llb::Vertex& v,
                                          const core::ExecContext& ec,
                                          const std::vector<core::ResultPtr>& inputs) {
  const auto& op = std::get<llb::FileOp>(v.op());
  if (const llb::CopyAction* copy = linkable_copy(op); copy && ctx.db) {
    auto linked = link_copy(ctx, v, *copy, inputs);
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
