#include "support/atomic_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include <llvm/Support/Path.h>

#include "support/error.h"

namespace kiln {

namespace {

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
  auto temp = TempFile::create(tmp_dir.empty() ? dir : tmp_dir,
                               ("." + llvm::sys::path::filename(path) + ".tmp.").str(), mode);
  if (!temp) {
    int e = EIO;
    llvm::handleAllErrors(
        temp.takeError(), [&](const IoError& io) { e = io.errno_value(); },
        [](const llvm::ErrorInfoBase&) {});
    return make_io_error("create temp file for", path, e);
  }
  return AtomicFile(path.str(), std::move(*temp));
}

llvm::Error AtomicFile::commit(Overwrite overwrite, Durable durable) {
  if (durable == Durable::yes && ::fsync(temp_.fd()) != 0) {
    return make_io_error("fsync", path_, errno);
  }
  if (overwrite == Overwrite::no) {
    // link() fails with EEXIST rather than replacing: the first writer wins.
    if (::link(temp_.path().c_str(), path_.c_str()) != 0 && errno != EEXIST) {
      int e = errno;
      temp_.discard();
      return make_io_error("link", path_, e);
    }
    temp_.discard();
  } else if (auto err = temp_.rename_to(path_)) {
    return err;
  }
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
