// The stored images as `docker images` lists them: docker's imageContext rows
// (one per name, one "<none>" row for a dangling image) and the `--tree` rows.
#pragma once

#include <string>
#include <vector>

#include <llvm/ADT/StringRef.h>
#include <llvm/Support/Error.h>
#include <nlohmann/json.hpp>

#include "cache/image_store.h"

namespace kiln::cache {

/// What `docker images` selects and how it writes IDs.
struct ImageListOptions {
  /// Full image IDs ("sha256:<64 hex>") instead of 12 hex digits.
  bool no_trunc = false;
  /// REPOSITORY[:TAG] the rows must match (normalized like docker: "alpine" is
  /// docker.io/library/alpine); empty for every row.
  std::string filter;
};

/// True when the row of `repository` (familiar name) and `tag` matches `filter`
/// (ImageListOptions::filter); a filter that does not parse matches nothing.
bool matches_image_filter(llvm::StringRef repository, llvm::StringRef tag, llvm::StringRef filter);

/// docker's imageContext of every image in `store` whose row matches, as JSON
/// (Containers, CreatedAt, CreatedSince, Digest, ID, Repository, SharedSize, Size,
/// Tag, UniqueSize, VirtualSize: all strings), in ImageStore::list() order. Size
/// is the layers uncompressed (cache/image_size.h). Fails when the store cannot be
/// listed or a size cannot be measured.
llvm::Expected<std::vector<nlohmann::ordered_json>> image_list_rows(
    ImageStore& store, const ImageListOptions& options);

/// `docker images --tree`: rows with Image ("alpine:3" or "<untagged>"), ID,
/// CreatedSince and Size (as stored, compressed) for each matching name, each
/// followed by one row per platform of an image index (Image "├─ linux/amd64",
/// ID its manifest's, CreatedSince and Size empty). Fails when the store cannot
/// be listed or an index cannot be read.
llvm::Expected<std::vector<nlohmann::ordered_json>> image_tree_rows(
    ImageStore& store, const ImageListOptions& options);

/// `images`' default table: REPOSITORY TAG IMAGE ID CREATED SIZE, with DIGEST
/// after TAG when `digests` (--digests).
std::string image_list_table(bool digests);

/// `images --tree`'s table: IMAGE ID CREATED SIZE.
inline constexpr char kImageTreeTable[] = "table {{.Image}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}";

/// docker's column names of image_list_rows()' fields, for `table` templates.
const nlohmann::ordered_json& image_list_header();

/// The column names of image_tree_rows()' fields.
const nlohmann::ordered_json& image_tree_header();

}  // namespace kiln::cache
