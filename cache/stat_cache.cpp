#include "cache/stat_cache.h"

#include <time.h>

#include <cerrno>
#include <cstring>
#include <mutex>

#include "support/atomic_file.h"
#include "support/error.h"
#include "support/fs.h"
#include "support/xxh3.h"

namespace kiln::cache {

FileIdentity file_identity(const struct stat& st) {
  return {static_cast<uint64_t>(st.st_dev),
          static_cast<uint64_t>(st.st_ino),
          static_cast<uint64_t>(st.st_size),
          static_cast<int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec,
          static_cast<int64_t>(st.st_ctim.tv_sec) * 1'000'000'000 + st.st_ctim.tv_nsec,
          static_cast<uint32_t>(st.st_mode)};
}

namespace {

// File layout: magic, u64 count, entries, u64 xxh3 of everything before it.
// Entry: u32 path length, path, u64 dev, ino, size, i64 mtime, ctime, u32 mode,
// i64 hashed_at, 32 digest bytes. Little-endian host order (the file never
// leaves this machine).
constexpr llvm::StringLiteral kMagic = "KILNSTC1";

template <typename T>
void put(std::string& out, T value) {
  out.append(reinterpret_cast<const char*>(&value), sizeof(value));
}

struct Reader {
  llvm::StringRef data;
  bool ok = true;
  template <typename T>
  T get() {
    T value{};
    if (data.size() < sizeof(T)) {
      ok = false;
      return value;
    }
    std::memcpy(&value, data.data(), sizeof(T));
    data = data.drop_front(sizeof(T));
    return value;
  }
  llvm::StringRef bytes(size_t n) {
    if (data.size() < n) {
      ok = false;
      return {};
    }
    llvm::StringRef out = data.take_front(n);
    data = data.drop_front(n);
    return out;
  }
};

}  // namespace

int64_t realtime_ns() {
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

StatCache::StatCache(std::string path, int64_t racy_window_ns)
    : path_(std::move(path)), racy_window_ns_(racy_window_ns) {}

llvm::Error StatCache::load() {
  std::unique_lock lock(mu_);
  entries_.clear();
  dirty_ = false;
  if (!fs::exists(path_)) {
    return llvm::Error::success();
  }
  auto text = fs::read_file(path_);
  if (!text) {
    return text.takeError();
  }
  llvm::StringRef data(*text);
  if (data.size() < kMagic.size() + 16 || !data.startswith(kMagic)) {
    return llvm::Error::success();
  }
  llvm::StringRef body = data.drop_back(8);
  uint64_t sum = 0;
  std::memcpy(&sum, data.take_back(8).data(), 8);
  if (sum != xxh3_64(body)) {
    return llvm::Error::success();
  }
  Reader r{body.drop_front(kMagic.size())};
  uint64_t count = r.get<uint64_t>();
  std::unordered_map<std::string, Entry> entries;
  entries.reserve(count);
  for (uint64_t i = 0; i < count && r.ok; ++i) {
    llvm::StringRef path = r.bytes(r.get<uint32_t>());
    Entry e;
    e.id.dev = r.get<uint64_t>();
    e.id.ino = r.get<uint64_t>();
    e.id.size = r.get<uint64_t>();
    e.id.mtime_ns = r.get<int64_t>();
    e.id.ctime_ns = r.get<int64_t>();
    e.id.mode = r.get<uint32_t>();
    e.hashed_at_ns = r.get<int64_t>();
    e.digest = Digest(r.get<std::array<uint8_t, 32>>());
    entries.emplace(path.str(), e);
  }
  if (r.ok && r.data.empty()) {
    entries_ = std::move(entries);
  }
  return llvm::Error::success();
}

llvm::Error StatCache::save() {
  std::unique_lock lock(mu_);
  if (!dirty_) {
    return llvm::Error::success();
  }
  std::string out(kMagic);
  put<uint64_t>(out, entries_.size());
  for (const auto& [path, e] : entries_) {
    put<uint32_t>(out, static_cast<uint32_t>(path.size()));
    out += path;
    put(out, e.id.dev);
    put(out, e.id.ino);
    put(out, e.id.size);
    put(out, e.id.mtime_ns);
    put(out, e.id.ctime_ns);
    put(out, e.id.mode);
    put(out, e.hashed_at_ns);
    put(out, e.digest.bytes());
  }
  put<uint64_t>(out, xxh3_64(out));
  if (llvm::Error err = write_file_atomic(path_, out)) {
    return with_context(std::move(err), "save stat cache");
  }
  dirty_ = false;
  return llvm::Error::success();
}

std::optional<Digest> StatCache::lookup(llvm::StringRef path, const FileIdentity& id) const {
  std::shared_lock lock(mu_);
  auto it = entries_.find(path.str());
  if (it == entries_.end() || it->second.id != id) {
    return std::nullopt;
  }
  int64_t changed = std::max(id.mtime_ns, id.ctime_ns);
  if (changed + racy_window_ns_ >= it->second.hashed_at_ns) {
    return std::nullopt;
  }
  return it->second.digest;
}

void StatCache::record(llvm::StringRef path, const FileIdentity& id, const Digest& digest,
                       int64_t hashed_at_ns) {
  std::unique_lock lock(mu_);
  Entry& e = entries_[path.str()];
  if (e.id == id && e.digest == digest && e.hashed_at_ns == hashed_at_ns) {
    return;
  }
  e = Entry{id, hashed_at_ns, digest};
  dirty_ = true;
}

}  // namespace kiln::cache
