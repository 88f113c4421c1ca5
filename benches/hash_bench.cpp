// Context hashing benchmark: a context of 10,000 files (~40 MB) plus one 256 MB
// file. Prints the cold hash time (no stat cache) and the no-op rehash time (stat
// cache loaded from disk, nothing changed), the case DESIGN.md promises is one
// stat walk.
//
// usage: hash_bench [NOOP_RUNS [DIR]]   (default 2 runs; DIR: a temp dir under
// /var/tmp by default, removed after)

#include <sys/resource.h>
#include <sys/stat.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <random>
#include <string>
#include <thread>

#include "cache/context_hash.h"
#include "support/error.h"
#include "support/fs.h"

using namespace kiln;
using Clock = std::chrono::steady_clock;

namespace {

constexpr int kDirs = 100;
constexpr int kFilesPerDir = 100;
constexpr size_t kSmallSize = 4096;
constexpr size_t kBigSize = 256u << 20;

// User + system CPU time of this process, in ms.
double cpu_ms() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e3 +
         (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e3;
}

double ms_since(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

bool make_context(const std::string& root) {
  std::mt19937_64 rng(42);
  std::string buf(kSmallSize, '\0');
  for (int d = 0; d < kDirs; ++d) {
    std::string dir = fs::join(root, "dir" + std::to_string(d));
    if (auto err = fs::make_dirs(dir)) {
      std::fprintf(stderr, "hash_bench: %s\n", error_message(std::move(err)).c_str());
      return false;
    }
    for (int f = 0; f < kFilesPerDir; ++f) {
      for (auto& c : buf) {
        c = static_cast<char>(rng());
      }
      std::ofstream(fs::join(dir, "file" + std::to_string(f) + ".dat"), std::ios::binary) << buf;
    }
  }
  std::ofstream big(fs::join(root, "big.bin"), std::ios::binary);
  std::string chunk(1 << 20, '\0');
  for (size_t done = 0; done < kBigSize; done += chunk.size()) {
    for (size_t i = 0; i < chunk.size(); i += 8) {
      uint64_t v = rng();
      std::memcpy(&chunk[i], &v, 8);
    }
    big << chunk;
  }
  return static_cast<bool>(big);
}

// One hash of the whole context with a stat cache loaded from `cache_file`;
// prints and returns the wall time of load + walk + save.
double run(const char* label, const std::string& root, const std::string& cache_file) {
  auto start = Clock::now();
  double cpu_start = cpu_ms();
  cache::StatCache cache(cache_file);
  if (auto err = cache.load()) {
    std::fprintf(stderr, "hash_bench: %s\n", error_message(std::move(err)).c_str());
    return -1;
  }
  double load_ms = ms_since(start);
  cache::ContextHasher hasher(root, {{}, &cache, {}});
  auto sum = hasher.checksum_path(".");
  if (!sum) {
    std::fprintf(stderr, "hash_bench: %s\n", error_message(sum.takeError()).c_str());
    return -1;
  }
  if (auto err = cache.save()) {
    std::fprintf(stderr, "hash_bench: %s\n", error_message(std::move(err)).c_str());
    return -1;
  }
  double ms = ms_since(start);
  double cpu = cpu_ms() - cpu_start;
  const auto& st = hasher.stats();
  std::printf(
      "%-22s %8.1f ms wall %8.1f ms cpu (cache load %.1f ms)  entries=%zu read=%zu cached=%zu "
      "bytes_read=%llu  %s\n",
      label, ms, cpu, load_ms, st.entries, st.files_read, st.files_cached,
      static_cast<unsigned long long>(st.bytes_read), sum->short_hex().c_str());
  return ms;
}

}  // namespace

int main(int argc, char** argv) {
  int noop_runs = argc > 1 ? std::atoi(argv[1]) : 2;
  std::string base = argc > 2 ? argv[2] : "/var/tmp";
  auto dir = fs::make_temp_dir(base, "kiln-hash-bench-");
  if (!dir) {
    std::fprintf(stderr, "hash_bench: %s\n", error_message(dir.takeError()).c_str());
    return 1;
  }
  std::string root = fs::join(*dir, "context");
  std::string cache_file = fs::join(*dir, "statcache.bin");
  auto start = Clock::now();
  bool ok = make_context(root);
  std::printf("context: %d files x %zu B + one %zu MB file, created in %.0f ms\n",
              kDirs * kFilesPerDir, kSmallSize, kBigSize >> 20, ms_since(start));
  // Entries changed within the stat cache's racy window are re-read; let the
  // files age past it, as a real context's files have.
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  int rc = 1;
  if (ok && run("cold (no stat cache)", root, cache_file) >= 0) {
    rc = 0;
    for (int i = 1; i <= noop_runs && rc == 0; ++i) {
      std::string label = "no-op rehash #" + std::to_string(i);
      rc = run(label.c_str(), root, cache_file) >= 0 ? 0 : 1;
    }
  }
  if (auto err = fs::remove_all(*dir)) {
    std::fprintf(stderr, "hash_bench: %s\n", error_message(std::move(err)).c_str());
    rc = 1;
  }
  return rc;
}
