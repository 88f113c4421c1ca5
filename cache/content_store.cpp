#include "cache/content_store.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <ctime>
#include <random>

#include "cache/store_lock.h"
#include "support/error.h"
#include "support/fs.h"

namespace kiln::cache {

namespace {

constexpr size_t kCopyBuffer = 1 << 20;
constexpr uint64_t kWritebackChunk = 8 << 20;

std::string ingest_name(llvm::StringRef tmp_dir) {
  static std::atomic<uint64_t> counter{0};
  thread_local std::mt19937_64 rng{std::random_device{}()};
  return (tmp_dir + "/ingest-" + llvm::Twine(::getpid()) + "-" + llvm::Twine(counter.fetch_add(1)) +
          "-" + llvm::Twine(rng() & 0xffffffff))
      .str();
}

llvm::Error write_all(int fd, llvm::StringRef bytes, llvm::StringRef path) {
  const char* p = bytes.data();
  size_t left = bytes.size();
  while (left > 0) {
    ssize_t n = ::write(fd, p, left);
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      return make_io_error("write", path, errno);
    }
    p += n;
    left -= static_cast<size_t>(n);
  }
  return llvm::Error::success();
}

}  // namespace

BlobIngest::BlobIngest(std::string blobs_dir, std::string temp_path, int fd)
    : blobs_dir_(std::move(blobs_dir)), temp_path_(std::move(temp_path)), fd_(fd) {}

BlobIngest::BlobIngest(BlobIngest&& other) noexcept
    : blobs_dir_(std::move(other.blobs_dir_)),
      temp_path_(std::move(other.temp_path_)),
      fd_(other.fd_),
      size_(other.size_),
      flushed_(other.flushed_),
      hash_(std::move(other.hash_)),
      hashing_(other.hashing_) {
  other.fd_ = -1;
  other.temp_path_.clear();
}

BlobIngest& BlobIngest::operator=(BlobIngest&& other) noexcept {
  if (this != &other) {
    discard();
    blobs_dir_ = std::move(other.blobs_dir_);
    temp_path_ = std::move(other.temp_path_);
    fd_ = other.fd_;
    size_ = other.size_;
    flushed_ = other.flushed_;
    hash_ = std::move(other.hash_);
    hashing_ = other.hashing_;
    other.fd_ = -1;
    other.temp_path_.clear();
  }
  return *this;
}

BlobIngest::~BlobIngest() { discard(); }

void BlobIngest::discard() {
  if (fd_ >= 0) {
    ::close(fd_);
    fd_ = -1;
  }
  if (!temp_path_.empty()) {
    ::unlink(temp_path_.c_str());
    temp_path_.clear();
  }
}

llvm::Error BlobIngest::write(llvm::StringRef bytes) {
  if (fd_ < 0) {
    return make_error("write to a finished blob");
  }
  if (hashing_) {
    hash_.update(bytes);
  }
  size_ += bytes.size();
  if (auto err = write_all(fd_, bytes, temp_path_)) {
    return err;
  }
  // Start writeback as we go, so that commit's fdatasync has little left to wait for.
  if (size_ - flushed_ >= kWritebackChunk) {
    ::sync_file_range(fd_, static_cast<off_t>(flushed_), static_cast<off_t>(size_ - flushed_),
                      SYNC_FILE_RANGE_WRITE);
    flushed_ = size_;
  }
  return llvm::Error::success();
}

llvm::Expected<Digest> BlobIngest::commit(std::optional<Digest> expected,
                                          std::optional<uint64_t> expected_size) {
  if (fd_ < 0) {
    return make_error("commit of a finished blob");
  }
  if (!hashing_ && !expected) {
    discard();
    return make_error("commit of a blob without its digest");
  }
  Digest digest = hashing_ ? hash_.finish() : *expected;
  if (expected_size && *expected_size != size_) {
    discard();
    return make_error("blob " + quote(expected ? expected->str() : digest.str()) +
                      ": size mismatch: expected " + llvm::Twine(*expected_size) + " bytes, got " +
                      llvm::Twine(size_));
  }
  if (expected && *expected != digest) {
    discard();
    return make_error("blob digest mismatch: expected " + quote(expected->str()) + ", got " +
                      quote(digest.str()));
  }
  if (::fdatasync(fd_) != 0) {
    int e = errno;
    std::string path = temp_path_;
    discard();
    return make_io_error("sync", path, e);
  }
  std::string target = blobs_dir_ + "/" + digest.hex();
  // Blobs are immutable: an existing one is as good as ours.
  if (fs::exists(target)) {
    discard();
    return digest;
  }
  if (::rename(temp_path_.c_str(), target.c_str()) != 0) {
    int e = errno;
    discard();
    return make_io_error("store blob", target, e);
  }
  // Closed (unlocked) only now: an unlocked temp file may be reclaimed.
  ::close(fd_);
  fd_ = -1;
  temp_path_.clear();
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
  std::string path = ingest_name(tmp_dir());
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) {
    return make_io_error("create", path, errno);
  }
  // Held until the ingest ends: reclaim_dead() in any process leaves it alone.
  auto locked = try_lock_fd(fd, LockMode::exclusive, path);
  if (!locked || !*locked) {
    ::close(fd);
    ::unlink(path.c_str());
    return locked ? make_io_error("lock", path, EWOULDBLOCK) : locked.takeError();
  }
  return BlobIngest(blobs_dir(), std::move(path), fd);
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
