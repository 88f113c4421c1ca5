#include "cache/image_list.h"

#include "cache/image_index.h"
#include "cache/image_size.h"
#include "oci/reference.h"
#include "support/units.h"

namespace kiln::cache {

bool matches_image_filter(llvm::StringRef repository, llvm::StringRef tag, llvm::StringRef filter) {
  if (filter.empty()) {
    return true;
  }
  auto [want_repo, want_tag] = filter.rsplit(':');
  if (want_tag.contains('/')) {  // "localhost:5000/x": the colon was the port's
    want_repo = filter;
    want_tag = "";
  }
  auto ref = oci::parse_normalized_named(want_repo);
  if (!ref) {
    llvm::consumeError(ref.takeError());
    return false;
  }
  return ref->familiar_name() == repository && (want_tag.empty() || want_tag == tag);
}

namespace {

// The repository and tag of each row of `image`: its names, or one <none> row.
std::vector<std::pair<std::string, std::string>> repo_tags(const ImageRecord& image) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const std::string& name : image.names) {
    out.push_back(oci::familiar_repo_tag(name));
  }
  if (out.empty()) {
    out.emplace_back("<none>", "<none>");
  }
  return out;
}

std::string image_id(const ImageRecord& image, const ImageListOptions& options) {
  return options.no_trunc ? image.config.str() : image.config.short_hex();
}

}  // namespace

llvm::Expected<std::vector<nlohmann::ordered_json>> image_list_rows(
    ImageStore& store, const ImageListOptions& options) {
  auto images = store.list();
  if (!images) {
    return images.takeError();
  }
  std::vector<nlohmann::ordered_json> rows;
  for (const ImageRecord& image : *images) {
    auto size = uncompressed_size(store, image);
    if (!size) {
      return size.takeError();
    }
    for (const auto& [repository, tag] : repo_tags(image)) {
      if (!matches_image_filter(repository, tag, options.filter)) {
        continue;
      }
      rows.push_back({{"Containers", "N/A"},
                      {"CreatedAt", go_time_string(image.created)},
                      {"CreatedSince", human_since(image.created)},
                      {"Digest", image.names.empty() ? "<none>" : image.manifest.str()},
                      {"ID", image_id(image, options)},
                      {"Repository", repository},
                      {"SharedSize", "N/A"},
                      {"Size", human_size(*size)},
                      {"Tag", tag},
                      {"UniqueSize", "N/A"},
                      {"VirtualSize", human_size(*size)}});
    }
  }
  return rows;
}

llvm::Expected<std::vector<nlohmann::ordered_json>> image_tree_rows(
    ImageStore& store, const ImageListOptions& options) {
  auto images = store.list();
  if (!images) {
    return images.takeError();
  }
  std::vector<nlohmann::ordered_json> rows;
  for (const ImageRecord& image : *images) {
    auto children = index_manifests(store.content(), image.manifest);
    if (!children) {
      return children.takeError();
    }
    for (const auto& [repository, tag] : repo_tags(image)) {
      if (!matches_image_filter(repository, tag, options.filter)) {
        continue;
      }
      std::string name = image.names.empty() ? "<untagged>" : repository + ":" + tag;
      rows.push_back({{"Image", name},
                      {"ID", image_id(image, options)},
                      {"CreatedSince", human_since(image.created)},
                      {"Size", human_size(image.size)}});
      for (size_t i = 0; *children && i < (*children)->size(); ++i) {
        const PlatformManifest& child = (**children)[i];
        std::string branch = i + 1 == (*children)->size() ? "└─ " : "├─ ";
        rows.push_back(
            {{"Image", branch + child.platform.str()},
             {"ID", options.no_trunc ? child.manifest.str() : child.manifest.short_hex()},
             {"CreatedSince", ""},
             {"Size", ""}});
      }
    }
  }
  return rows;
}

std::string image_list_table(bool digests) {
  return digests
             ? "table {{.Repository}}\t{{.Tag}}\t{{.Digest}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}"
             : "table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}";
}

const nlohmann::ordered_json& image_list_header() {
  static const nlohmann::ordered_json header = {{"Containers", "CONTAINERS"},
                                                {"CreatedAt", "CREATED AT"},
                                                {"CreatedSince", "CREATED"},
                                                {"Digest", "DIGEST"},
                                                {"ID", "IMAGE ID"},
                                                {"Repository", "REPOSITORY"},
                                                {"SharedSize", "SHARED SIZE"},
                                                {"Size", "SIZE"},
                                                {"Tag", "TAG"},
                                                {"UniqueSize", "UNIQUE SIZE"},
                                                {"VirtualSize", "VIRTUAL SIZE"}};
  return header;
}

const nlohmann::ordered_json& image_tree_header() {
  static const nlohmann::ordered_json header = {
      {"Image", "IMAGE"}, {"ID", "ID"}, {"CreatedSince", "CREATED"}, {"Size", "SIZE"}};
  return header;
}

}  // namespace kiln::cache
