#include "builder/build_finish.h"

#include <algorithm>

#include <nlohmann/json.hpp>

#include "builder/build_platforms.h"
#include "builder/build_registry.h"
#include "cache/image_index.h"
#include "exporter/image_commit.h"
#include "exporter/outputs.h"
#include "oci/media_types.h"
#include "oci/reference.h"
#include "solver/ops/results.h"
#include "support/atomic_file.h"
#include "support/error.h"
#include "support/fs.h"
#include "support/trace.h"

namespace kiln::builder {

using exporter::parse_csv_kv;

std::vector<std::string> normalized_tags(const std::vector<std::string>& tags, llvm::Error& err) {
  std::vector<std::string> out;
  for (const auto& t : tags) {
    auto ref = oci::parse_reference(t);
    if (!ref) {
      err = with_context(ref.takeError(), "invalid tag " + quote(t));
      return {};
    }
    if (!ref->digest.empty()) {
      // The name would point at a digest the built image does not have.
      err = make_error("invalid tag " + quote(t) + ": a tag cannot contain a digest");
      return {};
    }
    out.push_back(ref->str());
  }
  return out;
}

std::vector<std::string> push_names(const BuildOptions& flags, const std::vector<std::string>& tags,
                                    llvm::Error& err) {
  std::vector<std::string> out;
  if (flags.push) {
    out = tags;
  }
  for (const auto& spec : flags.outputs) {
    auto kv = parse_csv_kv(spec);
    bool push = kv["type"] == "registry" || ((kv["type"] == "image" || kv["type"] == "moby") &&
                                             (kv["push"] == "true" || kv["push"] == "1"));
    if (!push) {
      continue;
    }
    std::vector<std::string> names;
    llvm::SmallVector<llvm::StringRef, 4> parts;
    llvm::StringRef(kv["name"]).split(parts, ';', -1, false);
    for (auto p : parts) {
      names.push_back(p.str());
    }
    auto normalized = normalized_tags(names.empty() ? flags.tags : names, err);
    if (err) {
      return {};
    }
    for (const auto& n : normalized) {
      if (std::find(out.begin(), out.end(), n) == out.end()) {
        out.push_back(n);
      }
    }
  }
  return out;
}

llvm::Error write_metadata(const BuildOptions& flags, const WrittenImage& built,
                           const std::vector<std::string>& names) {
  if (!flags.iidfile.empty()) {
    if (auto err = write_file_atomic(flags.iidfile, built.id.str())) {
      return err;
    }
  }
  if (!flags.metadata_file.empty()) {
    nlohmann::ordered_json j;
    j["containerimage.config.digest"] = built.id.str();
    j["containerimage.descriptor"] = {
        {"mediaType", built.media_type}, {"digest", built.digest.str()}, {"size", built.size}};
    j["containerimage.digest"] = built.digest.str();
    if (!names.empty()) {
      j["image.name"] = llvm::join(names, ",");
    }
    if (auto err = write_file_atomic(flags.metadata_file, j.dump(2) + "\n")) {
      return err;
    }
  }
  return llvm::Error::success();
}

llvm::Expected<BuildResult> finish_image(const FinishContext& fc, const BuildOptions& flags,
                                         const std::optional<Digest>& chain,
                                         oci::ImageConfig config,
                                         const std::vector<std::string>& names) {
  exporter::ImageAssembly assembly;
  assembly.chain = chain;
  assembly.config = std::move(config);
  for (const auto& l : flags.labels) {
    auto [k, v] = llvm::StringRef(l).split('=');
    assembly.config.config.labels[k.str()] = v.str();
  }
  llvm::Error push_err = llvm::Error::success();
  std::vector<std::string> to_push = push_names(flags, names, push_err);
  if (push_err) {
    return push_err;
  }
  // Built layers are kept uncompressed, like docker's image store; an image that
  // goes to a registry gets gzip layers (packed once, then reused).
  assembly.pack.compression = to_push.empty() ? cache::Compression::none : cache::Compression::gzip;
  assembly.exact_compression = !to_push.empty();
  assembly.pack.source_date_epoch = fc.epoch;
  assembly.source_date_epoch = fc.epoch;
  if (auto err = fc.build_cache.add_inline(assembly.config, chain, assembly.pack)) {
    return err;
  }
  exporter::AssembledImage image;
  {
    std::lock_guard lock(fc.store_mu);
    auto assembled = exporter::assemble_image(fc.store, fc.snapshots, fc.db, assembly);
    if (!assembled) {
      return assembled.takeError();
    }
    image = std::move(*assembled);
    auto lease = fc.store.content().lease(cache::LeaseMode::shared);
    if (!lease) {
      return lease.takeError();
    }
    auto added = fc.store.add(image.manifest_digest, names);
    if (!added) {
      return added.takeError();
    }
  }
  trace("image stored");
  fc.events.note("exporting to image", "writing image " + image.config_digest.str() + " done");
  for (const auto& n : names) {
    fc.events.note("naming to " + n, "");
  }
  for (const auto& out : flags.outputs) {
    if (auto err = exporter::write_output(out, fc.store, fc.store_mu, fc.snapshots, fc.root, image,
                                          chain, names)) {
      return err;
    }
  }
  if (auto err = fc.build_cache.export_all(chain)) {
    return err;
  }
  if (!to_push.empty()) {
    // The image is stored under its -t names; an output name= is added too, so a
    // later `kiln push NAME` finds it.
    {
      std::lock_guard lock(fc.store_mu);
      auto added = fc.store.add(image.manifest_digest, to_push);
      if (!added) {
        return added.takeError();
      }
    }
    auto pushed = push_built(fc.store, image.manifest_digest, to_push, flags.registry);
    if (!pushed) {
      return pushed.takeError();
    }
    for (const auto& p : *pushed) {
      fc.events.note("pushing manifest for " + p.name,
                     "pushed " + p.digest.str() + " (" + std::to_string(p.uploaded) +
                         " blobs uploaded, " + std::to_string(p.existed) + " already there)");
    }
  }
  WrittenImage written{image.config_digest, image.manifest.media_type, image.manifest_digest,
                       image.manifest_json.size()};
  if (auto err = write_metadata(flags, written, names)) {
    return err;
  }
  return BuildResult{image.config_digest, image.manifest_digest};
}

llvm::Expected<BuildResult> finish_platforms(
    const BuildRequest& request, const frontend::MultiLowerResult& lowered,
    const std::vector<solver::core::Solved>& solved, cache::ImageStore& store, std::mutex& store_mu,
    cache::SnapshotStore& snapshots, cache::BuildDb& db, BuildCache& build_cache,
    std::optional<int64_t> epoch, const std::vector<std::string>& names, BuildEvents& events) {
  const BuildOptions& flags = request.options;
  llvm::Error err = llvm::Error::success();
  std::vector<std::string> to_push = push_names(flags, names, err);
  PlatformsExport input{store, store_mu,     snapshots, db, {}, !to_push.empty(),
                        epoch, flags.labels, names,     {}};
  input.pack.compression = to_push.empty() ? cache::Compression::none : cache::Compression::gzip;
  input.pack.source_date_epoch = epoch;
  input.add_inline = [&build_cache](oci::ImageConfig& config, const std::optional<Digest>& chain,
                                    const cache::PackOptions& pack) {
    return build_cache.add_inline(config, chain, pack);
  };
  auto index = err ? llvm::Expected<BuiltIndex>(std::move(err))
                   : store_platform_images(input, lowered, solved);
  if (!index) {
    events.finish(false);
    return index.takeError();
  }
  events.note("exporting to image", "writing image index " + index->digest.str() + " done");
  for (const auto& n : names) {
    events.note("naming to " + n, "");
  }
  exporter::AssembledImage as_image;  // the index, for the archive outputs
  as_image.manifest.media_type = oci::media_type::kOciIndex.str();
  as_image.manifest_json = index->json;
  as_image.manifest_digest = as_image.config_digest = index->digest;
  for (const auto& out : flags.outputs) {
    auto kv = parse_csv_kv(out);
    bool per_platform = kv["type"] == "local" || !llvm::StringRef(out).contains('=');
    for (size_t i = 0; i < (per_platform ? lowered.platforms.size() : 1) && !err; ++i) {
      std::string spec = out;
      std::optional<Digest> chain;
      if (per_platform) {
        std::string sub = lowered.platforms[i].platform;
        std::replace(sub.begin(), sub.end(), '/', '_');
        std::string dest = kv.count("dest") ? kv["dest"] : out;
        spec = "type=local,dest=" + fs::join(dest, sub);
        chain = static_cast<const solver::ops::SnapshotResult&>(*solved[i].result).chain();
      } else if (kv["type"] == "tar") {
        // One tar, a directory per platform (BuildKit's multi-platform tar export).
        std::vector<exporter::PlatformTree> trees;
        for (size_t p = 0; p < lowered.platforms.size(); ++p) {
          std::string sub = lowered.platforms[p].platform;
          std::replace(sub.begin(), sub.end(), '/', '_');
          trees.push_back(
              {sub, static_cast<const solver::ops::SnapshotResult&>(*solved[p].result).chain()});
        }
        if (kv["dest"].empty()) {
          err = llvm::make_error<UsageError>("output " + quote(out) + ": dest= is required");
        } else {
          err = exporter::write_platforms_tar(snapshots, request.root, trees, kv["dest"]);
        }
        break;
      }
      err = exporter::write_output(spec, store, store_mu, snapshots, request.root, as_image, chain,
                                   names);
    }
  }
  if (!err && !to_push.empty()) {
    std::lock_guard lock(store_mu);
    if (auto added = cache::add_index(store, index->digest, to_push); !added) {
      err = added.takeError();
    }
  }
  if (err) {
    events.finish(false);
    return std::move(err);
  }
  const auto& first_fs = static_cast<const solver::ops::SnapshotResult&>(*solved[0].result);
  if (auto e = build_cache.export_all(first_fs.chain())) {
    events.finish(false);
    return std::move(e);
  }
  if (!to_push.empty()) {
    auto pushed = push_built(store, index->digest, to_push, flags.registry);
    if (!pushed) {
      events.finish(false);
      return pushed.takeError();
    }
    for (const auto& p : *pushed) {
      events.note("pushing manifest list for " + p.name,
                  "pushed " + p.digest.str() + " (" + std::to_string(p.uploaded) +
                      " blobs uploaded, " + std::to_string(p.existed) + " already there)");
    }
  }
  WrittenImage written{index->digest, oci::media_type::kOciIndex.str(), index->digest,
                       index->json.size()};
  if (auto e = write_metadata(flags, written, names)) {
    return std::move(e);
  }
  events.finish(true);
  return BuildResult{index->digest, index->digest};
}

}  // namespace kiln::builder
