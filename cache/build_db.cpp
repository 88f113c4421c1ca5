#include "cache/build_db.h"

#include <ctime>

#include "support/error.h"
#include "support/fs.h"

namespace kiln::cache {

llvm::Expected<std::unique_ptr<BuildDb>> BuildDb::open(llvm::StringRef root) {
  auto db = StoreDb::open(fs::join(root, "kiln.db"));
  if (!db) {
    return db.takeError();
  }
  return std::unique_ptr<BuildDb>(new BuildDb(std::move(*db)));
}

llvm::Error BuildDb::record_layer(const Digest& diff_id, llvm::StringRef compression,
                                  const LayerBlobRecord& blob) {
  std::lock_guard lock(mu_);
  auto st = db_->prepare(
      "INSERT OR REPLACE INTO layer_blobs (diff_id, compression, blob, size) VALUES (?, ?, ?, ?)");
  if (!st) {
    return st.takeError();
  }
  return st->bind(1, diff_id.str())
      .bind(2, compression)
      .bind(3, blob.blob.str())
      .bind(4, static_cast<int64_t>(blob.size))
      .run();
}

llvm::Expected<std::optional<LayerBlobRecord>> BuildDb::find_layer(const Digest& diff_id,
                                                                   llvm::StringRef compression) {
  std::lock_guard lock(mu_);
  auto st =
      db_->prepare("SELECT blob, size FROM layer_blobs WHERE diff_id = ? AND compression = ?");
  if (!st) {
    return st.takeError();
  }
  st->bind(1, diff_id.str()).bind(2, compression);
  auto row = st->step();
  if (!row) {
    return row.takeError();
  }
  if (!*row) {
    return std::nullopt;
  }
  auto blob = Digest::parse(st->text(0));
  if (!blob) {
    return blob.takeError();
  }
  return LayerBlobRecord{*blob, static_cast<uint64_t>(st->integer(1))};
}

llvm::Error BuildDb::save_key(const Digest& key, const CachedStep& step) {
  std::lock_guard lock(mu_);
  auto st = db_->prepare(
      "INSERT OR REPLACE INTO cache_keys (key, chain, layer, created) VALUES (?, ?, 1, ?)");
  if (!st) {
    return st.takeError();
  }
  return st->bind(1, key.str())
      .bind(2, step.chain ? step.chain->str() : std::string())
      .bind(3, static_cast<int64_t>(std::time(nullptr)))
      .run();
}

llvm::Expected<std::optional<CachedStep>> BuildDb::load_key(const Digest& key) {
  std::lock_guard lock(mu_);
  auto st = db_->prepare("SELECT chain FROM cache_keys WHERE key = ?");
  if (!st) {
    return st.takeError();
  }
  st->bind(1, key.str());
  auto row = st->step();
  if (!row) {
    return row.takeError();
  }
  if (!*row) {
    return std::nullopt;
  }
  CachedStep step;
  std::string chain = st->text(0);
  // Accounting for garbage collection: when the record was last used, how often.
  if (auto touch = db_->prepare(
          "UPDATE cache_keys SET last_used = ?1, use_count = use_count + 1 WHERE key = ?2")) {
    llvm::consumeError(
        touch->bind(1, static_cast<int64_t>(std::time(nullptr))).bind(2, key.str()).run());
  } else {
    llvm::consumeError(touch.takeError());
  }
  if (!chain.empty()) {
    auto d = Digest::parse(chain);
    if (!d) {
      return d.takeError();
    }
    step.chain = *d;
  }
  return step;
}

}  // namespace kiln::cache
