// `kiln inspect IMAGE|CONTAINER...`: a JSON array like `docker inspect`.

#include <iostream>
#include <optional>

#include <nlohmann/json.hpp>

#include "cache/image_size.h"
#include "cache/image_index.h"
#include "cli/command.h"
#include "cli/container_view.h"
#include "cli/print_error.h"
#include "cli/store_open.h"
#include "oci/reference.h"
#include "support/error.h"
#include "support/go_template.h"

namespace kiln::cli {
namespace {

using Json = nlohmann::ordered_json;

// A string member of `object`, or "" when absent or not a string.
std::string string_at(const Json& object, const char* key) {
  auto it = object.find(key);
  return it != object.end() && it->is_string() ? it->get<std::string>() : std::string();
}

// The config to show: the image's, or for an image index (or --platform) the
// platform's (the host's by default), with the index's platforms in `manifests`.
llvm::Expected<Digest> shown_config(cache::ImageStore& store, const cache::ImageRecord& image,
                                    const std::string& platform_flag, Json& manifests) {
  auto children = cache::index_manifests(store.content(), image.manifest);
  if (!children) {
    return children.takeError();
  }
  if (!*children && platform_flag.empty()) {
    return image.config;
  }
  auto platform = platform_flag.empty()
                      ? llvm::Expected<oci::Platform>(oci::normalize_platform(oci::host_platform()))
                      : oci::parse_normalized_platform(platform_flag);
  if (!platform) {
    return platform.takeError();
  }
  for (const auto& child : children->value_or(std::vector<cache::PlatformManifest>{})) {
    manifests.push_back({{"ID", child.manifest.str()},
                         {"Platform", child.platform.str()},
                         {"Config", child.config.str()}});
  }
  auto chosen = cache::manifest_for_platform(store.content(), image.manifest, *platform);
  if (!chosen) {
    return chosen.takeError();
  }
  return chosen->config;
}

llvm::Expected<Json> inspect_one(cache::ImageStore& store, const cache::ImageRecord& image,
                                 const std::string& platform) {
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
    tags.push_back(familiar_name(name));
    auto ref = oci::parse_named(name);
    if (!ref) {
      llvm::consumeError(ref.takeError());
      continue;
    }
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

llvm::Expected<int> run_inspect(const GlobalOptions& globals,
                                const std::vector<std::string>& images, const std::string& format,
                                const std::string& platform) {
  std::optional<support::GoTemplate> tmpl;
  if (!format.empty() && format != "json") {
    // As docker's inspect: the template as given (list commands expand `\t` first).
    auto parsed = support::GoTemplate::parse(format);
    if (!parsed) {
      return with_context(parsed.takeError(), "template parsing error");
    }
    tmpl = std::move(*parsed);
  }
  auto store = open_store_read_only(globals);
  if (!store) {
    return store.takeError();
  }
  Json all = Json::array();
  std::vector<llvm::Error> errors;
  for (const std::string& text : images) {
    // A container by that name or ID first, as docker's inspect without --type.
    auto container = inspect_container(globals.root, text);
    if (!container) {
      errors.push_back(container.takeError());
      continue;
    }
    if (*container) {
      all.push_back(std::move(**container));
      continue;
    }
    auto image = (*store)->resolve(text);
    if (!image) {
      errors.push_back(image.takeError());
      continue;
    }
    // Size: the layers uncompressed, as `kiln images` shows it.
    auto size = cache::uncompressed_size(**store, *image);
    if (!size) {
      errors.push_back(size.takeError());
      continue;
    }
    image->size = *size;
    auto json = inspect_one(**store, *image, platform);
    if (!json) {
      errors.push_back(json.takeError());
      continue;
    }
    all.push_back(std::move(*json));
  }
  if (!tmpl) {
    std::cout << all.dump(4) << "\n";
  }
  for (size_t i = 0; tmpl && i < all.size(); ++i) {
    auto line = tmpl->execute(all[i]);
    if (!line) {
      errors.push_back(with_context(line.takeError(), "template parsing error"));
      continue;
    }
    std::cout << *line << "\n";
  }
  std::cout.flush();
  int code = 0;
  for (llvm::Error& err : errors) {
    code = print_error(std::move(err), std::cerr);
  }
  return code;
}

CommandBody setup_inspect(CLI::App& sub, const GlobalOptions& globals) {
  auto images = std::make_shared<std::vector<std::string>>();
  auto format = std::make_shared<std::string>();
  auto platform = std::make_shared<std::string>();
  sub.add_option("-f,--format", *format, "Format output using a Go template");
  sub.add_option("--platform", *platform,
                 "Inspect a specific platform of a multi-platform image (os/arch[/variant])");
  sub.add_option("images", *images, "IMAGE...")->required();
  return [&globals, images, format, platform]() {
    return run_inspect(globals, *images, *format, *platform);
  };
}

CommandRegistration reg{
    {"inspect", "Display detailed information on images and containers", setup_inspect, 23}};

}  // namespace
}  // namespace kiln::cli
