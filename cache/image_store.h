// The local image store: which images exist (manifest blobs in the content store),
// their names, and which blobs they hold, in kiln.db. Addressable by name, full or
// short image ID (the config digest) and manifest digest.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <llvm/ADT/ArrayRef.h>
#include <llvm/ADT/StringRef.h>
#include <llvm/Support/Error.h>

#include "cache/content_store.h"
#include "cache/store_db.h"
#include "support/digest.h"

namespace kiln::cache {

/// A time that is not known (an image config without `created`).
inline constexpr int64_t kUnknownTime = INT64_MIN;

/// One stored image.
struct ImageRecord {
  Digest manifest;
  /// The image ID: the digest of the config blob's bytes.
  Digest config;
  /// The config's `created` as unix seconds; kUnknownTime when absent or unparsable.
  int64_t created = kUnknownTime;
  /// Bytes of the config and layer blobs as stored (compressed).
  int64_t size = 0;
  /// When the image was added to this store (unix seconds).
  int64_t added = 0;
  /// Full normalized names ("docker.io/library/alpine:latest"), sorted; empty for a
  /// dangling image.
  std::vector<std::string> names;
};

/// What `remove` did, in the order docker prints it.
struct RemoveResult {
  /// Full names that were removed.
  std::vector<std::string> untagged;
  /// Image IDs (config digests) of images that were deleted.
  std::vector<Digest> deleted;
};

enum class Force { no, yes };

/// Whether a caller of ImageStore::open() writes to the store or only reads.
enum class StoreAccess { read_write, read_only };

/// Normalizes a user-given name to its full form ("alpine" ->
/// "docker.io/library/alpine:latest"); fails for text that is not a valid name.
llvm::Expected<std::string> normalize_image_name(llvm::StringRef text);

/// The image database and content store of one root. Not thread-safe (one per
/// thread); any number of processes may open the same root at once.
class ImageStore {
 public:
  /// Opens (creating) ROOT/kiln.db and the content store (which reclaims what dead
  /// processes left, see use_store()). With StoreAccess::read_only the caller only
  /// reads, which works on a full file system too (StoreDb::open_read_only()).
  static llvm::Expected<std::unique_ptr<ImageStore>> open(
      llvm::StringRef root, StoreAccess access = StoreAccess::read_write);

  const ContentStore& content() const { return content_; }
  StoreDb& db() { return *db_; }

  /// Records the image whose manifest blob `manifest` is stored, with its config and
  /// layers (all must be stored: an error names the first missing one), and points
  /// `names` (full normalized names) at it; a name that pointed elsewhere moves.
  /// Callers that just committed the blobs hold a shared BlobLease across both.
  llvm::Expected<ImageRecord> add(const Digest& manifest, llvm::ArrayRef<std::string> names);
  /// Points full name `name` at the image `manifest` (which must be stored).
  llvm::Error tag(const Digest& manifest, llvm::StringRef name);
  /// Every image, newest first (by created, then by when added), names sorted.
  llvm::Expected<std::vector<ImageRecord>> list();
  /// The image with manifest digest `manifest`.
  llvm::Expected<ImageRecord> get(const Digest& manifest);
  /// Finds an image by user text: a name (normalized), name@digest, an image ID
  /// ("sha256:<hex>", the hex, or a unique hex prefix) or a manifest digest.
  /// Fails with "no such image: 'TEXT'" or an ambiguity error.
  llvm::Expected<ImageRecord> resolve(llvm::StringRef text);
  /// Every (full name, manifest) whose repository is `repository`
  /// ("docker.io/library/alpine"), sorted by name.
  llvm::Expected<std::vector<std::pair<std::string, Digest>>> tags_of_repository(
      llvm::StringRef repository);
  /// Removes what `text` names, like `docker rmi`: a name is untagged and the image
  /// deleted when it was its last name; an ID deletes the image and all its names,
  /// unless they span several repositories and `force` is no (a conflict error).
  /// Blobs that no image holds any more are deleted.
  llvm::Expected<RemoveResult> remove(llvm::StringRef text, Force force);

 private:
  ImageStore(ContentStore content, std::unique_ptr<StoreDb> db)
      : content_(std::move(content)), db_(std::move(db)) {}
  llvm::Expected<std::vector<std::string>> names_of(const Digest& manifest);
  llvm::Expected<std::vector<ImageRecord>> query(llvm::StringRef where, llvm::StringRef arg);
  llvm::Expected<std::vector<Digest>> delete_manifest(const Digest& manifest);
  llvm::Error collect(llvm::ArrayRef<Digest> candidates);
  // The image that name `text` (normalized into `name`) points at, if any.
  llvm::Expected<std::optional<ImageRecord>> find_name(llvm::StringRef text, std::string& name);
  // Adds to `result` and `doomed` what deleting the image with ID/digest `text` means.
  llvm::Error plan_delete_id(llvm::StringRef text, Force force, RemoveResult& result,
                             std::vector<Digest>& doomed);

  ContentStore content_;
  std::unique_ptr<StoreDb> db_;
};

/// Parses an RFC 3339 time ("2024-01-02T03:04:05.123Z", "...+01:00") to unix seconds.
llvm::Expected<int64_t> parse_rfc3339(llvm::StringRef text);

}  // namespace kiln::cache
