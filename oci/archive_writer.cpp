#include "oci/archive_writer.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>

#include <cerrno>
#include <cstring>
#include <map>
#include <memory>
#include <set>

#include "oci/json_io.h"
#include "oci/media_types.h"
#include "support/atomic_file.h"
#include "support/error.h"
#include "support/fs.h"

namespace kiln::oci {

namespace {

using detail::Json;

constexpr size_t kCopyBuffer = 4 << 20;
constexpr llvm::StringLiteral kOciLayoutJson = R"({"imageLayoutVersion":"1.0.0"})";

// What one archive entry holds: a blob file from the source or bytes in memory.
struct PlannedEntry {
  std::string blob_path;  // empty for in-memory bytes
  std::string bytes;
  int64_t size = 0;
};

// The docker-archive view of one image: config, layers and names.
struct DockerImage {
  Digest config;
  std::vector<Digest> layers;
  std::vector<Reference> names;
};

std::string blob_name(const Digest& d) { return "blobs/sha256/" + d.hex(); }

struct OutputState {
  int fd;
  int saved_errno = 0;
};

la_ssize_t write_callback(struct archive*, void* client, const void* buffer, size_t length) {
  auto* out = static_cast<OutputState*>(client);
  const char* p = static_cast<const char*>(buffer);
  size_t left = length;
  while (left > 0) {
    ssize_t n = ::write(out->fd, p, left);
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      out->saved_errno = errno;
      return -1;
    }
    p += n;
    left -= static_cast<size_t>(n);
  }
  return static_cast<la_ssize_t>(length);
}

// Collects the entries of an archive from the images and the blob source.
class Planner {
 public:
  Planner(BlobSource& source, const WriteOptions& options) : source_(source), options_(options) {}

  llvm::Error add_image(const ArchiveImage& image);
  std::map<std::string, PlannedEntry> finish();

 private:
  llvm::Expected<std::string> add_blob(const Digest& digest, int64_t size);
  llvm::Expected<std::string> read_blob(const Descriptor& d);
  llvm::Error add_manifest(const Descriptor& d, DockerImage* docker);
  llvm::Error add_index(const Descriptor& d, DockerImage* docker, int depth);

  BlobSource& source_;
  const WriteOptions& options_;
  std::map<std::string, PlannedEntry> entries_;
  std::vector<Descriptor> index_manifests_;
  std::vector<DockerImage> docker_images_;
};

llvm::Expected<std::string> Planner::add_blob(const Digest& digest, int64_t size) {
  auto path = source_.blob_path(digest);
  if (!path) {
    return with_context(path.takeError(), "blob " + quote(digest.str()));
  }
  struct stat st;
  if (::stat(path->c_str(), &st) != 0) {
    return make_io_error("blob " + quote(digest.str()) + ": stat", *path, errno);
  }
  if (st.st_size != size) {
    return make_error("blob " + quote(digest.str()) + ": stored size is " +
                      llvm::Twine(static_cast<int64_t>(st.st_size)) + ", descriptor says " +
                      llvm::Twine(size));
  }
  PlannedEntry& e = entries_[blob_name(digest)];
  e.blob_path = *path;
  e.size = size;
  return *path;
}

llvm::Expected<std::string> Planner::read_blob(const Descriptor& d) {
  auto path = add_blob(d.digest, d.size);
  if (!path) {
    return path.takeError();
  }
  return fs::read_file(*path);
}

llvm::Error Planner::add_manifest(const Descriptor& d, DockerImage* docker) {
  auto bytes = read_blob(d);
  if (!bytes) {
    return bytes.takeError();
  }
  auto m = parse_manifest(*bytes);
  if (!m) {
    return with_context(m.takeError(), "manifest " + quote(d.digest.str()));
  }
  if (auto err = add_blob(m->config.digest, m->config.size).takeError()) {
    return err;
  }
  if (docker) {
    docker->config = m->config.digest;
  }
  for (const auto& layer : m->layers) {
    auto path = add_blob(layer.digest, layer.size);
    if (!path) {
      if (!is_foreign_layer(layer.media_type)) {
        return path.takeError();
      }
      llvm::consumeError(path.takeError());
    }
    if (docker) {
      docker->layers.push_back(layer.digest);
    }
  }
  return llvm::Error::success();
}

llvm::Error Planner::add_index(const Descriptor& d, DockerImage* docker, int depth) {
  if (depth > 4) {
    return make_error("index " + quote(d.digest.str()) + ": nested too deeply");
  }
  auto bytes = read_blob(d);
  if (!bytes) {
    return bytes.takeError();
  }
  auto index = parse_index(*bytes);
  if (!index) {
    return with_context(index.takeError(), "index " + quote(d.digest.str()));
  }
  const Descriptor* chosen = nullptr;
  // Only the wanted platform's blobs go in; the index still lists the others, as
  // docker save does for a single-platform pull.
  for (const auto& child : index->manifests) {
    if (child.platform && platform_matches(options_.platform, *child.platform)) {
      chosen = &child;
      break;
    }
  }
  if (options_.all_platforms) {
    // docker's manifest.json names one image: the wanted platform's, else the first.
    if (!chosen && !index->manifests.empty()) {
      chosen = &index->manifests.front();
    }
    for (const auto& child : index->manifests) {
      if (!is_manifest(child.media_type)) {
        continue;
      }
      if (auto err = add_manifest(child, &child == chosen ? docker : nullptr)) {
        return err;
      }
    }
    return llvm::Error::success();
  }
  if (!chosen) {
    return make_error("index " + quote(d.digest.str()) + ": no manifest for platform " +
                      quote(options_.platform.str()));
  }
  if (is_index(chosen->media_type)) {
    return add_index(*chosen, docker, depth + 1);
  }
  return add_manifest(*chosen, docker);
}

llvm::Error Planner::add_image(const ArchiveImage& image) {
  DockerImage docker;
  docker.names = image.names;
  llvm::Error err = is_index(image.manifest.media_type) ? add_index(image.manifest, &docker, 0)
                                                        : add_manifest(image.manifest, &docker);
  if (err) {
    return err;
  }
  if (image.names.empty()) {
    index_manifests_.push_back(image.manifest);
  }
  for (const auto& name : image.names) {
    if (name.tag.empty()) {
      continue;
    }
    Descriptor d = image.manifest;
    d.annotations[annotation::kContainerdImageName.str()] = name.str();
    d.annotations[annotation::kRefName.str()] = name.tag;
    index_manifests_.push_back(std::move(d));
  }
  docker_images_.push_back(std::move(docker));
  return llvm::Error::success();
}

Json docker_manifest_json(const std::vector<DockerImage>& images) {
  Json list = Json::array();
  for (const auto& image : images) {
    Json j = Json::object();
    j["Config"] = blob_name(image.config);
    Json tags = Json::array();
    for (const auto& name : image.names) {
      if (!name.tag.empty()) {
        tags.push_back(name.familiar_name() + ":" + name.tag);
      }
    }
    j["RepoTags"] = tags.empty() ? Json() : tags;
    j["Layers"] = Json::array();
    for (const auto& layer : image.layers) {
      j["Layers"].push_back(blob_name(layer));
    }
    list.push_back(std::move(j));
  }
  return list;
}

// docker's legacy "repositories": familiar name → tag → top layer id.
Json repositories_json(const std::vector<DockerImage>& images) {
  std::map<std::string, std::map<std::string, std::string>> repos;
  for (const auto& image : images) {
    if (image.layers.empty()) {
      continue;
    }
    for (const auto& name : image.names) {
      if (!name.tag.empty()) {
        repos[name.familiar_name()][name.tag] = image.layers.back().hex();
      }
    }
  }
  Json j = Json::object();
  for (const auto& [repo, tags] : repos) {
    j[repo] = tags;
  }
  return j;
}

std::map<std::string, PlannedEntry> Planner::finish() {
  auto put = [this](const std::string& name, std::string bytes) {
    PlannedEntry& e = entries_[name];
    e.size = static_cast<int64_t>(bytes.size());
    e.bytes = std::move(bytes);
  };
  put("oci-layout", kOciLayoutJson.str());
  Index index;
  index.media_type = media_type::kOciIndex.str();
  index.manifests = index_manifests_;
  put("index.json", to_json(index) + "\n");
  if (options_.format == ArchiveFormat::docker) {
    put("manifest.json", detail::dump_go(docker_manifest_json(docker_images_)) + "\n");
    Json repos = repositories_json(docker_images_);
    if (!repos.empty()) {
      put("repositories", detail::dump_go(repos) + "\n");
    }
  }
  return std::move(entries_);
}

// Streams the planned entries into a tar on `out`.
class TarWriter {
 public:
  TarWriter(int fd, int64_t mtime) : state_{fd}, mtime_(mtime) {}
  ~TarWriter() {
    if (archive_) {
      archive_write_free(archive_);
    }
  }

  llvm::Error open();
  llvm::Error add_dir(const std::string& name);
  llvm::Error add_file(const std::string& name, const PlannedEntry& e);
  llvm::Error close();

 private:
  llvm::Error fail(const llvm::Twine& what);
  llvm::Error header(const std::string& name, mode_t type, mode_t perm, int64_t size);

  OutputState state_;
  int64_t mtime_;
  struct archive* archive_ = nullptr;
  std::unique_ptr<char[]> buffer_;
};

llvm::Error TarWriter::fail(const llvm::Twine& what) {
  if (state_.saved_errno != 0) {
    return make_io_error("write archive", "", state_.saved_errno);
  }
  const char* msg = archive_ ? archive_error_string(archive_) : nullptr;
  return make_error(what + ": " + (msg ? msg : "unknown libarchive error"));
}

llvm::Error TarWriter::open() {
  archive_ = archive_write_new();
  if (archive_write_set_format_pax_restricted(archive_) != ARCHIVE_OK ||
      archive_write_add_filter_none(archive_) != ARCHIVE_OK ||
      archive_write_set_bytes_per_block(archive_, 0) != ARCHIVE_OK ||
      archive_write_open2(archive_, &state_, nullptr, write_callback, nullptr, nullptr) !=
          ARCHIVE_OK) {
    return fail("write archive");
  }
  buffer_ = std::make_unique<char[]>(kCopyBuffer);
  return llvm::Error::success();
}

llvm::Error TarWriter::header(const std::string& name, mode_t type, mode_t perm, int64_t size) {
  struct archive_entry* entry = archive_entry_new();
  archive_entry_set_pathname(entry, name.c_str());
  archive_entry_set_filetype(entry, type);
  archive_entry_set_perm(entry, perm);
  archive_entry_set_size(entry, size);
  archive_entry_set_uid(entry, 0);
  archive_entry_set_gid(entry, 0);
  archive_entry_set_mtime(entry, mtime_, 0);
  int rc = archive_write_header(archive_, entry);
  archive_entry_free(entry);
  if (rc != ARCHIVE_OK) {
    return fail("write archive entry " + quote(name));
  }
  return llvm::Error::success();
}

llvm::Error TarWriter::add_dir(const std::string& name) { return header(name, AE_IFDIR, 0755, 0); }

llvm::Error TarWriter::add_file(const std::string& name, const PlannedEntry& e) {
  if (auto err = header(name, AE_IFREG, 0644, e.size)) {
    return err;
  }
  if (e.blob_path.empty()) {
    if (archive_write_data(archive_, e.bytes.data(), e.bytes.size()) < 0) {
      return fail("write archive entry " + quote(name));
    }
    return llvm::Error::success();
  }
  int in = ::open(e.blob_path.c_str(), O_RDONLY | O_CLOEXEC);
  if (in < 0) {
    return make_io_error("open blob", e.blob_path, errno);
  }
  ::posix_fadvise(in, 0, 0, POSIX_FADV_SEQUENTIAL);
  int64_t left = e.size;
  llvm::Error err = llvm::Error::success();
  while (left > 0) {
    ssize_t n = ::read(in, buffer_.get(), std::min<int64_t>(left, kCopyBuffer));
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      err = n < 0 ? make_io_error("read blob", e.blob_path, errno)
                  : make_error("read blob " + quote(e.blob_path) + ": file shrank while saving");
      break;
    }
    if (archive_write_data(archive_, buffer_.get(), static_cast<size_t>(n)) < 0) {
      err = fail("write archive entry " + quote(name));
      break;
    }
    left -= n;
  }
  ::close(in);
  return err;
}

llvm::Error TarWriter::close() {
  if (archive_write_close(archive_) != ARCHIVE_OK) {
    return fail("write archive");
  }
  return llvm::Error::success();
}

}  // namespace

llvm::Error write_archive(int fd, llvm::ArrayRef<ArchiveImage> images, BlobSource& source,
                          const WriteOptions& options) {
  Planner planner(source, options);
  for (const auto& image : images) {
    if (auto err = planner.add_image(image)) {
      return err;
    }
  }
  std::map<std::string, PlannedEntry> entries = planner.finish();
  TarWriter tar(fd, options.mtime);
  if (auto err = tar.open()) {
    return err;
  }
  bool has_blobs = entries.lower_bound("blobs/") != entries.end() &&
                   llvm::StringRef(entries.lower_bound("blobs/")->first).startswith("blobs/");
  if (has_blobs) {
    if (auto err = tar.add_dir("blobs/")) {
      return err;
    }
    if (auto err = tar.add_dir("blobs/sha256/")) {
      return err;
    }
  }
  for (const auto& [name, entry] : entries) {
    if (auto err = tar.add_file(name, entry)) {
      return err;
    }
  }
  return tar.close();
}

llvm::Error write_archive_file(llvm::StringRef path, llvm::ArrayRef<ArchiveImage> images,
                               BlobSource& source, const WriteOptions& options) {
  auto file = AtomicFile::create(path);
  if (!file) {
    return file.takeError();
  }
  if (auto err = write_archive(file->fd(), images, source, options)) {
    return err;
  }
  return file->commit();
}

}  // namespace kiln::oci
