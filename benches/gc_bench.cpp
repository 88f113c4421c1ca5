// gc_bench: the `gc` scenario (kiln only: the peers have no such store to compare).
//
//   gc_bench [--work DIR] [--images N] [--layers N] [--prune-gb N] [--runs N]
//
// 1. `kiln system df` on a synthetic store of N images (default 1,000) of L layers
//    each (default 10: 10,000 snapshots), made once under WORK/df-store and kept:
//    the first df after the store was made (it measures every snapshot and
//    remembers the sizes in kiln.db), then the median of --runs warm ones.
// 2. `kiln builder prune -a -f` of --prune-gb GB (default 10) of unused build
//    cache: 100 snapshots holding fallocate'd files, made afresh each run.
// 3. The automatic collection after a no-op build under the cap: run_auto_gc()
//    (with the lease taken and released) in process, median of 20, on a small
//    store (one image, 10 snapshots) and on the 1,000-image store.
// Prints one line per measurement.
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "cache/gc_config.h"
#include "cache/gc_lock.h"
#include "cache/image_store.h"
#include "cache/snapshot.h"
#include "support/error.h"
#include "support/fs.h"

using namespace kiln;

namespace {

double now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

void die(const std::string& what, llvm::Error err) {
  std::fprintf(stderr, "gc_bench: %s: %s\n", what.c_str(), error_message(std::move(err)).c_str());
  std::exit(1);
}

template <typename T>
T must(llvm::Expected<T> value, const std::string& what) {
  if (!value) {
    die(what, value.takeError());
  }
  return std::move(*value);
}

std::string kiln_binary(const char* argv0) {
  std::string self = argv0;
  std::string dir = self.substr(0, self.rfind('/') + 1);
  return dir + "../cli/kiln";
}

/// CPU seconds (user + system) of the last timed() child.
double last_cpu = 0;

/// Runs `argv` with output to /dev/null; returns wall seconds taken (and sets
/// last_cpu: on a machine shared with other work, the wall time includes
/// waiting for a core).
double timed(const std::vector<std::string>& argv) {
  double start = now();
  pid_t pid = ::fork();
  if (pid == 0) {
    int null = ::open("/dev/null", O_WRONLY);
    ::dup2(null, 1);
    std::vector<char*> args;
    for (const auto& a : argv) {
      args.push_back(const_cast<char*>(a.c_str()));
    }
    args.push_back(nullptr);
    ::execv(args[0], args.data());
    ::_exit(127);
  }
  int status = 0;
  struct rusage usage {};
  ::wait4(pid, &status, 0, &usage);
  last_cpu = static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
             static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    std::fprintf(stderr, "gc_bench: '%s %s' failed\n", argv[0].c_str(), argv[3].c_str());
    std::exit(1);
  }
  return now() - start;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

/// One image of `layers` snapshots, each with a 1 KiB file, and tiny blobs.
void add_image(cache::ImageStore& images, const cache::SnapshotStore& snapshots, int i,
               int layers) {
  std::optional<Digest> parent;
  nlohmann::json diff_ids = nlohmann::json::array();
  nlohmann::json descriptors = nlohmann::json::array();
  for (int j = 0; j < layers; ++j) {
    std::string name = "image " + std::to_string(i) + " layer " + std::to_string(j);
    std::string dir = snapshots.root() + "/tmp/bench-layer";
    if (auto err = fs::make_dirs(dir)) {
      die("mkdir", std::move(err));
    }
    int fd = ::open((dir + "/f").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    std::string bytes(1024, static_cast<char>('a' + j));
    (void)!::write(fd, bytes.data(), bytes.size());
    ::close(fd);
    Digest diff_id = Digest::of(name);
    parent = must(snapshots.add_dir(dir, parent, diff_id), "add snapshot");
    Digest blob = must(images.content().put(name), "put layer");
    diff_ids.push_back(diff_id.str());
    descriptors.push_back({{"mediaType", "application/vnd.docker.image.rootfs.diff.tar"},
                           {"digest", blob.str()},
                           {"size", name.size()}});
  }
  nlohmann::json config = {{"architecture", "amd64"},
                           {"os", "linux"},
                           {"created", "2026-01-01T00:00:00Z"},
                           {"rootfs", {{"type", "layers"}, {"diff_ids", diff_ids}}}};
  std::string config_text = config.dump();
  Digest config_digest = must(images.content().put(config_text), "put config");
  nlohmann::json manifest = {{"schemaVersion", 2},
                             {"mediaType", "application/vnd.docker.distribution.manifest.v2+json"},
                             {"config",
                              {{"mediaType", "application/vnd.docker.container.image.v1+json"},
                               {"digest", config_digest.str()},
                               {"size", config_text.size()}}},
                             {"layers", descriptors}};
  Digest manifest_digest = must(images.content().put(manifest.dump()), "put manifest");
  must(images.add(manifest_digest, {"docker.io/library/bench" + std::to_string(i) + ":latest"}),
       "add image");
}

void make_store(const std::string& root, int count, int layers) {
  auto images = must(cache::ImageStore::open(root), "open store");
  auto snapshots = must(cache::SnapshotStore::open(root), "open snapshots");
  for (int i = 0; i < count; ++i) {
    add_image(*images, snapshots, i, layers);
  }
}

double auto_gc_ms(const std::string& root) {
  std::vector<double> times;
  for (int i = -1; i < 20; ++i) {  // the first runs the time-based policies: not counted
    double start = now();
    {
      auto lease = must(cache::StoreLease::acquire_exclusive(root), "lease");
      auto images = must(cache::ImageStore::open(root), "open store");
      auto report = must(cache::run_auto_gc(*images), "auto gc");
      if (report.ran && i >= 0) {
        std::fprintf(stderr, "gc_bench: the collection ran (store over its limits?)\n");
      }
    }
    if (i >= 0) {
      times.push_back((now() - start) * 1000);
    }
  }
  return median(times);
}

}  // namespace

int main(int argc, char** argv) {
  std::string work = "/var/tmp/kiln-bench-gc";
  int count = 1000, layers = 10, prune_gb = 10, runs = 5;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string a = argv[i];
    if (a == "--work") {
      work = argv[i + 1];
    } else if (a == "--images") {
      count = std::atoi(argv[i + 1]);
    } else if (a == "--layers") {
      layers = std::atoi(argv[i + 1]);
    } else if (a == "--prune-gb") {
      prune_gb = std::atoi(argv[i + 1]);
    } else if (a == "--runs") {
      runs = std::atoi(argv[i + 1]);
    }
  }
  std::string kiln = kiln_binary(argv[0]);
  std::string df_root = work + "/df-store-" + std::to_string(count) + "x" + std::to_string(layers);
  std::string made = df_root + "/.made";
  double first = 0;
  if (!fs::exists(made)) {
    llvm::consumeError(fs::remove_all(df_root));
    double start = now();
    make_store(df_root, count, layers);
    std::printf("made a store of %d images, %d snapshots in %.1f s\n", count, count * layers,
                now() - start);
    first = timed({kiln, "--root", df_root, "system", "df"});
    std::printf("system df, first after making the store (measures every snapshot): %.3f s\n",
                first);
    ::close(::open(made.c_str(), O_WRONLY | O_CREAT, 0644));
  }
  std::vector<double> df, df_cpu;
  for (int i = 0; i < runs; ++i) {
    df.push_back(timed({kiln, "--root", df_root, "system", "df"}));
    df_cpu.push_back(last_cpu);
  }
  std::printf(
      "system df, %d images / %d snapshots: median %.3f s wall, %.3f s CPU (user+sys) of %d "
      "(target < 0.2 s)\n",
      count, count * layers, median(df), median(df_cpu), runs);
  std::vector<double> dfv;
  for (int i = 0; i < runs; ++i) {
    dfv.push_back(timed({kiln, "--root", df_root, "system", "df", "-v"}));
  }
  std::printf("system df -v, same store: median %.3f s of %d\n", median(dfv), runs);

  std::string small = work + "/small-store";
  if (!fs::exists(small + "/.made")) {
    llvm::consumeError(fs::remove_all(small));
    make_store(small, 1, 10);
    ::close(::open((small + "/.made").c_str(), O_WRONLY | O_CREAT, 0644));
  }
  std::printf(
      "automatic collection after a no-op build under the cap (lease + run_auto_gc), "
      "default policies (the file system's use is within them: no measuring): "
      "median %.2f ms on 1 image / 10 snapshots, %.2f ms on %d images / %d snapshots "
      "(target < 5 ms)\n",
      auto_gc_ms(small), auto_gc_ms(df_root), count, count * layers);
  // A cap below what the file system holds but above the store: the store is measured.
  struct statvfs vfs {};
  ::statvfs(df_root.c_str(), &vfs);
  int64_t fs_used = static_cast<int64_t>(vfs.f_blocks - vfs.f_bfree) * vfs.f_frsize;
  std::string cap = "[gc]\nmaxUsedSpace = " + std::to_string(fs_used / 2) +
                    "\nminFreeSpace = 0\nreservedSpace = 0\n[[gc.policy]]\nmaxUsedSpace = " +
                    std::to_string(fs_used / 2) + "\n";
  for (const std::string& root : {small, df_root}) {
    int fd = ::open((root + "/store.toml").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    (void)!::write(fd, cap.data(), cap.size());
    ::close(fd);
  }
  double small_ms = auto_gc_ms(small), big_ms = auto_gc_ms(df_root);
  std::printf(
      "the same with a cap of %.1f GB, below what the file system holds (the store is "
      "measured): median %.2f ms on 1 image / 10 snapshots, %.2f ms on %d images / %d "
      "snapshots\n",
      static_cast<double>(fs_used / 2) / 1e9, small_ms, big_ms, count, count * layers);
  for (const std::string& root : {small, df_root}) {
    ::unlink((root + "/store.toml").c_str());
  }

  if (prune_gb > 0) {
    std::string prune_root = work + "/prune-store";
    llvm::consumeError(fs::remove_all(prune_root));
    auto snapshots = must(cache::SnapshotStore::open(prune_root), "open snapshots");
    must(cache::ImageStore::open(prune_root), "open store");
    int64_t per = static_cast<int64_t>(prune_gb) * 1000 * 1000 * 1000 / 100;
    std::optional<Digest> parent;
    for (int i = 0; i < 100; ++i) {
      std::string dir = prune_root + "/tmp/bench-big";
      if (auto err = fs::make_dirs(dir)) {
        die("mkdir", std::move(err));
      }
      int fd = ::open((dir + "/big").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      if (::posix_fallocate(fd, 0, per) != 0) {
        std::fprintf(stderr, "gc_bench: fallocate %lld bytes failed\n",
                     static_cast<long long>(per));
        return 1;
      }
      ::close(fd);
      parent = must(snapshots.add_dir(dir, i % 10 == 0 ? std::nullopt : parent,
                                      Digest::of("big " + std::to_string(i))),
                    "add snapshot");
    }
    double took = timed({kiln, "--root", prune_root, "builder", "prune", "-a", "-f"});
    std::printf("builder prune -a of %d GB (100 snapshots, chains of 10): %.2f s\n", prune_gb,
                took);
    llvm::consumeError(fs::remove_all(prune_root));
  }
  return 0;
}
