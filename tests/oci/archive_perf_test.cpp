// Hidden measurement (run with `oci_tests "[.perf]"`): saving and loading a 300 MB
// image against `cp` of the same bytes. Prints numbers; asserts only correctness.

#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <random>

#include <catch2/catch.hpp>

#include "tests/oci/archive_fixture.h"

using namespace kiln;
using namespace kiln::oci;
using namespace kiln::oci::testing;

namespace {

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// Blobs as files in a directory.
class DirSource : public BlobSource {
 public:
  explicit DirSource(std::string dir) : dir_(std::move(dir)) {}
  llvm::Expected<std::string> blob_path(const Digest& d) override {
    return fs::join(dir_, d.hex());
  }

 private:
  std::string dir_;
};

// A sink that writes each blob to a file and hashes nothing (the reader hashed).
class FileSink : public BlobSink {
 public:
  explicit FileSink(std::string dir) : dir_(std::move(dir)) {}
  class Writer : public BlobWriter {
   public:
    Writer(std::string path) : path_(std::move(path)) {
      fd_ = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    }
    ~Writer() override { ::close(fd_); }
    llvm::Error write(llvm::StringRef bytes) override {
      if (::write(fd_, bytes.data(), bytes.size()) != static_cast<ssize_t>(bytes.size())) {
        return make_error("short write");
      }
      return llvm::Error::success();
    }
    llvm::Error commit(const Digest&, int64_t) override { return llvm::Error::success(); }

   private:
    std::string path_;
    int fd_;
  };
  llvm::Expected<std::unique_ptr<BlobWriter>> begin() override {
    return std::unique_ptr<BlobWriter>(
        new Writer(fs::join(dir_, "blob" + std::to_string(next_++))));
  }

 private:
  std::string dir_;
  int next_ = 0;
};

}  // namespace

TEST_CASE("perf: save and load a 300 MB image vs cp", "[.perf]") {
  TempDir dir;
  std::string blobs = fs::join(dir.path, "blobs");
  ok(fs::make_dirs(blobs));
  // Three incompressible "layers" of 100 MB.
  std::mt19937_64 rng(42);
  Manifest m;
  m.media_type = media_type::kOciManifest.str();
  std::vector<std::string> layer_paths;
  for (int i = 0; i < 3; ++i) {
    std::string data(100 << 20, '\0');
    for (size_t j = 0; j + 8 <= data.size(); j += 8) {
      uint64_t v = rng();
      std::memcpy(&data[j], &v, 8);
    }
    Descriptor d = describe(media_type::kOciLayerGzip, data);
    ok(write_file_atomic(fs::join(blobs, d.digest.hex()), data));
    layer_paths.push_back(fs::join(blobs, d.digest.hex()));
    m.layers.push_back(d);
  }
  std::string config = R"({"architecture":"amd64","os":"linux","rootfs":{"type":"layers",)"
                       R"("diff_ids":["sha256:)" +
                       std::string(64, '0') + R"(","sha256:)" + std::string(64, '1') +
                       R"(","sha256:)" + std::string(64, '2') + R"("]}})";
  m.config = describe(media_type::kOciConfig, config);
  ok(write_file_atomic(fs::join(blobs, m.config.digest.hex()), config));
  std::string manifest = to_json(m);
  Descriptor md = describe(media_type::kOciManifest, manifest);
  ok(write_file_atomic(fs::join(blobs, md.digest.hex()), manifest));
  ::sync();

  // Best of three: the machine is shared.
  double cp_s = 1e9;
  double save_s = 1e9;
  DirSource source(blobs);
  std::string out = fs::join(dir.path, "image.tar");
  for (int round = 0; round < 3; ++round) {
    auto start = std::chrono::steady_clock::now();
    std::string cp = "cp " + layer_paths[0] + " " + layer_paths[1] + " " + layer_paths[2] + " " +
                     dir.path + "/ && sync";
    REQUIRE(std::system(cp.c_str()) == 0);
    cp_s = std::min(cp_s, seconds_since(start));
    start = std::chrono::steady_clock::now();
    ok(write_archive_file(out, {{{ok(parse_reference("perf:1"))}, md}}, source, WriteOptions{}));
    REQUIRE(::system("sync") == 0);
    save_s = std::min(save_s, seconds_since(start));
  }

  std::string sink_dir = fs::join(dir.path, "sink");
  ok(fs::make_dirs(sink_dir));
  FileSink sink(sink_dir);
  int fd = ::open(out.c_str(), O_RDONLY);
  auto start = std::chrono::steady_clock::now();
  auto loaded = ok(read_archive(fd, sink));
  REQUIRE(::system("sync") == 0);
  double load_s = seconds_since(start);
  ::close(fd);
  CHECK(loaded.size() == 1);
  WARN("300 MB: cp " << cp_s << " s, save " << save_s << " s (" << save_s / cp_s << "x cp), load "
                     << load_s << " s (" << load_s / cp_s << "x cp)");
}
