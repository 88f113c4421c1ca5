#include "cache/layer_unpack.h"

#include <archive.h>
#include <archive_entry.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <condition_variable>
#include <cstdint>
#include <cstdlib>
#include <deque>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <llvm/ADT/SmallVector.h>

#include "support/error.h"
#include "support/fs.h"

namespace kiln::cache {
namespace {

constexpr llvm::StringLiteral kWhiteoutPrefix = ".wh.";
constexpr llvm::StringLiteral kOpaqueMarker = ".wh..wh..opq";
constexpr llvm::StringLiteral kOverlayXattrPrefix = "trusted.overlay.";

using ArchivePtr = std::unique_ptr<struct archive, int (*)(struct archive*)>;

llvm::Error archive_error(struct archive* a, const llvm::Twine& what) {
  const char* msg = archive_error_string(a);
  return make_error(what + ": " + (msg != nullptr ? msg : "libarchive error"));
}

/// Decompresses and hashes a blob on its own thread, so that inflating overlaps
/// with writing files, and hands the bytes to the tar reader in order.
class DecompressPipe {
 public:
  /// Inflates `outer` (of `compressed` bytes) within `limits`.
  DecompressPipe(struct archive* outer, uint64_t compressed, const InflateLimits& limits)
      : outer_(outer),
        budget_(limits.budget(compressed)),
        too_large_(limits.exceeded(compressed)),
        thread_([this] { produce(); }) {}
  ~DecompressPipe() {
    {
      std::lock_guard lock(mu_);
      cancel_ = true;
    }
    space_cv_.notify_all();
    thread_.join();
  }

  /// libarchive read callback: the next decompressed block, 0 at the end.
  static la_ssize_t read_cb(struct archive*, void* self, const void** buf) {
    auto* pipe = static_cast<DecompressPipe*>(self);
    std::unique_lock lock(pipe->mu_);
    pipe->data_cv_.wait(lock, [&] { return !pipe->queue_.empty() || pipe->done_; });
    if (pipe->queue_.empty()) {
      return pipe->error_.empty() ? 0 : -1;
    }
    pipe->current_ = std::move(pipe->queue_.front());
    pipe->queue_.pop_front();
    pipe->space_cv_.notify_all();
    *buf = pipe->current_.data();
    return static_cast<la_ssize_t>(pipe->current_.size());
  }

  /// Hashes the rest of the stream (padding after the tar's end) and returns the
  /// DiffID, or the decompression error.
  llvm::Expected<Digest> finish() {
    {
      std::unique_lock lock(mu_);
      draining_ = true;
      queue_.clear();
      space_cv_.notify_all();
      data_cv_.wait(lock, [&] { return done_; });
    }
    if (!error_.empty()) {
      return make_error("decompress: " + error_);
    }
    return hash_.finish();
  }

  /// The decompression error, empty when there was none (yet).
  std::string error() {
    std::lock_guard lock(mu_);
    return error_;
  }

 private:
  static constexpr size_t kDepth = 16;

  void produce() {
    while (true) {
      const void* block;
      size_t size;
      la_int64_t offset;
      int rc = archive_read_data_block(outer_, &block, &size, &offset);
      if (rc == ARCHIVE_EOF || rc < ARCHIVE_WARN) {
        const char* msg = rc == ARCHIVE_EOF ? nullptr : archive_error_string(outer_);
        std::lock_guard lock(mu_);
        if (rc != ARCHIVE_EOF) {
          error_ = msg != nullptr ? msg : "truncated or corrupt compressed stream";
        }
        done_ = true;
        data_cv_.notify_all();
        return;
      }
      hash_.update(block, size);
      inflated_ += size;
      std::unique_lock lock(mu_);
      if (inflated_ > budget_) {
        error_ = too_large_;
        done_ = true;
        data_cv_.notify_all();
        return;
      }
      if (size == 0 || draining_) {
        continue;
      }
      std::string chunk(static_cast<const char*>(block), size);
      space_cv_.wait(lock, [&] { return cancel_ || draining_ || queue_.size() < kDepth; });
      if (cancel_) {
        done_ = true;
        return;
      }
      if (!draining_) {
        queue_.push_back(std::move(chunk));
        data_cv_.notify_all();
      }
    }
  }

  struct archive* outer_;
  const uint64_t budget_;
  const std::string too_large_;
  uint64_t inflated_ = 0;  // producer thread only
  Sha256 hash_;            // producer thread only, until done_
  std::mutex mu_;
  std::condition_variable data_cv_;   // queue_ grew or done_
  std::condition_variable space_cv_;  // queue_ shrank, draining_ or cancel_
  std::deque<std::string> queue_;
  std::string current_;  // the block the tar reader is reading
  std::string error_;
  bool done_ = false;
  bool draining_ = false;
  bool cancel_ = false;
  std::thread thread_;  // last: starts after the members above exist
};

/// Splits a tar entry name into clean components; fails when it escapes.
llvm::Expected<llvm::SmallVector<llvm::StringRef, 8>> clean_components(llvm::StringRef name,
                                                                       llvm::StringRef entry) {
  if (name.startswith("/")) {
    return make_error("entry " + quote(entry) + " has an absolute path");
  }
  llvm::SmallVector<llvm::StringRef, 8> parts;
  name.split(parts, '/', -1, false);
  llvm::SmallVector<llvm::StringRef, 8> out;
  for (llvm::StringRef p : parts) {
    if (p == ".") {
      continue;
    }
    if (p == "..") {
      return make_error("entry " + quote(entry) + " escapes the layer with '..'");
    }
    out.push_back(p);
  }
  return out;
}

std::string join_components(llvm::ArrayRef<llvm::StringRef> parts) {
  std::string out;
  for (llvm::StringRef p : parts) {
    if (!out.empty()) {
      out += '/';
    }
    out += p.str();
  }
  return out;
}

class Unpacker {
 public:
  explicit Unpacker(std::string dest) : dest_(std::move(dest)) {}

  /// Extracts every entry of `tar` through `disk`.
  llvm::Error run(struct archive* tar, struct archive* disk);
  /// Marks the directories of ".wh..wh..opq" entries opaque (after the extraction,
  /// so that libarchive's directory fix-ups cannot undo it).
  llvm::Error finish_opaque_dirs();

 private:
  llvm::Error check_symlinks(const std::string& rel, llvm::StringRef entry) const {
    for (size_t pos = rel.find('/'); pos != std::string::npos; pos = rel.find('/', pos + 1)) {
      if (symlinks_.count(rel.substr(0, pos)) != 0) {
        return make_error("entry " + quote(entry) + " escapes the layer through symlink " +
                          quote(rel.substr(0, pos)));
      }
    }
    return llvm::Error::success();
  }
  llvm::Error make_whiteout(const std::string& rel);
  llvm::Error write_entry(struct archive* tar, struct archive* disk, archive_entry* e,
                          const std::string& rel, llvm::StringRef entry);
  static void drop_overlay_xattrs(archive_entry* e);

  std::string dest_;
  std::set<std::string> symlinks_;  // relative paths of this layer's symlinks
  std::vector<std::string> opaque_dirs_;
};

llvm::Error Unpacker::make_whiteout(const std::string& rel) {
  std::string path = fs::join(dest_, rel);
  if (auto err = fs::make_dirs(llvm::StringRef(path).rsplit('/').first)) {
    return err;
  }
  if (auto err = fs::remove_all(path)) {
    return err;
  }
  if (::mknod(path.c_str(), S_IFCHR | 0, makedev(0, 0)) != 0) {
    return make_io_error("create whiteout", path, errno);
  }
  return llvm::Error::success();
}

void Unpacker::drop_overlay_xattrs(archive_entry* e) {
  std::vector<std::pair<std::string, std::string>> keep;
  bool dropped = false;
  const char* name;
  const void* value;
  size_t size;
  archive_entry_xattr_reset(e);
  while (archive_entry_xattr_next(e, &name, &value, &size) == ARCHIVE_OK) {
    if (llvm::StringRef(name).startswith(kOverlayXattrPrefix)) {
      dropped = true;
      continue;
    }
    keep.emplace_back(name, std::string(static_cast<const char*>(value), size));
  }
  if (!dropped) {
    return;
  }
  archive_entry_xattr_clear(e);
  for (const auto& [k, v] : keep) {
    archive_entry_xattr_add_entry(e, k.c_str(), v.data(), v.size());
  }
}

llvm::Error Unpacker::write_entry(struct archive* tar, struct archive* disk, archive_entry* e,
                                  const std::string& rel, llvm::StringRef entry) {
  if (const char* link = archive_entry_hardlink(e)) {
    auto parts = clean_components(link, entry);
    if (!parts) {
      return parts.takeError();
    }
    std::string target = join_components(*parts);
    if (auto err = check_symlinks(target + "/", entry)) {
      return err;
    }
    archive_entry_set_hardlink(e, fs::join(dest_, target).c_str());
  }
  if (archive_entry_filetype(e) == AE_IFLNK) {
    symlinks_.insert(rel);
  } else {
    symlinks_.erase(rel);
  }
  drop_overlay_xattrs(e);
  archive_entry_set_pathname(e, fs::join(dest_, rel).c_str());
  if (archive_write_header(disk, e) < ARCHIVE_WARN) {
    return archive_error(disk, "entry " + quote(entry));
  }
  const void* block;
  size_t size;
  la_int64_t offset;
  int rc;
  while ((rc = archive_read_data_block(tar, &block, &size, &offset)) == ARCHIVE_OK) {
    if (archive_write_data_block(disk, block, size, offset) < ARCHIVE_WARN) {
      return archive_error(disk, "entry " + quote(entry));
    }
  }
  if (rc != ARCHIVE_EOF) {
    return archive_error(tar, "entry " + quote(entry));
  }
  if (archive_write_finish_entry(disk) < ARCHIVE_WARN) {
    return archive_error(disk, "entry " + quote(entry));
  }
  return llvm::Error::success();
}

llvm::Error Unpacker::run(struct archive* tar, struct archive* disk) {
  archive_entry* e;
  int rc;
  while ((rc = archive_read_next_header(tar, &e)) == ARCHIVE_OK) {
    std::string entry = archive_entry_pathname(e) != nullptr ? archive_entry_pathname(e) : "";
    auto parts = clean_components(entry, entry);
    if (!parts) {
      return parts.takeError();
    }
    if (parts->empty()) {
      continue;  // the layer's root directory
    }
    std::string rel = join_components(*parts);
    if (auto err = check_symlinks(rel, entry)) {
      return err;
    }
    llvm::StringRef base = parts->back();
    std::string parent = join_components(llvm::ArrayRef<llvm::StringRef>(*parts).drop_back());
    if (base == kOpaqueMarker) {
      opaque_dirs_.push_back(parent);
      continue;
    }
    if (base.startswith(kWhiteoutPrefix)) {
      std::string target = fs::join(parent, base.drop_front(kWhiteoutPrefix.size()));
      if (auto err = make_whiteout(target)) {
        return err;
      }
      continue;
    }
    if (auto err = write_entry(tar, disk, e, rel, entry)) {
      return err;
    }
  }
  if (rc != ARCHIVE_EOF) {
    return archive_error(tar, "read tar");
  }
  return llvm::Error::success();
}

llvm::Error Unpacker::finish_opaque_dirs() {
  for (const std::string& rel : opaque_dirs_) {
    std::string path = fs::join(dest_, rel);
    if (auto err = fs::make_dirs(path)) {
      return err;
    }
    if (::lsetxattr(path.c_str(), "trusted.overlay.opaque", "y", 1, 0) != 0) {
      return make_io_error("mark opaque", path, errno);
    }
  }
  return llvm::Error::success();
}

/// The umask the process started with (read during static initialization,
/// before any thread runs).
mode_t read_umask() {
  mode_t m = ::umask(022);
  ::umask(m);
  return m;
}
const mode_t kProcessUmask = read_umask();

/// Puts the process umask back when an unpack ends: libarchive's disk writer
/// sets it to 0 and back (when created, and for every entry), so that threads
/// unpacking at once can leave it 0.
struct UmaskRestorer {
  ~UmaskRestorer() { restore_process_umask(); }
};

llvm::Expected<ArchivePtr> open_outer(llvm::StringRef blob_path) {
  ArchivePtr outer(archive_read_new(), archive_read_free);
  archive_read_support_filter_gzip(outer.get());
  archive_read_support_filter_zstd(outer.get());
  archive_read_support_format_raw(outer.get());
  if (archive_read_open_filename(outer.get(), blob_path.str().c_str(), 1 << 20) != ARCHIVE_OK) {
    return archive_error(outer.get(), "open");
  }
  archive_entry* e;
  if (archive_read_next_header(outer.get(), &e) != ARCHIVE_OK) {
    return archive_error(outer.get(), "read");
  }
  return outer;
}

uint64_t file_size(llvm::StringRef path) {
  struct stat st {};
  return ::stat(path.str().c_str(), &st) == 0 ? static_cast<uint64_t>(st.st_size) : 0;
}

uint64_t env_number(const char* name, uint64_t fallback) {
  const char* text = ::getenv(name);
  uint64_t value = 0;
  if (text == nullptr || llvm::StringRef(text).getAsInteger(10, value)) {
    return fallback;
  }
  return value;
}

}  // namespace

InflateLimits InflateLimits::from_env() {
  InflateLimits limits;
  limits.max_ratio = env_number("KILN_LAYER_MAX_RATIO", limits.max_ratio);
  limits.max_bytes = env_number("KILN_LAYER_MAX_SIZE", limits.max_bytes);
  return limits;
}

uint64_t InflateLimits::budget(uint64_t compressed) const {
  uint64_t out = UINT64_MAX;
  if (max_ratio != 0) {
    uint64_t by_ratio = compressed > UINT64_MAX / max_ratio ? UINT64_MAX : compressed * max_ratio;
    out = std::max(by_ratio, kInflateFloor);
  }
  if (max_bytes != 0) {
    out = std::min(out, max_bytes);
  }
  return out;
}

std::string InflateLimits::exceeded(uint64_t compressed) const {
  return "layer inflates to more than " + std::to_string(budget(compressed)) +
         " bytes (limits: KILN_LAYER_MAX_RATIO=" + std::to_string(max_ratio) +
         " times the compressed size of " + std::to_string(compressed) +
         " bytes, KILN_LAYER_MAX_SIZE=" + std::to_string(max_bytes) + ")";
}

void restore_process_umask() { ::umask(kProcessUmask); }

llvm::Expected<Digest> layer_diff_id(llvm::StringRef blob_path, const InflateLimits& limits) {
  auto outer = open_outer(blob_path);
  if (!outer) {
    return outer.takeError();
  }
  uint64_t compressed = file_size(blob_path);
  uint64_t budget = limits.budget(compressed);
  uint64_t inflated = 0;
  Sha256 hash;
  while (true) {
    const void* block;
    size_t size;
    la_int64_t offset;
    int rc = archive_read_data_block(outer->get(), &block, &size, &offset);
    if (rc == ARCHIVE_EOF) {
      return hash.finish();
    }
    if (rc < ARCHIVE_WARN) {
      return archive_error(outer->get(), "decompress");
    }
    hash.update(block, size);
    inflated += size;
    if (inflated > budget) {
      return make_error("decompress: " + limits.exceeded(compressed));
    }
  }
}

llvm::Expected<Digest> unpack_layer(llvm::StringRef blob_path, llvm::StringRef dest,
                                    std::optional<Digest> expected_diff_id,
                                    const InflateLimits& limits) {
  UmaskRestorer umask_restorer;
  auto context = "unpack layer " + quote(blob_path);
  char* real = ::realpath(dest.str().c_str(), nullptr);
  if (real == nullptr) {
    return with_context(make_io_error("resolve", dest, errno), context);
  }
  std::string dest_real = real;
  ::free(real);
  auto outer = open_outer(blob_path);
  if (!outer) {
    return with_context(outer.takeError(), context);
  }
  ArchivePtr tar(archive_read_new(), archive_read_free);
  archive_read_support_format_tar(tar.get());
  ArchivePtr disk(archive_write_disk_new(), archive_write_free);
  archive_write_disk_set_options(disk.get(), ARCHIVE_EXTRACT_OWNER | ARCHIVE_EXTRACT_PERM |
                                                 ARCHIVE_EXTRACT_TIME | ARCHIVE_EXTRACT_XATTR |
                                                 ARCHIVE_EXTRACT_SECURE_SYMLINKS |
                                                 ARCHIVE_EXTRACT_SECURE_NODOTDOT);
  DecompressPipe stream(outer->get(), file_size(blob_path), limits);
  Unpacker unpacker(dest_real);
  llvm::Error err = llvm::Error::success();
  if (archive_read_open(tar.get(), &stream, nullptr, &DecompressPipe::read_cb, nullptr) !=
      ARCHIVE_OK) {
    err = archive_error(tar.get(), "read tar");
  } else {
    err = unpacker.run(tar.get(), disk.get());
  }
  if (!err && archive_write_close(disk.get()) != ARCHIVE_OK) {
    err = archive_error(disk.get(), "finish");
  }
  if (!err) {
    err = unpacker.finish_opaque_dirs();
  }
  if (err) {
    std::string decompress_error = stream.error();
    if (!decompress_error.empty()) {
      llvm::consumeError(std::move(err));
      err = make_error("decompress: " + decompress_error);
    }
    return with_context(std::move(err), context);
  }
  auto finished = stream.finish();
  if (!finished) {
    return with_context(finished.takeError(), context);
  }
  Digest diff_id = *finished;
  if (expected_diff_id && *expected_diff_id != diff_id) {
    return with_context(make_error("diff ID mismatch: expected " + quote(expected_diff_id->str()) +
                                   ", got " + quote(diff_id.str())),
                        context);
  }
  return diff_id;
}

}  // namespace kiln::cache
