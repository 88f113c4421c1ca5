#include "cache/image_list.h"

#include <llvm/ADT/STLExtras.h>

#include "cache/image_index.h"
#include "cache/image_size.h"
#include "oci/reference.h"
#include "support/try.h"
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

using RepoTag = std::pair<std::string, std::string>;

// The repository and tag of each row of `image` that `filter` matches: its names,
// or one <none> row.
std::vector<RepoTag> listed_repo_tags(const ImageRecord& image, llvm::StringRef filter) {
  std::vector<RepoTag> out;
  for (const std::string& name : image.names) {
    out.push_back(oci::familiar_repo_tag(name));
  }
  if (out.empty()) {
    out.emplace_back("<none>", "<none>");
  }
  llvm::erase_if(
      out, [&](const RepoTag& rt) { return !matches_image_filter(rt.first, rt.second, filter); });
  return out;
}

// Runs `each(image, rows)` for each image of `store` with rows `options` lists (its
// matching repository/tag pairs), in list order; what `each` returns fails the walk.
template <typename Each>
llvm::Error for_each_listed(ImageStore& store, const ImageListOptions& options, Each each) {
  KILN_TRY(auto images, store.list());
  for (const ImageRecord& image : images) {
    if (auto rows = listed_repo_tags(image, options.filter); !rows.empty()) {
      KILN_CHECK(each(image, rows));
    }
  }
  return llvm::Error::success();
}

std::string image_id(const ImageRecord& image, const ImageListOptions& options) {
  return options.no_trunc ? image.config.str() : image.config.short_hex();
}

}  // namespace

llvm::Expected<std::vector<nlohmann::ordered_json>> image_list_rows(
    ImageStore& store, const ImageListOptions& options) {
  std::vector<nlohmann::ordered_json> rows;
  KILN_CHECK(for_each_listed(
      store, options,
      [&](const ImageRecord& image, const std::vector<RepoTag>& listed) -> llvm::Error {
        KILN_TRY(int64_t size, uncompressed_size(store, image));
        for (const auto& [repository, tag] : listed) {
          rows.push_back({{"Containers", "N/A"},
                          {"CreatedAt", go_time_string(image.created)},
                          {"CreatedSince", human_since(image.created)},
                          {"Digest", image.names.empty() ? "<none>" : image.manifest.str()},
                          {"ID", image_id(image, options)},
                          {"Repository", repository},
                          {"SharedSize", "N/A"},
                          {"Size", human_size(size)},
                          {"Tag", tag},
                          {"UniqueSize", "N/A"},
                          {"VirtualSize", human_size(size)}});
        }
        return llvm::Error::success();
      }));
  return rows;
}

llvm::Expected<std::vector<nlohmann::ordered_json>> image_tree_rows(
    ImageStore& store, const ImageListOptions& options) {
  std::vector<nlohmann::ordered_json> rows;
  KILN_CHECK(for_each_listed(
      store, options,
      [&](const ImageRecord& image, const std::vector<RepoTag>& listed) -> llvm::Error {
        KILN_TRY(auto children, index_manifests(store.content(), image.manifest));
        for (const auto& [repository, tag] : listed) {
          std::string name = image.names.empty() ? "<untagged>" : repository + ":" + tag;
          rows.push_back({{"Image", name},
                          {"ID", image_id(image, options)},
                          {"CreatedSince", human_since(image.created)},
                          {"Size", human_size(image.size)}});
          for (size_t i = 0; children && i < children->size(); ++i) {
            const PlatformManifest& child = (*children)[i];
            std::string branch = i + 1 == children->size() ? "└─ " : "├─ ";
            rows.push_back(
                {{"Image", branch + child.platform.str()},
                 {"ID", options.no_trunc ? child.manifest.str() : child.manifest.short_hex()},
                 {"CreatedSince", ""},
                 {"Size", ""}});
          }
        }
        return llvm::Error::success();
      }));
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
