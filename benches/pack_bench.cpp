// pack_bench: packs a generated upper dir (mixed text and binary files) into a
// gzip layer with kiln's parallel libdeflate compressor, and compresses the same
// tar with `gzip -6` and `pigz -6` for comparison.
//
//   pack_bench [--size-mb N] [--threads N] [--runs N] [--keep DIR]
//
// Runs the contenders interleaved N times (default 3); prints a `SAMPLE name secs 0`
// line per run (read by benches/run), then one summary line per contender (median
// seconds, MB/s of uncompressed tar, output bytes) and the ratios. The tree is generated from a
// fixed seed: the same bytes on every run.
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "cache/layer_pack.h"
#include "cache/layer_unpack.h"
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

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  if (v.empty()) {
    return 0;
  }
  size_t n = v.size();
  return n % 2 == 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

void print_summary(const char* name, const std::vector<double>& secs, double mb, uint64_t bytes) {
  double med = median(secs);
  std::printf("%-44s median %.2f s (%.2f-%.2f)  %.1f MB/s  %llu bytes\n", name, med,
              *std::min_element(secs.begin(), secs.end()),
              *std::max_element(secs.begin(), secs.end()), mb / med,
              static_cast<unsigned long long>(bytes));
}

}  // namespace

int main(int argc, char** argv) {
  uint64_t size_mb = 300;
  unsigned threads = 0;
  int runs = 3;
  std::string keep;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::strcmp(argv[i], "--size-mb") == 0) {
      size_mb = std::strtoull(argv[i + 1], nullptr, 10);
    } else if (std::strcmp(argv[i], "--threads") == 0) {
      threads = static_cast<unsigned>(std::strtoul(argv[i + 1], nullptr, 10));
    } else if (std::strcmp(argv[i], "--runs") == 0) {
      runs = std::max(1, std::atoi(argv[i + 1]));
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
  std::string stamp = upper + "/.generated-" + std::to_string(size_mb);
  if (!fs::exists(stamp)) {
    llvm::consumeError(fs::remove_all(upper));
    if (!generate(upper, size_mb << 20)) {
      return 1;
    }
    std::FILE* f = std::fopen(stamp.c_str(), "w");
    if (f != nullptr) {
      std::fclose(f);
    }
  }
  cache::PackOptions options;
  options.threads = threads;
  options.compression = cache::Compression::none;
  std::string tar_path = *work + "/layer.tar";
  auto tar = cache::pack_layer_to_file(upper, tar_path, options);
  if (!tar) {
    std::fprintf(stderr, "%s\n", error_message(tar.takeError()).c_str());
    return 1;
  }
  double mb = static_cast<double>(tar->size) / 1e6;
  options.compression = cache::Compression::gzip;
  // Interleaved: kiln, gzip, pigz, kiln, ... so drift on a shared machine hits all.
  std::vector<double> kiln_s, gzip_s, pigz_s;
  std::optional<cache::PackedLayer> packed;
  for (int r = 0; r < runs; ++r) {
    double start = now();
    auto layer = cache::pack_layer_to_file(upper, *work + "/layer.tgz", options);
    kiln_s.push_back(now() - start);
    if (!layer) {
      std::fprintf(stderr, "%s\n", error_message(layer.takeError()).c_str());
      return 1;
    }
    packed = *layer;
    gzip_s.push_back(time_command("gzip -6 -c " + tar_path + " > " + *work + "/gzip.gz"));
    pigz_s.push_back(time_command("pigz -6 -c " + tar_path + " > " + *work + "/pigz.gz"));
    if (gzip_s.back() < 0 || pigz_s.back() < 0) {
      std::fprintf(stderr, "gzip or pigz failed\n");
      return 1;
    }
    std::printf("SAMPLE kiln %.4f 0\nSAMPLE gzip -6 %.4f 0\nSAMPLE pigz -6 %.4f 0\n", kiln_s.back(),
                gzip_s.back(), pigz_s.back());
  }
  unsigned cores = threads ? threads : std::thread::hardware_concurrency();
  uint64_t gzip_bytes = file_size(*work + "/gzip.gz");
  uint64_t pigz_bytes = file_size(*work + "/pigz.gz");
  std::printf("tar: %.1f MB, %u threads, %d runs\n", mb, cores, runs);
  print_summary("kiln pack (walk+tar+gzip -6, libdeflate):", kiln_s, mb, packed->size);
  print_summary("gzip -6 of the tar (already made):", gzip_s, mb, gzip_bytes);
  print_summary("pigz -6 of the tar (already made):", pigz_s, mb, pigz_bytes);
  std::printf("speed: kiln/gzip %.2fx kiln/pigz %.2fx; size: kiln/gzip %.3f kiln/pigz %.3f\n",
              median(gzip_s) / median(kiln_s), median(pigz_s) / median(kiln_s),
              static_cast<double>(packed->size) / static_cast<double>(gzip_bytes),
              static_cast<double>(packed->size) / static_cast<double>(pigz_bytes));
  // Unpacking the same blob: kiln's unpack_layer (overlay form, DiffID checked)
  // against GNU tar reading through gzip.
  std::string into = *work + "/unpacked";
  llvm::consumeError(fs::remove_all(into));
  llvm::consumeError(fs::make_dirs(into));
  double start = now();
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
  std::printf("unpack: kiln unpack_layer %.2f s %.1f MB/s; tar -xzf %.2f s %.1f MB/s (%.2fx)\n",
              unpack_s, mb / unpack_s, tar_s, mb / tar_s, tar_s / unpack_s);
  for (const char* name : {"/layer.tar", "/layer.tgz", "/gzip.gz", "/pigz.gz"}) {
    ::unlink((*work + name).c_str());
  }
  if (keep.empty()) {
    llvm::consumeError(fs::remove_all(*work));
  }
  return 0;
}
