// Test helpers for the archive tests: an in-memory blob store (source and sink), a
// tar builder, and a tiny image.
#pragma once

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "oci/archive_blobs.h"
#include "oci/archive_reader.h"
#include "oci/archive_writer.h"
#include "oci/image_config.h"
#include "oci/media_types.h"
#include "oci/types.h"
#include "support/atomic_file.h"
#include "support/error.h"
#include "support/fs.h"

namespace kiln::oci::testing {

template <typename T>
T ok(llvm::Expected<T> v) {
  if (!v) {
    FAIL(error_message(v.takeError()));
  }
  return std::move(*v);
}

inline void ok(llvm::Error err) {
  if (err) {
    FAIL(error_message(std::move(err)));
  }
}

/// A temp dir removed at scope exit.
struct TempDir {
  std::string path;
  TempDir() { path = ok(fs::make_temp_dir("/tmp", "kiln-oci-test-")); }
  ~TempDir() { llvm::consumeError(fs::remove_all(path)); }
};

/// Blobs in memory; a source (files written on demand under a temp dir) and a sink
/// (commits verify digest and size).
class MemoryStore : public BlobSource, public BlobSink {
 public:
  std::map<Digest, std::string> blobs;
  int writers_alive = 0;

  Digest put(llvm::StringRef bytes) {
    Digest d = Digest::of(bytes);
    blobs[d] = bytes.str();
    return d;
  }

  llvm::Expected<std::string> blob_path(const Digest& digest) override {
    auto it = blobs.find(digest);
    if (it == blobs.end()) {
      return make_error("blob " + quote(digest.str()) + " not found");
    }
    std::string path = fs::join(dir_.path, digest.hex());
    if (!fs::exists(path)) {
      if (auto err = write_file_atomic(path, it->second)) {
        return std::move(err);
      }
    }
    return path;
  }

  class Writer : public BlobWriter {
   public:
    explicit Writer(MemoryStore& store) : store_(store) { ++store_.writers_alive; }
    ~Writer() override { --store_.writers_alive; }
    llvm::Error write(llvm::StringRef bytes) override {
      data_ += bytes;
      return llvm::Error::success();
    }
    llvm::Error commit(const Digest& digest, int64_t size) override {
      if (Digest::of(data_) != digest || static_cast<int64_t>(data_.size()) != size) {
        return make_error("commit: digest or size mismatch");
      }
      store_.blobs[digest] = data_;
      return llvm::Error::success();
    }

   private:
    MemoryStore& store_;
    std::string data_;
  };

  llvm::Expected<std::unique_ptr<BlobWriter>> begin() override {
    return std::unique_ptr<BlobWriter>(new Writer(*this));
  }

 private:
  TempDir dir_;
};

/// Builds a tar (or gzip'd tar) in memory with libarchive.
class TarBuilder {
 public:
  explicit TarBuilder(bool gzip = false) {
    a_ = archive_write_new();
    archive_write_set_format_pax_restricted(a_);
    if (gzip) {
      archive_write_add_filter_gzip(a_);
      archive_write_set_filter_option(a_, "gzip", "timestamp", nullptr);
    }
    archive_write_set_bytes_per_block(a_, 0);
    archive_write_open2(a_, &out_, nullptr, &TarBuilder::append, nullptr, nullptr);
  }
  ~TarBuilder() { archive_write_free(a_); }

  TarBuilder& file(const std::string& name, llvm::StringRef bytes, int64_t size = -1) {
    entry(name, AE_IFREG, size < 0 ? static_cast<int64_t>(bytes.size()) : size, nullptr);
    archive_write_data(a_, bytes.data(), bytes.size());
    return *this;
  }
  TarBuilder& dir(const std::string& name) { return entry(name, AE_IFDIR, 0, nullptr); }
  TarBuilder& symlink(const std::string& name, const char* target) {
    return entry(name, AE_IFLNK, 0, target);
  }
  TarBuilder& hardlink(const std::string& name, const char* target) {
    struct archive_entry* e = archive_entry_new();
    archive_entry_set_pathname(e, name.c_str());
    archive_entry_set_filetype(e, AE_IFREG);
    archive_entry_set_hardlink(e, target);
    archive_entry_set_perm(e, 0644);
    archive_write_header(a_, e);
    archive_entry_free(e);
    return *this;
  }
  TarBuilder& device(const std::string& name) { return entry(name, AE_IFCHR, 0, nullptr); }
  TarBuilder& fifo(const std::string& name) { return entry(name, AE_IFIFO, 0, nullptr); }

  std::string finish() {
    archive_write_close(a_);
    return out_;
  }

 private:
  TarBuilder& entry(const std::string& name, mode_t type, int64_t size, const char* link) {
    struct archive_entry* e = archive_entry_new();
    archive_entry_set_pathname(e, name.c_str());
    archive_entry_set_filetype(e, type);
    archive_entry_set_perm(e, type == AE_IFDIR ? 0755 : 0644);
    archive_entry_set_size(e, size);
    if (link) {
      archive_entry_set_symlink(e, link);
    }
    archive_write_header(a_, e);
    archive_entry_free(e);
    return *this;
  }
  static la_ssize_t append(struct archive*, void* client, const void* buf, size_t n) {
    static_cast<std::string*>(client)->append(static_cast<const char*>(buf), n);
    return static_cast<la_ssize_t>(n);
  }

  struct archive* a_;
  std::string out_;
};

/// A tiny one-layer image stored in a MemoryStore.
struct TinyImage {
  std::string layer_tar;  // uncompressed
  std::string layer_gz;
  std::string config;
  std::string manifest;
  Descriptor manifest_desc;
};

inline TinyImage make_tiny_image(MemoryStore& store, const std::string& text = "hello\n") {
  TinyImage img;
  img.layer_tar = TarBuilder().dir("etc/").file("etc/hello.txt", text).finish();
  img.layer_gz = TarBuilder(true).dir("etc/").file("etc/hello.txt", text).finish();
  ImageConfig c;
  c.architecture = "amd64";
  c.os = "linux";
  c.created = "2024-01-01T00:00:00Z";
  c.config.cmd = {"/bin/sh"};
  c.diff_ids = {Digest::of(img.layer_tar)};
  img.config = to_json(c);
  Manifest m;
  m.media_type = media_type::kOciManifest.str();
  m.config = describe(media_type::kOciConfig, img.config);
  m.layers.push_back(describe(media_type::kOciLayerGzip, img.layer_gz));
  img.manifest = to_json(m);
  img.manifest_desc = describe(media_type::kOciManifest, img.manifest);
  store.put(img.layer_gz);
  store.put(img.config);
  store.put(img.manifest);
  return img;
}

/// Writes `images` to a string through a temp file.
inline std::string write_to_string(llvm::ArrayRef<ArchiveImage> images, MemoryStore& store,
                                   ArchiveFormat format) {
  TempDir dir;
  std::string path = fs::join(dir.path, "out.tar");
  WriteOptions options;
  options.format = format;
  ok(write_archive_file(path, images, store, options));
  return ok(fs::read_file(path));
}

/// Reads `bytes` as an archive from an in-memory file (no disk, no fsync).
inline llvm::Expected<std::vector<LoadedImage>> read_from_string(const std::string& bytes,
                                                                 MemoryStore& sink) {
  int fd = ::memfd_create("kiln-oci-test", MFD_CLOEXEC);
  REQUIRE(fd >= 0);
  REQUIRE(::write(fd, bytes.data(), bytes.size()) == static_cast<ssize_t>(bytes.size()));
  REQUIRE(::lseek(fd, 0, SEEK_SET) == 0);
  auto result = read_archive(fd, sink);
  ::close(fd);
  return result;
}

}  // namespace kiln::oci::testing
