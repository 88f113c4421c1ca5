#include "exporter/cache_config.h"

#include <set>

#include <nlohmann/json.hpp>

#include "oci/media_types.h"
#include "support/error.h"

namespace kiln::exporter {

namespace {

using Json = nlohmann::ordered_json;

llvm::Error invalid(const llvm::Twine& what) { return make_error("invalid cache config: " + what); }

llvm::Expected<Digest> digest_field(const Json& j, const char* name) {
  if (!j.contains(name) || !j[name].is_string()) {
    return invalid(llvm::Twine("missing ") + quote(name));
  }
  auto d = Digest::parse(j[name].get<std::string>());
  if (!d) {
    return invalid(llvm::Twine(quote(name)) + ": " + error_message(d.takeError()));
  }
  return d;
}

llvm::Expected<CacheConfig> parse_json(const Json& j) {
  if (!j.is_object() || j.value("version", 0) != 1) {
    return invalid("unknown version (this kiln reads version 1)");
  }
  CacheConfig out;
  for (const Json& l : j.value("layers", Json::array())) {
    auto blob = oci::parse_descriptor(l.dump());
    if (!blob) {
      return invalid(error_message(blob.takeError()));
    }
    auto diff_id = digest_field(l, "diffID");
    if (!diff_id) {
      return diff_id.takeError();
    }
    CacheLayer layer;
    layer.blob = {blob->media_type, blob->digest, blob->size, {}, {}, std::nullopt, {}};
    layer.diff_id = *diff_id;
    out.layers.push_back(std::move(layer));
  }
  auto index = [&](const Json& v) -> llvm::Expected<uint32_t> {
    if (!v.is_number_unsigned() || v.get<uint64_t>() >= out.layers.size()) {
      return invalid("layer index " + v.dump() + " out of range");
    }
    return v.get<uint32_t>();
  };
  for (const Json& r : j.value("records", Json::array())) {
    auto key = digest_field(r, "key");
    if (!key) {
      return key.takeError();
    }
    CacheRecord rec{*key, {}};
    for (const Json& v : r.value("layers", Json::array())) {
      auto i = index(v);
      if (!i) {
        return i.takeError();
      }
      rec.layers.push_back(*i);
    }
    out.records.push_back(std::move(rec));
  }
  for (const Json& m : j.value("mounts", Json::array())) {
    if (!m.contains("id") || !m["id"].is_string() || !m.contains("layer")) {
      return invalid("a mount needs 'id' and 'layer'");
    }
    auto i = index(m["layer"]);
    if (!i) {
      return i.takeError();
    }
    out.mounts.push_back({m["id"].get<std::string>(), *i});
  }
  for (const Json& b : j.value("blobs", Json::array())) {
    auto blob = oci::parse_descriptor(b.dump());
    if (!blob) {
      return invalid(error_message(blob.takeError()));
    }
    out.blobs.push_back(std::move(*blob));
  }
  if (j.contains("steps") && j["steps"].is_array()) {
    out.steps = j["steps"].dump();
  }
  return out;
}

}  // namespace

std::vector<oci::Descriptor> CacheConfig::all_blobs() const {
  std::vector<oci::Descriptor> out;
  for (const auto& l : layers) {
    out.push_back(l.blob);
  }
  out.insert(out.end(), blobs.begin(), blobs.end());
  return out;
}

std::string to_json(const CacheConfig& config) {
  Json j;
  j["version"] = 1;
  j["layers"] = Json::array();
  for (const auto& l : config.layers) {
    Json d = Json::parse(oci::to_json(l.blob));
    d["diffID"] = l.diff_id.str();
    j["layers"].push_back(std::move(d));
  }
  j["records"] = Json::array();
  for (const auto& r : config.records) {
    j["records"].push_back({{"key", r.key.str()}, {"layers", r.layers}});
  }
  if (!config.mounts.empty()) {
    j["mounts"] = Json::array();
    for (const auto& m : config.mounts) {
      j["mounts"].push_back({{"id", m.id}, {"layer", m.layer}});
    }
  }
  if (!config.blobs.empty()) {
    j["blobs"] = Json::array();
    for (const auto& b : config.blobs) {
      j["blobs"].push_back(Json::parse(oci::to_json(b)));
    }
  }
  if (!config.steps.empty()) {
    j["steps"] = Json::parse(config.steps, nullptr, false);
  }
  return j.dump(-1, ' ', false, Json::error_handler_t::replace);
}

llvm::Expected<CacheConfig> parse_cache_config(llvm::StringRef json) {
  Json j = Json::parse(json.begin(), json.end(), nullptr, false);
  if (j.is_discarded()) {
    return invalid("not JSON");
  }
  try {
    return parse_json(j);
  } catch (const std::exception& e) {
    return invalid(e.what());
  }
}

std::string cache_manifest_json(const CacheConfig& config, llvm::StringRef config_json) {
  oci::Manifest m;
  m.media_type = oci::media_type::kOciManifest.str();
  m.artifact_type = kCacheArtifactType.str();
  m.config = oci::describe(kCacheConfigMediaType, config_json);
  m.layers = config.all_blobs();
  return oci::to_json(m);
}

void CacheConfigBuilder::add_record(const Digest& key, const std::vector<CacheLayer>& layers) {
  records_[key] = layers;
}

void CacheConfigBuilder::add_mount(const std::string& id, const CacheLayer& layer) {
  mounts_[id] = layer;
}

void CacheConfigBuilder::add_blob(const oci::Descriptor& blob) { blobs_[blob.digest] = blob; }

CacheConfig CacheConfigBuilder::build() const {
  CacheConfig out;
  std::map<Digest, uint32_t> numbered;
  auto number = [&](const CacheLayer& l) {
    auto [it, added] = numbered.emplace(l.blob.digest, static_cast<uint32_t>(out.layers.size()));
    if (added) {
      out.layers.push_back(l);
    }
    return it->second;
  };
  for (const auto& [key, layers] : records_) {
    CacheRecord rec{key, {}};
    for (const auto& l : layers) {
      rec.layers.push_back(number(l));
    }
    out.records.push_back(std::move(rec));
  }
  for (const auto& [id, layer] : mounts_) {
    out.mounts.push_back({id, number(layer)});
  }
  for (const auto& [d, b] : blobs_) {
    out.blobs.push_back(b);
  }
  out.steps = steps_;
  return out;
}

CacheConfig merge_cache_configs(const std::vector<CacheConfig>& configs) {
  CacheConfigBuilder builder;
  Json steps = Json::array();
  for (const auto& config : configs) {
    for (const auto& record : config.records) {
      std::vector<CacheLayer> layers;
      for (uint32_t i : record.layers) {
        layers.push_back(config.layers[i]);
      }
      builder.add_record(record.key, layers);
    }
    for (const auto& mount : config.mounts) {
      builder.add_mount(mount.id, config.layers[mount.layer]);
    }
    for (const auto& blob : config.blobs) {
      builder.add_blob(blob);
    }
    Json these = Json::parse(config.steps, nullptr, false);
    if (these.is_array()) {
      steps.insert(steps.end(), these.begin(), these.end());
    }
  }
  if (!steps.empty()) {
    builder.set_steps(steps.dump());
  }
  return builder.build();
}

}  // namespace kiln::exporter
