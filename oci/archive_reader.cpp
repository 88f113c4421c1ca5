#include "oci/archive_reader.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>

#include <algorithm>
#include <cerrno>
#include <functional>

#include "oci/archive_entries.h"
#include "support/error.h"
#include "support/fs.h"

namespace kiln::oci {

namespace {

using detail::ArchiveEntry;
using detail::EntryTable;

constexpr size_t kReadBlock = 1 << 20;
constexpr size_t kHeadSize = 16;

// Top-level files that describe the archive rather than hold blobs.
bool is_metadata_name(llvm::StringRef name) {
  return name == "manifest.json" || name == "index.json" || name == "oci-layout" ||
         name == "repositories";
}

llvm::Error entry_error(llvm::StringRef name, const llvm::Twine& message) {
  return make_error("entry " + quote(name) + ": " + message);
}

// Splits `path` into components, dropping empty and "." ones; fails on "..".
bool split_clean(llvm::StringRef path, llvm::SmallVectorImpl<llvm::StringRef>& out) {
  llvm::SmallVector<llvm::StringRef, 8> parts;
  path.split(parts, '/');
  for (auto part : parts) {
    if (part.empty() || part == ".") {
      continue;
    }
    if (part == "..") {
      return false;
    }
    out.push_back(part);
  }
  return true;
}

// The archive path of entry `raw`: relative, no "." or empty components. An empty
// result is the archive root.
llvm::Expected<std::string> normalize_name(llvm::StringRef raw) {
  if (raw.startswith("/")) {
    return entry_error(raw, "absolute path");
  }
  llvm::SmallVector<llvm::StringRef, 8> parts;
  if (!split_clean(raw, parts)) {
    return entry_error(raw, "path escapes the archive");
  }
  return llvm::join(parts, "/");
}

// The archive path a symbolic link at `name` points to.
llvm::Expected<std::string> resolve_symlink(llvm::StringRef name, llvm::StringRef target) {
  if (target.startswith("/")) {
    return entry_error(name, "link target " + quote(target) + " is absolute");
  }
  llvm::SmallVector<llvm::StringRef, 8> parts;
  name.split(parts, '/');
  parts.pop_back();
  llvm::SmallVector<llvm::StringRef, 8> rel;
  target.split(rel, '/');
  for (auto part : rel) {
    if (part.empty() || part == ".") {
      continue;
    }
    if (part == "..") {
      if (parts.empty()) {
        return entry_error(name, "link target " + quote(target) + " escapes the archive");
      }
      parts.pop_back();
      continue;
    }
    parts.push_back(part);
  }
  return llvm::join(parts, "/");
}

// Adds entries to a table, streaming file contents to the sink.
class TableBuilder {
 public:
  TableBuilder(EntryTable& table, BlobSink& sink, const ReadOptions& options)
      : table_(table), sink_(sink), options_(options) {}

  /// Reads the next block of the current file: empty at the end.
  using NextBlock = std::function<llvm::Expected<llvm::StringRef>()>;

  llvm::Error add_dir(const std::string& name);
  llvm::Error add_link(const std::string& name, std::string target);
  llvm::Error add_file(const std::string& name, int64_t size, const NextBlock& next);

 private:
  llvm::Error check_new(const std::string& name, ArchiveEntry::Kind kind);
  llvm::Error check_blob_name(const std::string& name, const Digest& digest);
  // Streams the current file into `e` (writer, hash, head, and bytes when `keep`).
  llvm::Error stream(const std::string& name, const NextBlock& next, bool keep, ArchiveEntry& e);

  EntryTable& table_;
  BlobSink& sink_;
  const ReadOptions& options_;
  int64_t kept_total_ = 0;
};

llvm::Error TableBuilder::check_new(const std::string& name, ArchiveEntry::Kind kind) {
  auto it = table_.entries.find(name);
  if (it != table_.entries.end()) {
    if (kind == ArchiveEntry::Kind::dir && it->second.kind == kind) {
      return llvm::Error::success();
    }
    return entry_error(name, "duplicate entry");
  }
  for (size_t slash = name.find('/'); slash != std::string::npos;
       slash = name.find('/', slash + 1)) {
    auto parent = table_.entries.find(name.substr(0, slash));
    if (parent == table_.entries.end()) {
      continue;
    }
    if (parent->second.kind == ArchiveEntry::Kind::link) {
      return entry_error(name, "parent " + quote(parent->first) + " is a link");
    }
    if (parent->second.kind == ArchiveEntry::Kind::file) {
      return entry_error(name, "parent " + quote(parent->first) + " is a file");
    }
  }
  if (kind != ArchiveEntry::Kind::dir) {
    auto child = table_.entries.lower_bound(name + "/");
    if (child != table_.entries.end() && llvm::StringRef(child->first).startswith(name + "/")) {
      return entry_error(name, "duplicate entry");
    }
  }
  return llvm::Error::success();
}

llvm::Error TableBuilder::add_dir(const std::string& name) {
  if (auto err = check_new(name, ArchiveEntry::Kind::dir)) {
    return err;
  }
  table_.entries[name].kind = ArchiveEntry::Kind::dir;
  return llvm::Error::success();
}

llvm::Error TableBuilder::add_link(const std::string& name, std::string target) {
  if (auto err = check_new(name, ArchiveEntry::Kind::link)) {
    return err;
  }
  ArchiveEntry& e = table_.entries[name];
  e.kind = ArchiveEntry::Kind::link;
  e.link_target = std::move(target);
  return llvm::Error::success();
}

llvm::Error TableBuilder::check_blob_name(const std::string& name, const Digest& digest) {
  llvm::StringRef rest = name;
  if (!rest.consume_front("blobs/sha256/")) {
    return llvm::Error::success();
  }
  auto named = Digest::from_hex(rest);
  if (!named) {
    llvm::consumeError(named.takeError());
    return entry_error(name, "not a sha256 blob name");
  }
  if (*named != digest) {
    return entry_error(name, "content digest is " + quote(digest.str()));
  }
  return llvm::Error::success();
}

llvm::Error TableBuilder::stream(const std::string& name, const NextBlock& next, bool keep,
                                 ArchiveEntry& e) {
  std::string kept;
  Sha256 hash;
  int64_t total = 0;
  while (true) {
    auto block = next();
    if (!block) {
      return with_context(block.takeError(), "entry " + quote(name));
    }
    if (block->empty()) {
      break;
    }
    if (total == 0 && e.writer) {
      keep = keep && (block->front() == '{' || block->front() == '[');
    }
    if (e.head.size() < kHeadSize) {
      e.head += block->take_front(kHeadSize - e.head.size()).str();
    }
    if (keep) {
      kept += *block;
    }
    hash.update(*block);
    total += static_cast<int64_t>(block->size());
    if (e.writer) {
      if (auto err = e.writer->write(*block)) {
        return with_context(std::move(err), "entry " + quote(name));
      }
    }
  }
  e.digest = hash.finish();
  e.size = total;
  if (keep) {
    kept_total_ += total;
    e.bytes = std::move(kept);
  }
  return llvm::Error::success();
}

llvm::Error TableBuilder::add_file(const std::string& name, int64_t size, const NextBlock& next) {
  if (auto err = check_new(name, ArchiveEntry::Kind::file)) {
    return err;
  }
  bool metadata = is_metadata_name(name);
  if (metadata && size > options_.max_json_size) {
    return entry_error(name, "larger than " + llvm::Twine(options_.max_json_size) + " bytes");
  }
  ArchiveEntry e;
  if (!metadata) {
    auto writer = sink_.begin();
    if (!writer) {
      return writer.takeError();
    }
    e.writer = std::move(*writer);
  }
  // Metadata is always kept; other JSON-looking files while the memory budget lasts.
  bool keep =
      metadata || (size <= options_.max_json_size && kept_total_ + size <= options_.max_json_total);
  if (auto err = stream(name, next, keep, e)) {
    return err;
  }
  if (e.size != size) {
    return entry_error(name, "truncated archive");
  }
  if (auto err = check_blob_name(name, e.digest)) {
    return err;
  }
  if (e.writer) {
    table_.by_digest.emplace(e.digest, name);
  }
  table_.entries[name] = std::move(e);
  return llvm::Error::success();
}

// Scans a tar stream with libarchive.
class TarScanner {
 public:
  TarScanner(int fd, TableBuilder& builder) : fd_(fd), builder_(builder) {}
  ~TarScanner() {
    if (archive_) {
      archive_read_free(archive_);
    }
  }

  llvm::Error scan();

 private:
  llvm::Error libarchive_error(bool in_entry);
  llvm::Error add_entry(struct archive_entry* entry);

  int fd_;
  TableBuilder& builder_;
  struct archive* archive_ = nullptr;
  int entries_seen_ = 0;
};

llvm::Error TarScanner::libarchive_error(bool in_entry) {
  const char* raw = archive_error_string(archive_);
  llvm::StringRef msg = raw ? raw : "unknown error";
  if (entries_seen_ == 0 && !in_entry) {
    if (msg.contains("Unrecognized archive format") || msg.contains("invalid") ||
        msg.contains("Damaged")) {
      return make_error("not a tar archive");
    }
  }
  if (msg.contains_insensitive("truncated") || msg.contains("Premature end")) {
    return make_error("truncated archive");
  }
  return make_error("read archive: " + msg);
}

llvm::Error TarScanner::add_entry(struct archive_entry* entry) {
  const char* raw_name = archive_entry_pathname(entry);
  std::string raw = raw_name ? raw_name : "";
  auto name = normalize_name(raw);
  if (!name) {
    return name.takeError();
  }
  if (const char* hardlink = archive_entry_hardlink(entry)) {
    auto target = normalize_name(hardlink);
    if (!target) {
      return entry_error(raw, "link target " + quote(hardlink) + " escapes the archive");
    }
    return builder_.add_link(*name, *target);
  }
  mode_t type = archive_entry_filetype(entry);
  if (name->empty()) {
    if (type == AE_IFDIR) {
      return llvm::Error::success();
    }
    return entry_error(raw, "not a file name");
  }
  switch (type) {
    case AE_IFDIR:
      return builder_.add_dir(*name);
    case AE_IFLNK: {
      const char* target = archive_entry_symlink(entry);
      auto resolved = resolve_symlink(*name, target ? target : "");
      if (!resolved) {
        return resolved.takeError();
      }
      return builder_.add_link(*name, *resolved);
    }
    case AE_IFREG:
      break;
    case AE_IFCHR:
    case AE_IFBLK:
      return entry_error(raw, "device files are not allowed");
    default:
      return entry_error(raw, "unsupported file type");
  }
  auto next = [this]() -> llvm::Expected<llvm::StringRef> {
    const void* buf = nullptr;
    size_t size = 0;
    la_int64_t offset = 0;
    int rc = archive_read_data_block(archive_, &buf, &size, &offset);
    if (rc == ARCHIVE_EOF) {
      return llvm::StringRef();
    }
    if (rc < ARCHIVE_WARN) {
      return libarchive_error(true);
    }
    return llvm::StringRef(static_cast<const char*>(buf), size);
  };
  return builder_.add_file(*name, archive_entry_size(entry), next);
}

llvm::Error TarScanner::scan() {
  archive_ = archive_read_new();
  // Only in-process decompressors: filter_all would run external programs (lrzip,
  // lzop, ...) on hostile input.
  archive_read_support_filter_gzip(archive_);
  archive_read_support_filter_zstd(archive_);
  archive_read_support_filter_xz(archive_);
  archive_read_support_filter_bzip2(archive_);
  archive_read_support_format_tar(archive_);
  if (archive_read_open_fd(archive_, fd_, kReadBlock) != ARCHIVE_OK) {
    return libarchive_error(false);
  }
  struct archive_entry* entry = nullptr;
  while (true) {
    int rc = archive_read_next_header(archive_, &entry);
    if (rc == ARCHIVE_EOF) {
      return llvm::Error::success();
    }
    if (rc < ARCHIVE_WARN) {
      return libarchive_error(false);
    }
    ++entries_seen_;
    if (auto err = add_entry(entry)) {
      return err;
    }
  }
}

// Adds the files of an OCI layout directory.
llvm::Error scan_layout_dir(llvm::StringRef dir, TableBuilder& builder) {
  std::vector<std::string> names = {"oci-layout", "index.json"};
  std::string blob_dir = fs::join(dir, "blobs/sha256");
  if (DIR* d = ::opendir(blob_dir.c_str())) {
    while (struct dirent* ent = ::readdir(d)) {
      llvm::StringRef n = ent->d_name;
      if (n != "." && n != "..") {
        names.push_back("blobs/sha256/" + n.str());
      }
    }
    ::closedir(d);
  }
  std::sort(names.begin() + 2, names.end());
  auto buffer = std::make_unique<char[]>(kReadBlock);
  for (const auto& name : names) {
    std::string path = fs::join(dir, name);
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) {
      if (errno == ENOENT && name == "index.json") {
        return make_error("no index.json in " + quote(dir));
      }
      if (errno == ENOENT) {
        continue;
      }
      return make_io_error("open", path, errno);
    }
    struct stat st;
    if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
      ::close(fd);
      return entry_error(name, "not a regular file");
    }
    auto next = [&]() -> llvm::Expected<llvm::StringRef> {
      ssize_t n;
      do {
        n = ::read(fd, buffer.get(), kReadBlock);
      } while (n < 0 && errno == EINTR);
      if (n < 0) {
        return make_io_error("read", path, errno);
      }
      return llvm::StringRef(buffer.get(), static_cast<size_t>(n));
    };
    llvm::Error err = builder.add_file(name, st.st_size, next);
    ::close(fd);
    if (err) {
      return err;
    }
  }
  return llvm::Error::success();
}

}  // namespace

llvm::Expected<std::vector<LoadedImage>> read_archive(int fd, BlobSink& sink,
                                                      const ReadOptions& options) {
  EntryTable table;
  TableBuilder builder(table, sink, options);
  TarScanner scanner(fd, builder);
  if (auto err = scanner.scan()) {
    return err;
  }
  return detail::resolve_images(table, sink, options);
}

llvm::Expected<std::vector<LoadedImage>> read_layout_dir(llvm::StringRef dir, BlobSink& sink,
                                                         const ReadOptions& options) {
  EntryTable table;
  TableBuilder builder(table, sink, options);
  if (auto err = scan_layout_dir(dir, builder)) {
    return err;
  }
  return detail::resolve_images(table, sink, options);
}

}  // namespace kiln::oci
