// The schema of kiln.db, one step per version. Modules append their tables here;
// a shipped step is never edited (a store created by it would not be migrated).
#include "cache/store_db.h"

namespace kiln::cache {

namespace {

// Version 1: the image store (cache/image_store.cpp).
//   manifests: one stored image (manifest blob) and its config digest (image ID),
//     the config's created time (unix seconds) and the bytes its blobs occupy.
//   image_names: full normalized reference -> manifest; a manifest may have none
//     (a dangling image) or several.
//   blob_refs: every blob a manifest needs (itself, config, layers); a blob no row
//     refers to may be deleted.
constexpr const char* kImagesV1 = R"sql(
CREATE TABLE manifests (
  digest TEXT PRIMARY KEY,
  config TEXT NOT NULL,
  created INTEGER NOT NULL,
  size INTEGER NOT NULL,
  added INTEGER NOT NULL
);
CREATE INDEX manifests_config ON manifests(config);
CREATE TABLE image_names (
  name TEXT PRIMARY KEY,
  manifest TEXT NOT NULL REFERENCES manifests(digest),
  tagged INTEGER NOT NULL
);
CREATE INDEX image_names_manifest ON image_names(manifest);
CREATE TABLE blob_refs (
  manifest TEXT NOT NULL REFERENCES manifests(digest) ON DELETE CASCADE,
  blob TEXT NOT NULL,
  PRIMARY KEY (manifest, blob)
);
CREATE INDEX blob_refs_blob ON blob_refs(blob);
)sql";

// Version 2: the solver (solver/ops).
//   layer_blobs: the compressed blob packed from a layer (by DiffID and
//     compression); a cache of work, since a snapshot can always be packed again.
//   cache_keys: a build step's cache key -> its result, the snapshot chain ID
//     ("" for an empty file system) and whether the step added a layer.
constexpr const char* kSolverV2 = R"sql(
CREATE TABLE layer_blobs (
  diff_id TEXT NOT NULL,
  compression TEXT NOT NULL,
  blob TEXT NOT NULL,
  size INTEGER NOT NULL,
  PRIMARY KEY (diff_id, compression)
);
CREATE TABLE cache_keys (
  key TEXT PRIMARY KEY,
  chain TEXT NOT NULL,
  layer INTEGER NOT NULL,
  created INTEGER NOT NULL
);
)sql";

// Version 3: accounting and garbage collection (cache/store_usage.cpp, cache/gc.cpp).
//   cache_keys gains when a build last used the record and how often.
//   snapshot_usage: what measuring an immutable snapshot found (its directory's
//     inode, parent and link base chain IDs or "", created time, disk usage of
//     singly-linked entries and its multiply-linked files as "ino:bytes,...");
//     a row whose inode differs from the directory's is measured again.
//   config_chains: the layer chain IDs of an image config, space-separated.
//   layer_sizes: the uncompressed size of a layer (its tar), by DiffID.
constexpr const char* kGcV3 = R"sql(
ALTER TABLE cache_keys ADD COLUMN last_used INTEGER NOT NULL DEFAULT 0;
ALTER TABLE cache_keys ADD COLUMN use_count INTEGER NOT NULL DEFAULT 0;
CREATE INDEX cache_keys_chain ON cache_keys(chain);
CREATE TABLE snapshot_usage (
  chain TEXT PRIMARY KEY,
  ino INTEGER NOT NULL,
  parent TEXT NOT NULL,
  link TEXT NOT NULL,
  created INTEGER NOT NULL,
  size INTEGER NOT NULL,
  shared TEXT NOT NULL
);
CREATE TABLE config_chains (
  config TEXT PRIMARY KEY,
  chains TEXT NOT NULL
);
CREATE TABLE layer_sizes (
  diff_id TEXT PRIMARY KEY,
  size INTEGER NOT NULL
);
)sql";

constexpr Migration kMigrations[] = {
    {1, kImagesV1},
    {2, kSolverV2},
    {3, kGcV3},
};

}  // namespace

llvm::ArrayRef<Migration> store_migrations() { return kMigrations; }

}  // namespace kiln::cache
