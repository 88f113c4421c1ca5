#include "builder/build_platforms.h"

#include <thread>
#include <unordered_map>

#include <llvm/ADT/SmallVector.h>
#include <llvm/ADT/StringRef.h>

#include "cache/image_index.h"
#include "exporter/image_commit.h"
#include "oci/media_types.h"
#include "solver/ops/results.h"
#include "support/error.h"

namespace kiln::builder {

llvm::Expected<std::vector<std::string>> target_platforms(const std::vector<std::string>& flags) {
  std::vector<std::string> out;
  for (const std::string& flag : flags) {
    llvm::SmallVector<llvm::StringRef, 4> parts;
    llvm::StringRef(flag).split(parts, ',', -1, false);
    for (llvm::StringRef part : parts) {
      part = part.trim();
      // BuildKit's "local": the platform of the machine that builds.
      auto p = part == "local"
                   ? llvm::Expected<oci::Platform>(oci::normalize_platform(oci::host_platform()))
                   : oci::parse_normalized_platform(part);
      if (!p) {
        return with_context(p.takeError(), "--platform");
      }
      std::string text = p->str();
      if (std::find(out.begin(), out.end(), text) == out.end()) {
        out.push_back(text);
      }
    }
  }
  return out;
}

llvm::Expected<frontend::MultiLowerResult> lower_for_platforms(
    const frontend::Dockerfile& dockerfile, const frontend::LowerOptions& options,
    const std::vector<std::string>& platforms) {
  if (platforms.size() > 1) {
    return frontend::lower_platforms(dockerfile, options, platforms);
  }
  frontend::LowerOptions one = options;
  if (!platforms.empty()) {
    one.target_platform = platforms[0];
  }
  auto lowered = frontend::lower(dockerfile, one);
  if (!lowered) {
    return lowered.takeError();
  }
  frontend::MultiLowerResult out;
  std::string platform = one.target_platform.empty() ? one.build_platform : one.target_platform;
  out.platforms.push_back({platform, std::move(lowered->stages), lowered->target});
  out.definition = std::move(lowered->definition);
  out.context_reads = std::move(lowered->context_reads);
  out.unused_build_args = std::move(lowered->unused_build_args);
  return out;
}

llvm::Expected<std::vector<solver::core::Solved>> solve_roots(
    solver::core::Scheduler& scheduler, const std::vector<const solver::core::Vertex*>& roots,
    const solver::core::ProgressCallback& progress, CancelToken& cancel) {
  std::mutex mu;
  // A step two roots need is reported to both requests: only the first root
  // that hears of it passes its events on, so each step shows once.
  std::unordered_map<Digest, size_t> teller;
  std::vector<solver::core::SolveOptions> options(roots.size());
  for (size_t i = 0; i < roots.size(); ++i) {
    options[i].cancel = &cancel;
    options[i].progress = [&, i](const solver::core::ProgressEvent& e) {
      std::lock_guard lock(mu);
      if (teller.emplace(e.vertex, i).first->second == i) {
        progress(e);
      }
    };
  }
  std::vector<std::optional<llvm::Expected<solver::core::Solved>>> results(roots.size());
  auto solve_one = [&](size_t i) {
    auto solved = scheduler.solve(*roots[i], options[i]);
    if (!solved) {
      cancel.cancel();  // the other platforms stop too
    }
    std::lock_guard lock(mu);
    results[i].emplace(std::move(solved));
  };
  std::vector<std::thread> threads;
  for (size_t i = 1; i < roots.size(); ++i) {
    threads.emplace_back(solve_one, i);
  }
  if (!roots.empty()) {
    solve_one(0);
  }
  for (auto& t : threads) {
    t.join();
  }
  // The first real failure, not the cancellations it caused.
  llvm::Error first = llvm::Error::success();
  llvm::Error cancelled = llvm::Error::success();
  std::vector<solver::core::Solved> out;
  for (auto& r : results) {
    if (*r) {
      out.push_back(std::move(**r));
      continue;
    }
    llvm::Error err = r->takeError();
    if (err.isA<CancelledError>()) {
      if (cancelled) {
        llvm::consumeError(std::move(err));
      } else {
        llvm::consumeError(std::move(cancelled));
        cancelled = std::move(err);
      }
    } else if (first) {
      llvm::consumeError(std::move(err));
    } else {
      llvm::consumeError(std::move(first));
      first = std::move(err);
    }
  }
  if (first) {
    llvm::consumeError(std::move(cancelled));
    return std::move(first);
  }
  if (cancelled) {
    return std::move(cancelled);
  }
  return out;
}

llvm::Expected<BuiltIndex> store_platform_images(const PlatformsExport& input,
                                                 const frontend::MultiLowerResult& lowered,
                                                 const std::vector<solver::core::Solved>& solved) {
  oci::Index index;
  index.media_type = oci::media_type::kOciIndex.str();
  BuiltIndex out;
  std::vector<exporter::ImageAssembly> assemblies;
  for (size_t i = 0; i < lowered.platforms.size(); ++i) {
    const frontend::PlatformStages& p = lowered.platforms[i];
    const auto* fs = dynamic_cast<const solver::ops::SnapshotResult*>(solved.at(i).result.get());
    if (!fs) {
      return make_error("platform " + quote(p.platform) +
                        ": the target stage does not produce a file system");
    }
    exporter::ImageAssembly assembly;
    assembly.chain = fs->chain();
    assembly.config = p.stages[p.target].config;
    for (const auto& l : input.labels) {
      auto [k, v] = llvm::StringRef(l).split('=');
      assembly.config.config.labels[k.str()] = v.str();
    }
    assembly.pack = input.pack;
    assembly.exact_compression = input.exact_compression;
    assembly.media_types = exporter::MediaTypes::oci;
    assembly.source_date_epoch = input.source_date_epoch;
    if (input.add_inline) {
      if (auto err = input.add_inline(assembly.config, assembly.chain, assembly.pack)) {
        return std::move(err);
      }
    }
    assemblies.push_back(std::move(assembly));
  }
  std::lock_guard lock(input.store_mu);
  // Blobs written here are unreferenced until add_index: hold them against a GC.
  auto lease = input.store.content().lease(cache::LeaseMode::shared);
  if (!lease) {
    return lease.takeError();
  }
  for (size_t i = 0; i < lowered.platforms.size(); ++i) {
    const frontend::PlatformStages& p = lowered.platforms[i];
    auto image = exporter::assemble_image(input.store, input.snapshots, input.db, assemblies[i]);
    if (!image) {
      return with_context(image.takeError(), "platform " + quote(p.platform));
    }
    oci::Descriptor d = oci::describe(oci::media_type::kOciManifest, image->manifest_json);
    // Keyed by the requested platform, as BuildKit's exporter does.
    auto platform = oci::parse_normalized_platform(p.platform);
    if (!platform) {
      return platform.takeError();
    }
    d.platform = std::move(*platform);
    out.manifests.push_back(d.digest);
    index.manifests.push_back(std::move(d));
  }
  out.json = oci::to_json(index);
  auto digest = input.store.content().put(out.json);
  if (!digest) {
    return digest.takeError();
  }
  out.digest = *digest;
  auto added = cache::add_index(input.store, out.digest, input.names);
  if (!added) {
    return added.takeError();
  }
  return out;
}

}  // namespace kiln::builder
