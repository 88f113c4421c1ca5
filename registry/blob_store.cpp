#include "registry/blob_store.h"

#include <cstring>

#include "support/error.h"

namespace kiln::registry {

class MemoryBlobWriter : public BlobWriter {
 public:
  explicit MemoryBlobWriter(MemoryBlobStore& store) : store_(store) {}
  llvm::Error write(llvm::StringRef bytes) override {
    data_.append(bytes.data(), bytes.size());
    return llvm::Error::success();
  }
  llvm::Error commit(const Digest& expected, uint64_t size) override {
    Digest got = Digest::of(data_);
    if (got != expected) {
      return make_error("blob " + quote(expected.str()) + ": digest mismatch (got " +
                        quote(got.str()) + ")");
    }
    if (data_.size() != size) {
      return make_error("blob " + quote(expected.str()) + ": size mismatch (got " +
                        llvm::Twine(data_.size()) + " bytes, expected " + llvm::Twine(size) + ")");
    }
    std::lock_guard<std::mutex> guard(store_.mutex_);
    store_.blobs_[got] = std::move(data_);
    return llvm::Error::success();
  }

 private:
  MemoryBlobStore& store_;
  std::string data_;
};

namespace {

class MemoryBlobReader : public BlobReader {
 public:
  explicit MemoryBlobReader(std::string data) : data_(std::move(data)) {}
  llvm::Expected<size_t> read(char* buffer, size_t size) override {
    size_t n = std::min(size, data_.size() - offset_);
    std::memcpy(buffer, data_.data() + offset_, n);
    offset_ += n;
    return n;
  }

 private:
  std::string data_;
  size_t offset_ = 0;
};

}  // namespace

bool MemoryBlobStore::has(const Digest& digest) const {
  std::lock_guard<std::mutex> guard(mutex_);
  return blobs_.count(digest) != 0;
}

llvm::Expected<std::unique_ptr<BlobWriter>> MemoryBlobStore::begin_write() {
  return std::make_unique<MemoryBlobWriter>(*this);
}

llvm::Expected<std::string> MemoryBlobStore::read(const Digest& digest) const {
  std::lock_guard<std::mutex> guard(mutex_);
  auto it = blobs_.find(digest);
  if (it == blobs_.end()) {
    return make_error("blob " + quote(digest.str()) + " not found");
  }
  return it->second;
}

llvm::Expected<std::unique_ptr<BlobReader>> MemoryBlobStore::open(const Digest& digest) const {
  llvm::Expected<std::string> data = read(digest);
  if (!data) {
    return data.takeError();
  }
  return std::make_unique<MemoryBlobReader>(std::move(*data));
}

Digest MemoryBlobStore::put(llvm::StringRef bytes) {
  Digest digest = Digest::of(bytes);
  std::lock_guard<std::mutex> guard(mutex_);
  blobs_[digest] = bytes.str();
  return digest;
}

std::map<Digest, std::string> MemoryBlobStore::blobs() const {
  std::lock_guard<std::mutex> guard(mutex_);
  return blobs_;
}

}  // namespace kiln::registry
