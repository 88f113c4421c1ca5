#include "cache/layer_tar.h"

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "support/error.h"
#include "support/fs.h"

namespace kiln::cache {
namespace {

constexpr llvm::StringLiteral kWhiteoutPrefix = ".wh.";
constexpr llvm::StringLiteral kOpaqueMarker = ".wh..wh..opq";
constexpr llvm::StringLiteral kOverlayXattrPrefix = "trusted.overlay.";
constexpr llvm::StringLiteral kOpaqueXattr = "trusted.overlay.opaque";

/// One directory entry, named as it will appear in the tar.
struct Child {
  std::string tar_name;
  std::string disk_name;
  struct stat st {};
  bool whiteout = false;
};

/// The xattrs of `path` (not following symlinks), sorted by name.
llvm::Expected<std::vector<std::pair<std::string, std::string>>> read_xattrs(
    const std::string& path) {
  std::vector<std::pair<std::string, std::string>> out;
  ssize_t size = ::llistxattr(path.c_str(), nullptr, 0);
  if (size < 0) {
    if (errno == ENOTSUP) {
      return out;
    }
    return make_io_error("list xattrs of", path, errno);
  }
  std::string names(static_cast<size_t>(size), '\0');
  size = ::llistxattr(path.c_str(), names.data(), names.size());
  if (size < 0) {
    return make_io_error("list xattrs of", path, errno);
  }
  names.resize(static_cast<size_t>(size));
  for (size_t pos = 0; pos < names.size();) {
    std::string name(names.c_str() + pos);
    pos += name.size() + 1;
    std::string value(256, '\0');
    ssize_t n;
    while ((n = ::lgetxattr(path.c_str(), name.c_str(), value.data(), value.size())) < 0 &&
           errno == ERANGE) {
      value.resize(value.size() * 4);
    }
    if (n < 0) {
      return make_io_error("read xattr '" + name + "' of", path, errno);
    }
    value.resize(static_cast<size_t>(n));
    out.emplace_back(std::move(name), std::move(value));
  }
  std::sort(out.begin(), out.end());
  return out;
}

llvm::Expected<std::vector<Child>> list_children(const std::string& dir) {
  std::unique_ptr<DIR, int (*)(DIR*)> d(::opendir(dir.c_str()), ::closedir);
  if (!d) {
    return make_io_error("open directory", dir, errno);
  }
  std::vector<Child> out;
  errno = 0;
  while (struct dirent* ent = ::readdir(d.get())) {
    llvm::StringRef name(ent->d_name);
    if (name == "." || name == "..") {
      continue;
    }
    Child c;
    c.disk_name = name.str();
    std::string path = fs::join(dir, name);
    if (::lstat(path.c_str(), &c.st) != 0) {
      return make_io_error("stat", path, errno);
    }
    c.whiteout = S_ISCHR(c.st.st_mode) && c.st.st_rdev == makedev(0, 0);
    c.tar_name = c.whiteout ? (kWhiteoutPrefix + name).str() : name.str();
    if (S_ISSOCK(c.st.st_mode)) {
      continue;
    }
    out.push_back(std::move(c));
  }
  std::sort(out.begin(), out.end(),
            [](const Child& a, const Child& b) { return a.tar_name < b.tar_name; });
  return out;
}

class TarWriter {
 public:
  TarWriter(const TarOptions& options, const ByteSink& sink) : options_(options), sink_(sink) {}
  ~TarWriter() {
    llvm::consumeError(std::move(sink_error_));
    if (archive_ != nullptr) {
      archive_write_free(archive_);
    }
  }

  llvm::Error open() {
    archive_ = archive_write_new();
    if (archive_write_set_format_pax_restricted(archive_) != ARCHIVE_OK ||
        archive_write_set_bytes_per_block(archive_, 64 * 1024) != ARCHIVE_OK ||
        archive_write_set_bytes_in_last_block(archive_, 1) != ARCHIVE_OK ||
        archive_write_open(archive_, this, nullptr, &TarWriter::write_cb, nullptr) != ARCHIVE_OK) {
      return archive_error("open tar writer");
    }
    return llvm::Error::success();
  }

  llvm::Error walk(const std::string& dir, const std::string& prefix) {
    auto children = list_children(dir);
    if (!children) {
      return children.takeError();
    }
    for (Child& c : *children) {
      std::string path = fs::join(dir, c.disk_name);
      std::string name = prefix + c.tar_name;
      if (auto err = write_child(c, path, name)) {
        return err;
      }
      if (S_ISDIR(c.st.st_mode)) {
        if (auto err = walk(path, name + "/")) {
          return err;
        }
      }
    }
    return llvm::Error::success();
  }

  llvm::Error close() {
    if (archive_write_close(archive_) != ARCHIVE_OK) {
      return archive_error("finish tar");
    }
    return llvm::Error::success();
  }

 private:
  using EntryPtr = std::unique_ptr<archive_entry, void (*)(archive_entry*)>;

  static la_ssize_t write_cb(struct archive*, void* self, const void* buf, size_t size) {
    auto* w = static_cast<TarWriter*>(self);
    if (auto err = w->sink_(llvm::StringRef(static_cast<const char*>(buf), size))) {
      w->sink_error_ = std::move(err);
      return -1;
    }
    return static_cast<la_ssize_t>(size);
  }

  llvm::Error archive_error(const llvm::Twine& what) {
    if (sink_error_) {
      return std::move(sink_error_);
    }
    const char* msg = archive_error_string(archive_);
    return make_error(what + ": " + (msg != nullptr ? msg : "libarchive error"));
  }

  int64_t clamp(int64_t mtime) const {
    if (options_.source_date_epoch && mtime > *options_.source_date_epoch) {
      return *options_.source_date_epoch;
    }
    return mtime;
  }

  /// An empty regular file entry named `name` (a whiteout or the opaque marker).
  llvm::Error write_marker(const std::string& name, int64_t mtime) {
    EntryPtr e(archive_entry_new(), archive_entry_free);
    archive_entry_set_pathname(e.get(), name.c_str());
    archive_entry_set_mode(e.get(), AE_IFREG);
    archive_entry_set_size(e.get(), 0);
    archive_entry_set_mtime(e.get(), clamp(mtime), 0);
    return write_header(e.get(), name);
  }

  llvm::Error write_header(archive_entry* e, const std::string& name) {
    if (archive_write_header(archive_, e) < ARCHIVE_WARN) {
      return archive_error("write tar entry " + quote(name));
    }
    return llvm::Error::success();
  }

  llvm::Error write_child(const Child& c, const std::string& path, const std::string& name);
  llvm::Error write_contents(const std::string& path, const std::string& name);

  const TarOptions& options_;
  const ByteSink& sink_;
  struct archive* archive_ = nullptr;
  llvm::Error sink_error_ = llvm::Error::success();
  std::map<std::pair<dev_t, ino_t>, std::string> links_;  // first name of each inode
  std::vector<char> buffer_;                              // file read buffer
};

llvm::Error TarWriter::write_child(const Child& c, const std::string& path,
                                   const std::string& name) {
  const struct stat& st = c.st;
  if (c.whiteout) {
    return write_marker(name, st.st_mtim.tv_sec);
  }
  EntryPtr e(archive_entry_new(), archive_entry_free);
  bool is_dir = S_ISDIR(st.st_mode);
  std::string entry_name = is_dir ? name + "/" : name;
  archive_entry_set_pathname(e.get(), entry_name.c_str());
  archive_entry_set_mode(e.get(), st.st_mode);
  archive_entry_set_uid(e.get(), st.st_uid);
  archive_entry_set_gid(e.get(), st.st_gid);
  archive_entry_set_mtime(e.get(), clamp(st.st_mtim.tv_sec), 0);
  bool opaque = false;
  auto xattrs = read_xattrs(path);
  if (!xattrs) {
    return xattrs.takeError();
  }
  for (const auto& [key, value] : *xattrs) {
    if (llvm::StringRef(key).startswith(kOverlayXattrPrefix)) {
      opaque |= key == kOpaqueXattr && value == "y";
      continue;
    }
    archive_entry_xattr_add_entry(e.get(), key.c_str(), value.data(), value.size());
  }
  if (S_ISREG(st.st_mode) && st.st_nlink > 1) {
    auto [it, first] = links_.try_emplace({st.st_dev, st.st_ino}, name);
    if (!first) {
      archive_entry_set_hardlink(e.get(), it->second.c_str());
      archive_entry_set_size(e.get(), 0);
      return write_header(e.get(), name);
    }
  }
  if (S_ISLNK(st.st_mode)) {
    std::string target(static_cast<size_t>(st.st_size) + 1, '\0');
    ssize_t n = ::readlink(path.c_str(), target.data(), target.size());
    if (n < 0) {
      return make_io_error("read symlink", path, errno);
    }
    target.resize(static_cast<size_t>(n));
    archive_entry_set_symlink(e.get(), target.c_str());
  } else if (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode)) {
    archive_entry_set_rdev(e.get(), st.st_rdev);
  } else if (S_ISREG(st.st_mode)) {
    archive_entry_set_size(e.get(), st.st_size);
  }
  if (auto err = write_header(e.get(), name)) {
    return err;
  }
  if (opaque) {
    return write_marker(name + "/" + kOpaqueMarker.str(), st.st_mtim.tv_sec);
  }
  if (S_ISREG(st.st_mode) && st.st_size > 0) {
    return write_contents(path, name);
  }
  return llvm::Error::success();
}

llvm::Error TarWriter::write_contents(const std::string& path, const std::string& name) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) {
    return make_io_error("open", path, errno);
  }
  std::vector<char>& buf = buffer_;
  if (buf.empty()) {
    buf.resize(1 << 20);
  }
  llvm::Error result = llvm::Error::success();
  while (true) {
    ssize_t n = ::read(fd, buf.data(), buf.size());
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n < 0) {
      result = make_io_error("read", path, errno);
      break;
    }
    if (n == 0) {
      break;
    }
    if (archive_write_data(archive_, buf.data(), static_cast<size_t>(n)) < 0) {
      result = archive_error("write tar entry " + quote(name));
      break;
    }
  }
  ::close(fd);
  return result;
}

}  // namespace

llvm::Error write_layer_tar(llvm::StringRef dir, const TarOptions& options, const ByteSink& sink) {
  TarWriter writer(options, sink);
  if (auto err = writer.open()) {
    return err;
  }
  if (auto err = writer.walk(dir.str(), "")) {
    return err;
  }
  return writer.close();
}

}  // namespace kiln::cache
