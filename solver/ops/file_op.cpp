// File ops (COPY, ADD, WORKDIR's mkdir, COPY <<EOF): the actions applied in order
// on a mutable snapshot of input 0; copies read other inputs.
#include <map>
#include <set>

#include "solver/ops/file_copy.h"
#include "solver/ops/op_impl.h"
#include "solver/ops/scoped_mounts.h"
#include "support/error.h"

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

}  // namespace

llvm::Expected<core::ResultPtr> exec_file(const SolveContext& ctx, const llb::Vertex& v,
                                          const core::ExecContext& ec,
                                          const std::vector<core::ResultPtr>& inputs) {
  const auto& op = std::get<llb::FileOp>(v.op());
  ScopedMounts mounts(ctx);
  const auto& base = static_cast<const SnapshotResult&>(*inputs.at(0));
  std::string rootfs;
  auto snap = mounts.mount_step_rootfs(base, rootfs);
  if (!snap) {
    return snap.takeError();
  }
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
