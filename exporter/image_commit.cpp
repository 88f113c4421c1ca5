#include "exporter/image_commit.h"

#include <chrono>
#include <cstdio>
#include <ctime>

#include "cache/layer_blobs.h"
#include "oci/media_types.h"
#include "support/error.h"

namespace kiln::exporter {

std::string rfc3339(int64_t unix_seconds, int64_t nanos) {
  std::time_t t = static_cast<std::time_t>(unix_seconds);
  std::tm tm{};
  ::gmtime_r(&t, &tm);
  char buf[64];
  std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm);
  std::string out = buf;
  if (nanos != 0) {
    char frac[16];
    std::snprintf(frac, sizeof(frac), ".%09lld", static_cast<long long>(nanos));
    std::string f = frac;
    while (f.back() == '0') {
      f.pop_back();
    }
    out += f;
  }
  return out + "Z";
}

namespace {

std::string layer_media_type(cache::Compression c, MediaTypes types) {
  return oci::layer_media_type(
             c, types == MediaTypes::oci ? oci::MediaFamily::oci : oci::MediaFamily::docker)
      .str();
}

std::string now_rfc3339() {
  auto now = std::chrono::system_clock::now().time_since_epoch();
  auto secs = std::chrono::duration_cast<std::chrono::seconds>(now);
  auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(now - secs);
  return rfc3339(secs.count(), ns.count());
}

}  // namespace

llvm::Expected<AssembledImage> assemble_image(cache::ImageStore& store,
                                              const cache::SnapshotStore& snapshots,
                                              cache::BuildDb& db, const ImageAssembly& input) {
  const cache::ContentStore& content = store.content();
  std::vector<cache::StoredLayer> layers;
  if (input.chain) {
    auto got = cache::chain_layers(content, snapshots, db, *input.chain, input.pack,
                                   input.exact_compression);
    if (!got) {
      return got.takeError();
    }
    layers = std::move(*got);
  }
  oci::ImageConfig config = input.config;
  config.diff_ids.clear();
  for (const auto& l : layers) {
    config.diff_ids.push_back(l.diff_id);
  }
  // Like BuildKit, steps without a time of their own take the time their result
  // was made (the top snapshot's), so a rebuild from cache gives the same image.
  std::string created;
  if (input.source_date_epoch) {
    created = rfc3339(*input.source_date_epoch);
  } else if (input.chain) {
    auto made = snapshots.created(*input.chain);
    if (!made) {
      return made.takeError();
    }
    created = rfc3339(made->first, made->second);
  } else {
    created = now_rfc3339();
  }
  config.created = created;
  for (auto& h : config.history) {
    if (h.created.empty() || input.source_date_epoch) {
      h.created = created;
    }
  }
  AssembledImage out;
  out.config_json = oci::to_json(config);
  bool oci_types = input.media_types == MediaTypes::oci;
  out.manifest.media_type =
      (oci_types ? oci::media_type::kOciManifest : oci::media_type::kDockerManifest).str();
  out.manifest.config = oci::describe(
      oci_types ? oci::media_type::kOciConfig : oci::media_type::kDockerConfig, out.config_json);
  for (const auto& l : layers) {
    oci::Descriptor d;
    d.media_type = layer_media_type(l.compression, input.media_types);
    d.digest = l.blob;
    d.size = static_cast<int64_t>(l.size);
    out.manifest.layers.push_back(std::move(d));
  }
  out.manifest_json = oci::to_json(out.manifest);
  auto config_digest = content.put(out.config_json);
  if (!config_digest) {
    return config_digest.takeError();
  }
  out.config_digest = *config_digest;
  auto manifest_digest = content.put(out.manifest_json);
  if (!manifest_digest) {
    return manifest_digest.takeError();
  }
  out.manifest_digest = *manifest_digest;
  return out;
}

}  // namespace kiln::exporter
