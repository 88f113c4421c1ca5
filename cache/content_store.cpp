#include "cache/content_store.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <ctime>

#include "cache/store_lock.h"
#include "support/error.h"
#include "support/fs.h"

namespace kiln::cache {

namespace {

constexpr size_t kCopyBuffer = 1 << 20;
constexpr uint64_t kWritebackChunk = 8 << 20;

}  // namespace

llvm::Error BlobIngest::write(llvm::StringRef bytes) {
  if (temp_.fd() < 0) {
    return make_error("write to a finished blob");
  }
  if (hashing_) {
    hash_.update(bytes);
  }
  size_ += bytes.size();
  if (auto err = temp_.write(bytes)) {
    return err;
  }
  // Start writeback as we go, so that commit's fdatasync has little left to wait for.
  if (size_ - flushed_ >= kWritebackChunk) {
    ::sync_file_range(temp_.fd(), static_cast<off_t>(flushed_),
                      static_cast<off_t>(size_ - flushed_), SYNC_FILE_RANGE_WRITE);
    flushed_ = size_;
  }
  return llvm::Error::success();
}

llvm::Expected<Digest> BlobIngest::commit(std::optional<Digest> expected,
                                          std::optional<uint64_t> expected_size) {
  if (temp_.fd() < 0) {
    return make_error("commit of a finished blob");
  }
  if (!hashing_ && !expected) {
    temp_.discard();
    return make_error("commit of a blob without its digest");
  }
  Digest digest = hashing_ ? hash_.finish() : *expected;
  if (expected_size && *expected_size != size_) {
    temp_.discard();
    return make_error("blob " + quote(expected ? expected->str() : digest.str()) +
                      ": size mismatch: expected " + llvm::Twine(*expected_size) + " bytes, got " +
                      llvm::Twine(size_));
  }
  if (expected && *expected != digest) {
    temp_.discard();
    return make_error("blob digest mismatch: expected " + quote(expected->str()) + ", got " +
                      quote(digest.str()));
  }
  if (::fdatasync(temp_.fd()) != 0) {
    int e = errno;
    std::string path = temp_.path();
    temp_.discard();
    return make_io_error("sync", path, e);
  }
  std::string target = blobs_dir_ + "/" + digest.hex();
  // Blobs are immutable: an existing one is as good as ours.
  if (fs::exists(target)) {
    temp_.discard();
    return digest;
  }
  // Closed (unlocked) only after the rename: an unlocked temp file may be reclaimed.
  if (auto err = temp_.rename_to(target, "store blob")) {
    return err;
  }
  return digest;
}

llvm::Expected<ContentStore> ContentStore::open(llvm::StringRef root) {
  ContentStore store(root.str());
  if (auto err = fs::make_dirs(store.blobs_dir(), 0700)) {
    return err;
  }
  if (auto err = fs::make_dirs(store.tmp_dir(), 0700)) {
    return err;
  }
  if (auto err = use_store(root)) {
    return err;
  }
  return store;
}

std::string ContentStore::blobs_dir() const { return root_ + "/blobs/sha256"; }

std::string ContentStore::tmp_dir() const { return root_ + "/tmp"; }

std::string ContentStore::blob_path(const Digest& digest) const {
  return blobs_dir() + "/" + digest.hex();
}

llvm::Expected<BlobIngest> ContentStore::begin_ingest() const {
  auto temp = TempFile::create(tmp_dir(), "ingest-");
  if (!temp) {
    return temp.takeError();
  }
  // Held until the ingest ends: reclaim_dead() in any process leaves it alone.
  auto locked = try_lock_fd(temp->fd(), LockMode::exclusive, temp->path());
  if (!locked || !*locked) {
    return locked ? make_io_error("lock", temp->path(), EWOULDBLOCK) : locked.takeError();
  }
  return BlobIngest(blobs_dir(), std::move(*temp));
}

llvm::Expected<Digest> ContentStore::put(llvm::StringRef bytes,
                                         std::optional<Digest> expected) const {
  // Small documents (configs, manifests) are often stored already: a rebuild
  // writes the same ones. An existing blob is as good as a new copy.
  if (Digest digest = Digest::of(bytes); (!expected || *expected == digest) && exists(digest)) {
    return digest;
  }
  auto ingest = begin_ingest();
  if (!ingest) {
    return ingest.takeError();
  }
  if (auto err = ingest->write(bytes)) {
    return err;
  }
  return ingest->commit(expected, std::nullopt);
}

llvm::Expected<Digest> ContentStore::put_file(llvm::StringRef path,
                                              std::optional<Digest> expected) const {
  int fd = ::open(path.str().c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return make_io_error("open", path, errno);
  }
  auto ingest = begin_ingest();
  if (!ingest) {
    ::close(fd);
    return ingest.takeError();
  }
  std::vector<char> buf(kCopyBuffer);
  while (true) {
    ssize_t n = ::read(fd, buf.data(), buf.size());
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n < 0) {
      int e = errno;
      ::close(fd);
      return make_io_error("read", path, e);
    }
    if (n == 0) {
      break;
    }
    if (auto err = ingest->write(llvm::StringRef(buf.data(), static_cast<size_t>(n)))) {
      ::close(fd);
      return err;
    }
  }
  ::close(fd);
  return ingest->commit(expected);
}

bool ContentStore::exists(const Digest& digest) const { return fs::exists(blob_path(digest)); }

llvm::Expected<uint64_t> ContentStore::size(const Digest& digest) const {
  struct stat st {};
  if (::stat(blob_path(digest).c_str(), &st) != 0) {
    if (errno == ENOENT) {
      return make_error("blob " + quote(digest.str()) + " not found");
    }
    return make_io_error("stat", blob_path(digest), errno);
  }
  return static_cast<uint64_t>(st.st_size);
}

llvm::Expected<std::string> ContentStore::read(const Digest& digest) const {
  if (!exists(digest)) {
    return make_error("blob " + quote(digest.str()) + " not found");
  }
  return fs::read_file(blob_path(digest));
}

llvm::Expected<int> ContentStore::open_blob(const Digest& digest) const {
  int fd = ::open(blob_path(digest).c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) {
      return make_error("blob " + quote(digest.str()) + " not found");
    }
    return make_io_error("open", blob_path(digest), errno);
  }
  return fd;
}

llvm::Error ContentStore::remove(const Digest& digest) const {
  if (::unlink(blob_path(digest).c_str()) != 0 && errno != ENOENT) {
    return make_io_error("remove", blob_path(digest), errno);
  }
  return llvm::Error::success();
}

llvm::Expected<std::vector<Digest>> ContentStore::list() const {
  DIR* d = ::opendir(blobs_dir().c_str());
  if (d == nullptr) {
    return make_io_error("open directory", blobs_dir(), errno);
  }
  std::vector<Digest> out;
  while (dirent* e = ::readdir(d)) {
    auto digest = Digest::from_hex(e->d_name);
    if (digest) {
      out.push_back(*digest);
    } else {
      llvm::consumeError(digest.takeError());
    }
  }
  ::closedir(d);
  std::sort(out.begin(), out.end());
  return out;
}

llvm::Expected<BlobLease> ContentStore::lease(LeaseMode mode) const {
  return FileLock::acquire(root_ + "/blobs/lock", mode);
}

}  // namespace kiln::cache
