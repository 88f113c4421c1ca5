// Sources: images from the local store (unpacked into snapshots), local
// directories, and the content digests of paths that COPY and bind mounts read.
#include <sys/stat.h>

#include "cache/layer_blobs.h"
#include "solver/ops/op_impl.h"
#include "support/error.h"
#include "support/fs.h"
#include "support/trace.h"

namespace kiln::solver::ops {

llvm::Expected<core::ResultPtr> commit_layer(const SolveContext& ctx,
                                             cache::MutableSnapshot& snapshot) {
  trace("commit_layer: unmount");
  if (auto err = snapshot.unmount()) {
    return err;
  }
  trace("commit_layer: pack");
  auto diff = snapshot.diff_dir();
  if (!diff) {
    return diff.takeError();
  }
  auto layer = cache::store_layer(ctx.content, *ctx.db, *diff, detail::layer_pack_options(ctx));
  if (!layer) {
    return layer.takeError();
  }
  trace("commit_layer: commit");
  auto chain = snapshot.commit(layer->diff_id);
  if (!chain) {
    return chain.takeError();
  }
  trace("commit_layer: done");
  return std::make_shared<const SnapshotResult>(*chain);
}

namespace detail {

cache::PackOptions layer_pack_options(const SolveContext& ctx) {
  cache::PackOptions pack;
  pack.compression = ctx.options.compression;
  pack.source_date_epoch = ctx.options.source_date_epoch;
  return pack;
}

llvm::Expected<core::ResultPtr> exec_image(const SolveContext& ctx, const llb::ImageSource& op) {
  if (!ctx.images) {
    return make_error("no image store to resolve " + quote(op.ref));
  }
  auto image = ctx.images->stored_image(op.ref, op.platform);
  if (!image) {
    return image.takeError();
  }
  if (image->layers.empty()) {
    return std::make_shared<const SnapshotResult>(std::nullopt);
  }
  auto chain = ctx.snapshots.unpack_chain(image->layers);
  if (!chain) {
    return with_context(chain.takeError(), "unpack " + quote(op.ref));
  }
  for (size_t i = 0; i < image->layers.size(); ++i) {
    auto c = cache::compression_of_media_type(image->media_types[i]);
    auto size = ctx.content.size(image->blob_digests[i]);
    if (!size) {
      return size.takeError();
    }
    if (auto err = ctx.db->record_layer(image->layers[i].diff_id, cache::compression_name(c),
                                        {image->blob_digests[i], *size})) {
      return err;
    }
  }
  return std::make_shared<const SnapshotResult>(chain->back());
}

llvm::Expected<core::ResultPtr> exec_local(const SolveContext& ctx, const llb::LocalSource& op) {
  if (ctx.locals.find(op.name) == ctx.locals.end()) {
    return make_error("no local directory named " + quote(op.name) +
                      " was given to the build (--build-context " + op.name + "=DIR)");
  }
  return std::make_shared<const LocalResult>(op.name);
}

namespace {

/// `paths` without the wildcards that match nothing (COPY with several sources).
llvm::Expected<std::vector<std::string>> drop_empty(cache::ContextHasher& hasher,
                                                    const std::vector<std::string>& paths) {
  std::vector<std::string> out;
  for (const auto& p : paths) {
    if (p.find_first_of("*?[") == std::string::npos) {
      out.push_back(p);
      continue;
    }
    auto matches = hasher.resolve(p);
    if (!matches) {
      return matches.takeError();
    }
    if (!matches->empty()) {
      out.push_back(p);
    }
  }
  return out;
}

llvm::Expected<Digest> checksum(cache::ContextHasher& hasher, const std::vector<std::string>& paths,
                                bool allow_empty) {
  std::vector<std::string> selected = paths;
  if (allow_empty) {
    auto kept = drop_empty(hasher, paths);
    if (!kept) {
      return kept.takeError();
    }
    selected = std::move(*kept);
  }
  return hasher.checksum(selected);
}

/// Says when a missing context path exists but .dockerignore excluded it.
llvm::Error explain_missing(llvm::Error err, const LocalDir& dir,
                            const std::vector<std::string>& paths) {
  for (const auto& p : paths) {
    std::string rel = cache::clean_context_path(p);
    struct stat st {};
    if (!rel.empty() && ::lstat(fs::join(dir.path, rel).c_str(), &st) == 0 && dir.filter &&
        !dir.filter(rel, S_ISDIR(st.st_mode))) {
      llvm::consumeError(std::move(err));
      return make_error("failed to compute cache key: " + quote(rel) +
                        " not found: excluded by .dockerignore");
    }
  }
  return err;
}

llvm::Expected<Digest> mounted_checksum(const SolveContext& ctx, const SnapshotResult& fs,
                                        const std::vector<std::string>& paths, bool allow_empty);

/// The kiln.db key under which the checksum of `paths` in snapshot `chain` is
/// remembered: a snapshot never changes, so neither does the checksum, and a
/// rebuild needs no mount (unmounting an overlay can take a quarter second).
Digest checksum_memo_key(const std::optional<Digest>& chain, const std::vector<std::string>& paths,
                         bool allow_empty) {
  // v2: symlinks resolve inside the snapshot (v1 memos may hold checksums of
  // host files that a link in the snapshot pointed at).
  std::string text = "kiln.snapshot-checksum.v2\n" + (chain ? chain->str() : "scratch") + "\n";
  text += allow_empty ? "allow-empty\n" : "\n";
  for (const auto& p : paths) {
    text += p + '\0';
  }
  return Digest::of(text);
}

llvm::Expected<Digest> snapshot_checksum(const SolveContext& ctx, const SnapshotResult& fs,
                                         const std::vector<std::string>& paths, bool allow_empty) {
  Digest memo = checksum_memo_key(fs.chain(), paths, allow_empty);
  if (ctx.db) {
    auto known = ctx.db->load_key(memo);
    if (!known) {
      return known.takeError();
    }
    if (*known && (*known)->chain) {
      return *(*known)->chain;
    }
  }
  auto sum = mounted_checksum(ctx, fs, paths, allow_empty);
  if (sum && ctx.db) {
    if (auto err = ctx.db->save_key(memo, cache::CachedStep{*sum})) {
      return std::move(err);
    }
  }
  return sum;
}

llvm::Expected<Digest> mounted_checksum(const SolveContext& ctx, const SnapshotResult& fs,
                                        const std::vector<std::string>& paths, bool allow_empty) {
  auto snap = ctx.snapshots.create_mutable(fs.chain());
  if (!snap) {
    return snap.takeError();
  }
  auto mnt = fs::make_temp_dir(fs::join(ctx.root, "tmp"), "hash-");
  if (!mnt) {
    return mnt.takeError();
  }
  llvm::Expected<Digest> sum = make_error("unreachable");
  if (auto err = snap->mount(*mnt)) {
    llvm::consumeError(sum.takeError());
    sum = std::move(err);
  } else {
    llvm::consumeError(sum.takeError());
    cache::ContextHasher hasher(*mnt, {});
    sum = checksum(hasher, paths, allow_empty);
  }
  llvm::consumeError(snap->drop());
  ::rmdir(mnt->c_str());
  return sum;
}

}  // namespace

core::ContentDigestFn content_of(const SolveContext& ctx, std::vector<std::string> paths,
                                 bool allow_empty) {
  return [&ctx, paths = std::move(paths),
          allow_empty](const core::ResultPtr& input) -> llvm::Expected<Digest> {
    if (auto* local = dynamic_cast<const LocalResult*>(input.get())) {
      LocalDir& dir = *ctx.locals.at(local->name());
      std::lock_guard lock(dir.mu);
      auto known = dir.sums.find({paths, allow_empty});
      if (known != dir.sums.end()) {
        return known->second;
      }
      auto sum = checksum(dir.hasher, paths, allow_empty);
      if (!sum) {
        return explain_missing(sum.takeError(), dir, paths);
      }
      dir.sums.emplace(std::make_pair(paths, allow_empty), *sum);
      return sum;
    }
    if (auto* snap = dynamic_cast<const SnapshotResult*>(input.get())) {
      return snapshot_checksum(ctx, *snap, paths, allow_empty);
    }
    return make_error("internal: content digest of an unknown result kind");
  };
}

}  // namespace detail
}  // namespace kiln::solver::ops
