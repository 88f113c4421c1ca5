#include "support/atomic_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <random>

#include <llvm/Support/Path.h>

#include "support/error.h"

namespace kiln {

namespace {

std::string temp_name(llvm::StringRef dir, llvm::StringRef base) {
  static std::atomic<uint64_t> counter{0};
  thread_local std::mt19937_64 rng{std::random_device{}()};
  return (dir + "/." + base + ".tmp." + llvm::Twine(::getpid()) + "." +
          llvm::Twine(counter.fetch_add(1)) + "." + llvm::Twine(rng() & 0xffffff))
      .str();
}

llvm::Error fsync_dir(llvm::StringRef dir) {
  int fd = ::open(dir.str().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) {
    return make_io_error("open directory", dir, errno);
  }
  ::fsync(fd);
  ::close(fd);
  return llvm::Error::success();
}

}  // namespace

llvm::Expected<AtomicFile> AtomicFile::create(llvm::StringRef path, unsigned mode,
                                              llvm::StringRef tmp_dir) {
  llvm::StringRef dir = llvm::sys::path::parent_path(path);
  if (dir.empty()) {
    dir = ".";
  }
  std::string tmp = temp_name(tmp_dir.empty() ? dir : tmp_dir, llvm::sys::path::filename(path));
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
  if (fd < 0) {
    return make_io_error("create temp file for", path, errno);
  }
  return AtomicFile(path.str(), std::move(tmp), fd);
}

AtomicFile::AtomicFile(AtomicFile&& other) noexcept
    : path_(std::move(other.path_)), temp_path_(std::move(other.temp_path_)), fd_(other.fd_) {
  other.fd_ = -1;
  other.temp_path_.clear();
}

AtomicFile& AtomicFile::operator=(AtomicFile&& other) noexcept {
  if (this != &other) {
    discard();
    path_ = std::move(other.path_);
    temp_path_ = std::move(other.temp_path_);
    fd_ = other.fd_;
    other.fd_ = -1;
    other.temp_path_.clear();
  }
  return *this;
}

AtomicFile::~AtomicFile() { discard(); }

void AtomicFile::discard() {
  if (fd_ >= 0) {
    ::close(fd_);
    fd_ = -1;
  }
  if (!temp_path_.empty()) {
    ::unlink(temp_path_.c_str());
    temp_path_.clear();
  }
}

llvm::Error AtomicFile::write(llvm::StringRef bytes) {
  const char* p = bytes.data();
  size_t left = bytes.size();
  while (left > 0) {
    ssize_t n = ::write(fd_, p, left);
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      return make_io_error("write", path_, errno);
    }
    p += n;
    left -= static_cast<size_t>(n);
  }
  return llvm::Error::success();
}

llvm::Error AtomicFile::commit(Overwrite overwrite, Durable durable) {
  if (durable == Durable::yes && ::fsync(fd_) != 0) {
    return make_io_error("fsync", path_, errno);
  }
  ::close(fd_);
  fd_ = -1;
  if (overwrite == Overwrite::no) {
    // link() fails with EEXIST rather than replacing: the first writer wins.
    if (::link(temp_path_.c_str(), path_.c_str()) != 0 && errno != EEXIST) {
      return make_io_error("link", path_, errno);
    }
    ::unlink(temp_path_.c_str());
  } else if (::rename(temp_path_.c_str(), path_.c_str()) != 0) {
    return make_io_error("rename into place", path_, errno);
  }
  temp_path_.clear();
  if (durable == Durable::no) {
    return llvm::Error::success();
  }
  llvm::StringRef dir = llvm::sys::path::parent_path(path_);
  return fsync_dir(dir.empty() ? "." : dir);
}

llvm::Error write_file_atomic(llvm::StringRef path, llvm::StringRef bytes, unsigned mode) {
  auto file = AtomicFile::create(path, mode);
  if (!file) {
    return file.takeError();
  }
  if (auto err = file->write(bytes)) {
    return err;
  }
  return file->commit();
}

}  // namespace kiln
