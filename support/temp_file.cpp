#include "support/temp_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <random>

#include "support/error.h"
#include "support/fs.h"

namespace kiln {

llvm::Expected<TempFile> TempFile::create(llvm::StringRef dir, llvm::StringRef prefix,
                                          unsigned mode) {
  static std::atomic<uint64_t> counter{0};
  thread_local std::mt19937_64 rng{std::random_device{}()};
  std::string path = (dir + "/" + prefix + llvm::Twine(::getpid()) + "." +
                      llvm::Twine(counter.fetch_add(1)) + "." + llvm::Twine(rng() & 0xffffff))
                         .str();
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
  if (fd < 0) {
    return make_io_error("create", path, errno);
  }
  return TempFile(std::move(path), fd);
}

TempFile::TempFile(TempFile&& other) noexcept : path_(std::move(other.path_)), fd_(other.fd_) {
  other.fd_ = -1;
  other.path_.clear();
}

TempFile& TempFile::operator=(TempFile&& other) noexcept {
  if (this != &other) {
    discard();
    path_ = std::move(other.path_);
    fd_ = other.fd_;
    other.fd_ = -1;
    other.path_.clear();
  }
  return *this;
}

TempFile::~TempFile() { discard(); }

llvm::Error TempFile::write(llvm::StringRef bytes) {
  if (!fs::write_all(fd_, bytes)) {
    return make_io_error("write", path_, errno);
  }
  return llvm::Error::success();
}

llvm::Error TempFile::rename_to(llvm::StringRef target, llvm::StringRef what) {
  if (::rename(path_.c_str(), target.str().c_str()) != 0) {
    int e = errno;
    discard();
    return make_io_error(what, target, e);
  }
  path_.clear();
  close();
  return llvm::Error::success();
}

void TempFile::close() {
  if (fd_ >= 0) {
    ::close(fd_);
    fd_ = -1;
  }
}

void TempFile::discard() {
  close();
  if (!path_.empty()) {
    ::unlink(path_.c_str());
    path_.clear();
  }
}

llvm::Expected<ScratchDir> ScratchDir::create(llvm::StringRef parent, llvm::StringRef prefix) {
  auto dir = fs::make_temp_dir(parent, prefix);
  if (!dir) {
    return dir.takeError();
  }
  return ScratchDir(std::move(*dir));
}

ScratchDir& ScratchDir::operator=(ScratchDir&& other) noexcept {
  if (this != &other) {
    remove();
    path_ = std::move(other.path_);
    other.path_.clear();
  }
  return *this;
}

void ScratchDir::remove() {
  if (!path_.empty()) {
    llvm::consumeError(fs::remove_all(path_));
    path_.clear();
  }
}

}  // namespace kiln
