// pack_bench: packs a generated upper dir (mixed text and binary files) into a
// gzip layer with kiln's parallel libdeflate compressor, and compresses the same
// tar with `gzip -6` and `pigz -6` for comparison.
//
//   pack_bench [--size-mb N] [--threads N] [--keep DIR]
//
// Prints one line per contender (seconds, MB/s of uncompressed tar, output
// bytes) and the ratios. The tree is generated from a fixed seed: the same bytes
// on every run.
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <thread>

#include "cache/layer_unpack.h"
#include "cache/layer_pack.h"
#include "support/error.h"
#include "support/fs.h"

using namespace kiln;

namespace {

double now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

/// Writes about `total` bytes of files below `dir`: 50% text, 30% random bytes,
/// 20% low-entropy binary, in files of 1 KiB to 8 MiB.
bool generate(const std::string& dir, uint64_t total) {
  std::mt19937_64 rng(20261128);
  static const char* words[] = {"kiln",  "layer", "snapshot", "overlay",  "digest", "build",
                                "cache", "image", "registry", "manifest", "config", "tar",
                                "\n",    "  ",    "return",   "int",      "void",   "{}"};
  uint64_t written = 0;
  for (int n = 0; written < total; ++n) {
    std::string sub = dir + "/d" + std::to_string(n % 37) + "/s" + std::to_string(n % 5);
    if (auto err = fs::make_dirs(sub)) {
      std::fprintf(stderr, "%s\n", error_message(std::move(err)).c_str());
      return false;
    }
    uint64_t size = uint64_t{1024} << (rng() % 14);
    size = std::min(size, total - written);
    std::string data;
    data.reserve(size);
    unsigned kind = rng() % 10;
    while (data.size() < size) {
      if (kind < 5) {
        data += words[rng() % (sizeof(words) / sizeof(words[0]))];
        data += ' ';
      } else if (kind < 8) {
        uint64_t v = rng();
        data.append(reinterpret_cast<const char*>(&v), sizeof(v));
      } else {
        data += static_cast<char>(rng() % 4 == 0 ? rng() % 256 : 0);
      }
    }
    data.resize(size);
    std::FILE* f = std::fopen((sub + "/f" + std::to_string(n)).c_str(), "wb");
    if (f == nullptr || std::fwrite(data.data(), 1, data.size(), f) != data.size()) {
      std::perror("write");
      return false;
    }
    std::fclose(f);
    written += size;
  }
  return true;
}

/// Runs `command` with /bin/sh; returns seconds, or -1 on failure.
double time_command(const std::string& command) {
  double start = now();
  int rc = std::system(command.c_str());
  double end = now();
  return rc == 0 ? end - start : -1;
}

uint64_t file_size(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 ? static_cast<uint64_t>(st.st_size) : 0;
}

}  // namespace

int main(int argc, char** argv) {
  uint64_t size_mb = 300;
  unsigned threads = 0;
  std::string keep;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::strcmp(argv[i], "--size-mb") == 0) {
      size_mb = std::strtoull(argv[i + 1], nullptr, 10);
    } else if (std::strcmp(argv[i], "--threads") == 0) {
      threads = static_cast<unsigned>(std::strtoul(argv[i + 1], nullptr, 10));
    } else if (std::strcmp(argv[i], "--keep") == 0) {
      keep = argv[i + 1];
    }
  }
  auto work = keep.empty() ? fs::make_temp_dir("/var/tmp", "kiln-pack-bench-")
                           : llvm::Expected<std::string>(keep);
  if (!work) {
    std::fprintf(stderr, "%s\n", error_message(work.takeError()).c_str());
    return 1;
  }
  std::string upper = *work + "/upper";
  if (!fs::exists(upper) && !generate(upper, size_mb << 20)) {
    return 1;
  }
  cache::PackOptions options;
  options.threads = threads;
  options.compression = cache::Compression::none;
  auto tar = cache::pack_layer_to_file(upper, *work + "/layer.tar", options);
  if (!tar) {
    std::fprintf(stderr, "%s\n", error_message(tar.takeError()).c_str());
    return 1;
  }
  double mb = static_cast<double>(tar->size) / 1e6;
  options.compression = cache::Compression::gzip;
  double start = now();
  auto packed = cache::pack_layer_to_file(upper, *work + "/layer.tgz", options);
  double kiln_s = now() - start;
  if (!packed) {
    std::fprintf(stderr, "%s\n", error_message(packed.takeError()).c_str());
    return 1;
  }
  std::string tar_path = *work + "/layer.tar";
  double gzip_s = time_command("gzip -6 -c " + tar_path + " > " + *work + "/gzip.gz");
  double pigz_s = time_command("pigz -6 -c " + tar_path + " > " + *work + "/pigz.gz");
  unsigned cores = threads ? threads : std::thread::hardware_concurrency();
  std::printf("tar: %.1f MB, cores: %u\n", mb, cores);
  std::printf("kiln pack (walk+tar+gzip -6 libdeflate): %.2f s  %.1f MB/s  %llu bytes\n", kiln_s,
              mb / kiln_s, static_cast<unsigned long long>(packed->size));
  std::printf("gzip -6 (tar already made):            %.2f s  %.1f MB/s  %llu bytes\n", gzip_s,
              mb / gzip_s, static_cast<unsigned long long>(file_size(*work + "/gzip.gz")));
  std::printf("pigz -6 (tar already made):            %.2f s  %.1f MB/s  %llu bytes\n", pigz_s,
              mb / pigz_s, static_cast<unsigned long long>(file_size(*work + "/pigz.gz")));
  std::printf(
      "speed: kiln/gzip %.2fx  kiln/pigz %.2fx;  size: kiln/gzip %.3f  kiln/pigz %.3f\n",
      gzip_s / kiln_s, pigz_s / kiln_s,
      static_cast<double>(packed->size) / static_cast<double>(file_size(*work + "/gzip.gz")),
      static_cast<double>(packed->size) / static_cast<double>(file_size(*work + "/pigz.gz")));
  // Unpacking the same blob: kiln's unpack_layer (overlay form, DiffID checked)
  // against GNU tar reading through gzip.
  std::string into = *work + "/unpacked";
  llvm::consumeError(fs::remove_all(into));
  llvm::consumeError(fs::make_dirs(into));
  start = now();
  auto diff_id = cache::unpack_layer(*work + "/layer.tgz", into, packed->diff_id);
  double unpack_s = now() - start;
  if (!diff_id) {
    std::fprintf(stderr, "%s\n", error_message(diff_id.takeError()).c_str());
    return 1;
  }
  llvm::consumeError(fs::remove_all(into));
  llvm::consumeError(fs::make_dirs(into));
  double tar_s = time_command("tar -xzf " + *work + "/layer.tgz -C " + into);
  llvm::consumeError(fs::remove_all(into));
  std::printf("kiln unpack_layer: %.2f s  %.1f MB/s;  tar -xzf: %.2f s  %.1f MB/s  (%.2fx)\n",
              unpack_s, mb / unpack_s, tar_s, mb / tar_s, tar_s / unpack_s);
  if (keep.empty()) {
    llvm::consumeError(fs::remove_all(*work));
  }
  return 0;
}
