#include "cache/image_inspect.h"

#include <algorithm>

#include "cache/image_index.h"
#include "oci/reference.h"
#include "oci/types.h"
#include "support/error.h"
#include "support/units.h"

namespace kiln::cache {
namespace {

using Json = nlohmann::ordered_json;

// The platform `flag` names (os/arch[/variant]), or the host's for "".
llvm::Expected<oci::Platform> chosen_platform(llvm::StringRef flag) {
  if (flag.empty()) {
    return oci::normalize_platform(oci::host_platform());
  }
  return oci::parse_normalized_platform(flag);
}

// A string member of `object`, or "" when absent or not a string.
std::string string_at(const Json& object, const char* key) {
  auto it = object.find(key);
  return it != object.end() && it->is_string() ? it->get<std::string>() : std::string();
}

// The config to show: the image's, or for an image index (or `platform_flag`)
// the platform's, with the index's platforms in `manifests`.
llvm::Expected<Digest> shown_config(const ImageStore& store, const ImageRecord& image,
                                    llvm::StringRef platform_flag, Json& manifests) {
  auto children = index_manifests(store.content(), image.manifest);
  if (!children) {
    return children.takeError();
  }
  if (!*children && platform_flag.empty()) {
    return image.config;
  }
  auto platform = chosen_platform(platform_flag);
  if (!platform) {
    return platform.takeError();
  }
  for (const auto& child : children->value_or(std::vector<PlatformManifest>{})) {
    manifests.push_back({{"ID", child.manifest.str()},
                         {"Platform", child.platform.str()},
                         {"Config", child.config.str()}});
  }
  auto chosen = manifest_for_platform(store.content(), image.manifest, *platform);
  if (!chosen) {
    return chosen.takeError();
  }
  return chosen->config;
}

}  // namespace

llvm::Expected<Json> inspect_image(const ImageStore& store, const ImageRecord& image,
                                   llvm::StringRef platform) {
  Json manifests = Json::array();
  auto config_digest = shown_config(store, image, platform, manifests);
  if (!config_digest) {
    return config_digest.takeError();
  }
  auto bytes = store.content().read(*config_digest);
  if (!bytes) {
    return bytes.takeError();
  }
  Json config;
  try {
    config = Json::parse(*bytes);
  } catch (const std::exception& e) {
    return make_error("config " + quote(image.config.str()) + ": invalid JSON: " + e.what());
  }
  Json tags = Json::array(), digests = Json::array();
  for (const std::string& name : image.names) {
    auto ref = oci::parse_named(name);
    if (!ref) {
      llvm::consumeError(ref.takeError());
      tags.push_back(name);
      continue;
    }
    tags.push_back(ref->familiar_str());
    std::string digest = ref->familiar_name() + "@" + image.manifest.str();
    if (std::find(digests.begin(), digests.end(), digest) == digests.end()) {
      digests.push_back(digest);
    }
  }
  Json layers = Json::array();
  if (auto rootfs = config.find("rootfs"); rootfs != config.end() && rootfs->is_object()) {
    if (auto ids = rootfs->find("diff_ids"); ids != rootfs->end() && ids->is_array()) {
      layers = *ids;
    }
  }
  Json out;
  out["Id"] = image.config.str();
  out["RepoTags"] = tags;
  out["RepoDigests"] = digests;
  out["Parent"] = "";
  out["Comment"] = string_at(config, "comment");
  out["Created"] = string_at(config, "created");
  out["DockerVersion"] = string_at(config, "docker_version");
  out["Author"] = string_at(config, "author");
  out["Config"] = config.contains("config") ? config["config"] : Json(nullptr);
  out["Architecture"] = string_at(config, "architecture");
  if (std::string variant = string_at(config, "variant"); !variant.empty()) {
    out["Variant"] = variant;
  }
  out["Os"] = string_at(config, "os");
  out["Size"] = image.size;
  out["RootFS"] = {{"Type", "layers"}, {"Layers", layers}};
  out["Metadata"] = {{"LastTagTime", "0001-01-01T00:00:00Z"}};
  if (!manifests.empty()) {
    out["Manifests"] = std::move(manifests);  // a multi-platform image's platforms
  }
  return out;
}

llvm::Expected<ImageHistory> image_history(const ImageStore& store, const ImageRecord& image,
                                           llvm::StringRef platform) {
  Digest manifest_digest = image.manifest;
  Digest config_digest = image.config;
  if (image.config == image.manifest || !platform.empty()) {
    // A multi-platform image: the history of one platform (the host's by default).
    auto chosen_for = chosen_platform(platform);
    auto chosen = chosen_for ? manifest_for_platform(store.content(), image.manifest, *chosen_for)
                             : llvm::Expected<PlatformManifest>(chosen_for.takeError());
    if (!chosen) {
      return chosen.takeError();
    }
    manifest_digest = chosen->manifest;
    config_digest = chosen->config;
  }
  auto manifest_bytes = store.content().read(manifest_digest);
  auto config_bytes = store.content().read(config_digest);
  if (!manifest_bytes) {
    llvm::consumeError(config_bytes.takeError());
    return manifest_bytes.takeError();
  }
  if (!config_bytes) {
    return config_bytes.takeError();
  }
  auto manifest = oci::parse_manifest(*manifest_bytes);
  if (!manifest) {
    return manifest.takeError();
  }
  auto config = oci::parse_image_config(*config_bytes);
  if (!config) {
    return config.takeError();
  }
  ImageHistory out{config_digest, {}};
  size_t layer = 0;
  for (const oci::HistoryEntry& entry : config->history) {
    int64_t size = 0;
    if (!entry.empty_layer && layer < manifest->layers.size()) {
      size = manifest->layers[layer++].size;
    }
    out.rows.push_back({entry, size});
  }
  return out;
}

namespace {

// docker's stringutils.Ellipsis: at most `width` code points, the last one "…".
std::string ellipsis(const std::string& text, size_t width) {
  std::vector<size_t> starts;  // byte offsets of code points
  for (size_t i = 0; i < text.size(); ++i) {
    if ((text[i] & 0xC0) != 0x80) {
      starts.push_back(i);
    }
  }
  if (starts.size() <= width) {
    return text;
  }
  return text.substr(0, starts[width - 1]) + "…";
}

std::string created_column(const std::string& created, bool human) {
  if (created.empty()) {
    return "N/A";
  }
  if (!human) {
    return created;
  }
  auto seconds = parse_rfc3339(created);
  if (!seconds) {
    llvm::consumeError(seconds.takeError());
    return created;
  }
  return human_since(*seconds);
}

}  // namespace

std::vector<nlohmann::ordered_json> image_history_rows(const ImageHistory& history,
                                                       const HistoryFormat& format) {
  std::vector<nlohmann::ordered_json> rows;
  for (auto row = history.rows.rbegin(); row != history.rows.rend(); ++row) {
    const oci::HistoryEntry& entry = row->entry;
    std::string created_by = entry.created_by;
    std::replace(created_by.begin(), created_by.end(), '\t', ' ');
    if (!format.no_trunc) {
      created_by = ellipsis(created_by, 45);
    }
    std::string id = "<missing>";
    if (rows.empty()) {
      id = format.no_trunc ? history.config.str() : history.config.short_hex();
    }
    rows.push_back({{"Comment", entry.comment},
                    {"CreatedAt", entry.created},
                    {"CreatedBy", created_by},
                    {"CreatedSince", created_column(entry.created, format.human)},
                    {"ID", id},
                    {"Size", format.human ? human_size(row->size) : std::to_string(row->size)}});
  }
  return rows;
}

const nlohmann::ordered_json& image_history_header() {
  static const nlohmann::ordered_json header = {{"Comment", "COMMENT"},
                                                {"CreatedAt", "CREATED AT"},
                                                {"CreatedBy", "CREATED BY"},
                                                {"CreatedSince", "CREATED"},
                                                {"ID", "IMAGE"},
                                                {"Size", "SIZE"}};
  return header;
}

}  // namespace kiln::cache
