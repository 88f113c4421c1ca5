// save_images() and load_archive_file() (cache/image_archive.h) and
// import_rootfs_file() (cache/image_import.h): the archive functions on a file
// or the standard streams.
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

#include "cache/image_archive.h"
#include "cache/image_import.h"
#include "support/error.h"

namespace kiln::cache {

llvm::Error save_images(ImageStore& store, llvm::ArrayRef<std::string> texts,
                        oci::ArchiveFormat format, llvm::StringRef path) {
  auto images = resolve_for_save(store, texts);
  if (!images) {
    return with_context(images.takeError(), "save");
  }
  // Blobs are read from the store by path: hold the lease so rmi cannot delete them.
  auto lease = store.content().lease(LeaseMode::shared);
  if (!lease) {
    return lease.takeError();
  }
  if (path.empty()) {
    return with_context(save_archive(store, *images, format, STDOUT_FILENO), "save");
  }
  std::string file = path.str();
  int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    return make_io_error("save: create", path, errno);
  }
  llvm::Error err = save_archive(store, *images, format, fd);
  if (::close(fd) != 0 && !err) {
    err = make_io_error("save: write", path, errno);
  }
  if (err) {
    ::unlink(file.c_str());
    return with_context(std::move(err), "save");
  }
  return llvm::Error::success();
}

llvm::Expected<std::vector<LoadedRecord>> load_archive_file(ImageStore& store,
                                                            llvm::StringRef path) {
  int fd = STDIN_FILENO;
  if (!path.empty()) {
    fd = ::open(path.str().c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      return make_io_error("load: open", path, errno);
    }
  }
  auto loaded = load_archive(store, fd);
  if (fd != STDIN_FILENO) {
    ::close(fd);
  }
  if (!loaded) {
    return with_context(loaded.takeError(), "load");
  }
  return loaded;
}

llvm::Expected<ImageRecord> import_rootfs_file(ImageStore& store, llvm::StringRef path,
                                               const ImportOptions& options) {
  int fd = STDIN_FILENO;
  if (path != "-") {
    fd = ::open(path.str().c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      return make_io_error("import: open", path, errno);
    }
  }
  auto image = import_rootfs(store, fd, options);
  if (fd != STDIN_FILENO) {
    ::close(fd);
  }
  return with_context(std::move(image), "import");
}

}  // namespace kiln::cache
