#include "cache/context_hash.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <fstream>

#include <catch2/catch.hpp>

#include "support/error.h"
#include "support/fs.h"

using namespace kiln;
using namespace kiln::cache;

namespace {

// A temp context directory removed at the end of the test.
struct TempContext {
  TempContext() {
    auto dir = fs::make_temp_dir("/tmp", "kiln-ctx-test-");
    REQUIRE(static_cast<bool>(dir));
    root = *dir;
    REQUIRE(::chmod(root.c_str(), 0755) == 0);
  }
  ~TempContext() { llvm::consumeError(fs::remove_all(root)); }
  std::string path(const std::string& rel) const { return fs::join(root, rel); }
  void write(const std::string& rel, const std::string& data, mode_t mode = 0644) const {
    std::ofstream(path(rel), std::ios::binary | std::ios::trunc) << data;
    REQUIRE(::chmod(path(rel).c_str(), mode) == 0);
    REQUIRE(::lchown(path(rel).c_str(), 0, 0) == 0);
  }
  void mkdir(const std::string& rel) const {
    REQUIRE(::mkdir(path(rel).c_str(), 0755) == 0);
    REQUIRE(::chmod(path(rel).c_str(), 0755) == 0);
  }
  void symlink(const std::string& target, const std::string& rel) const {
    REQUIRE(::symlink(target.c_str(), path(rel).c_str()) == 0);
    REQUIRE(::lchown(path(rel).c_str(), 0, 0) == 0);
  }
  // Sets mtime (and atime) of `rel` to `sec`.`nsec`.
  void set_mtime(const std::string& rel, time_t sec, long nsec = 0) const {
    timespec ts[2] = {{sec, nsec}, {sec, nsec}};
    REQUIRE(::utimensat(AT_FDCWD, path(rel).c_str(), ts, AT_SYMLINK_NOFOLLOW) == 0);
  }
  std::string root;
};

// A digester that counts the files it reads.
struct CountingDigester {
  std::shared_ptr<std::atomic<int>> reads = std::make_shared<std::atomic<int>>(0);
  ContentDigester fn() const {
    return [reads = reads](const std::string& path) {
      ++*reads;
      return digest_file(path);
    };
  }
};

std::string hex_of(llvm::Expected<Digest> d) {
  if (!d) {
    return "error: " + error_message(d.takeError());
  }
  return d->hex();
}

// The small tree of the known-answer test: a.txt "hello\n" 0644, bin/run.sh
// "#!/bin/sh\n" 0755, link -> a.txt; all root-owned.
void make_known_tree(const TempContext& ctx) {
  ctx.write("a.txt", "hello\n");
  ctx.mkdir("bin");
  ctx.write("bin/run.sh", "#!/bin/sh\n", 0755);
  ctx.symlink("a.txt", "link");
  REQUIRE(::lchown(ctx.root.c_str(), 0, 0) == 0);
  REQUIRE(::lchown(ctx.path("bin").c_str(), 0, 0) == 0);
}

}  // namespace

// Pinned values; checked independently with Python hashlib over the same tagged fields.
TEST_CASE("context checksum known answers", "[context_hash]") {
  TempContext ctx;
  make_known_tree(ctx);
  ContextHasher hasher(ctx.root, {});
  CHECK(hex_of(hasher.checksum_path("a.txt")) ==
        "ed93e9ad62c27ebbbf21f9b72998e87c2be03c5f1231801be4042eff978bbaca");
  CHECK(hex_of(hasher.checksum_path("link")) ==
        "9abe51892f4e29354eb053cd4ef4522de5dc9639c336c51e6f4b45fbeee8cbe2");
  CHECK(hex_of(hasher.checksum_path("bin")) ==
        "5b1015e23fef0d33eb9fd7c6a10b73d32472f1642f5a7f8145b9c585cb69399e");
  CHECK(hex_of(hasher.checksum_path(".")) ==
        "9a2d57391a4a6238da65412a28998ec44301ad31c4f6370a8819dbbdb552f67c");
  CHECK(hex_of(hasher.checksum({"a.txt", "bin"})) ==
        "5705adbd25c3943e7e4b0fa1017da9c92027ee2990127020cae94d22b415a0df");
  CHECK(kContextChecksumVersion == 1);
}

TEST_CASE("what changes a context checksum", "[context_hash]") {
  TempContext ctx;
  make_known_tree(ctx);
  ContextHasher hasher(ctx.root, {});
  std::string before = hex_of(hasher.checksum_path("."));

  SECTION("mtime alone does not") {
    ctx.set_mtime("a.txt", 1000000000);
    ctx.set_mtime("bin", 1000000000);
    CHECK(hex_of(hasher.checksum_path(".")) == before);
  }
  SECTION("contents do") {
    ctx.write("bin/run.sh", "#!/bin/bash\n", 0755);
    CHECK(hex_of(hasher.checksum_path(".")) != before);
  }
  SECTION("mode does") {
    REQUIRE(::chmod(ctx.path("a.txt").c_str(), 0600) == 0);
    CHECK(hex_of(hasher.checksum_path(".")) != before);
  }
  SECTION("owner does") {
    REQUIRE(::lchown(ctx.path("a.txt").c_str(), 1000, 0) == 0);
    CHECK(hex_of(hasher.checksum_path(".")) != before);
  }
  SECTION("symlink target does") {
    REQUIRE(::unlink(ctx.path("link").c_str()) == 0);
    ctx.symlink("bin", "link");
    CHECK(hex_of(hasher.checksum_path(".")) != before);
  }
  SECTION("a rename does") {
    REQUIRE(::rename(ctx.path("a.txt").c_str(), ctx.path("b.txt").c_str()) == 0);
    CHECK(hex_of(hasher.checksum_path(".")) != before);
  }
}

TEST_CASE("excluded files do not count", "[context_hash]") {
  TempContext ctx;
  make_known_tree(ctx);
  ContextHasher plain(ctx.root, {});
  std::string before = hex_of(plain.checksum_path("."));
  ctx.write("debug.log", "noise");
  ctx.mkdir("build");
  ctx.write("build/out.o", "object");
  CHECK(hex_of(plain.checksum_path(".")) != before);

  ContextHasher filtered(ctx.root, {exclude_patterns({"*.log", "build"})});
  CHECK(hex_of(filtered.checksum_path(".")) == before);
  CHECK(hex_of(filtered.checksum_path("build/out.o")) ==
        "error: failed to compute cache key: 'build/out.o' not found");
  CHECK(hex_of(filtered.checksum({"*.log"})) ==
        "error: failed to compute cache key: no files match '*.log'");

  int dirs_seen = 0;
  ContextHasher predicate(ctx.root, {[&](llvm::StringRef path, bool is_dir) {
                            dirs_seen += is_dir;
                            return path != "debug.log" && !path.startswith("build");
                          }});
  CHECK(hex_of(predicate.checksum_path(".")) == before);
  CHECK(dirs_seen == 2);  // bin and build
}

TEST_CASE("wildcard sources resolve to their matches", "[context_hash]") {
  TempContext ctx;
  ctx.mkdir("src");
  ctx.write("src/a.go", "package a\n");
  ctx.write("src/b.go", "package b\n");
  ctx.write("src/notes.txt", "notes\n");
  ContextHasher hasher(ctx.root, {});
  auto found = hasher.resolve("./src/*.go");
  REQUIRE(static_cast<bool>(found));
  CHECK(*found == std::vector<std::string>{"src/a.go", "src/b.go"});
  std::string go = hex_of(hasher.checksum({"src/*.go"}));
  CHECK(go == hex_of(hasher.checksum({"src/b.go", "src/a.go"})));
  ctx.write("src/notes.txt", "other notes\n");
  CHECK(hex_of(hasher.checksum({"src/*.go"})) == go);
  ctx.write("src/c.go", "package c\n");
  CHECK(hex_of(hasher.checksum({"src/*.go"})) != go);
  CHECK(hex_of(hasher.checksum({"missing.txt"})) ==
        "error: failed to compute cache key: 'missing.txt' not found");
  CHECK(hex_of(hasher.checksum({"src/*.rs"})) ==
        "error: failed to compute cache key: no files match 'src/*.rs'");
}

TEST_CASE("context paths stay inside the root", "[context_hash]") {
  CHECK(clean_context_path("") == "");
  CHECK(clean_context_path(".") == "");
  CHECK(clean_context_path("/") == "");
  CHECK(clean_context_path("./src/") == "src");
  CHECK(clean_context_path("../../etc/passwd") == "etc/passwd");
  CHECK(clean_context_path("a/./b/../c") == "a/c");
  CHECK(clean_context_path("/a/../b") == "b");
  CHECK(clean_context_path("//a/../../b") == "b");
}

TEST_CASE("the stat cache avoids re-reading unchanged files", "[context_hash]") {
  TempContext ctx;
  make_known_tree(ctx);
  TempContext state;
  std::string cache_file = state.path("statcache.bin");
  CountingDigester counter;
  std::string first;
  {
    StatCache cache(cache_file, /*racy_window_ns=*/0);
    REQUIRE(!cache.load());
    ContextHasher hasher(ctx.root, {{}, &cache, counter.fn()});
    first = hex_of(hasher.checksum_path("."));
    CHECK(*counter.reads == 2);
    CHECK(hex_of(hasher.checksum_path(".")) == first);
    CHECK(*counter.reads == 2);
    CHECK(hasher.stats().files_cached == 2);
    REQUIRE(!cache.save());
  }
  // A new process: the cache comes from the file.
  StatCache cache(cache_file, 0);
  REQUIRE(!cache.load());
  CHECK(cache.size() == 2);
  ContextHasher hasher(ctx.root, {{}, &cache, counter.fn()});
  CHECK(hex_of(hasher.checksum_path(".")) == first);
  CHECK(*counter.reads == 2);

  SECTION("a same-size edit with the old mtime is seen through ctime") {
    struct stat st {};
    REQUIRE(::stat(ctx.path("a.txt").c_str(), &st) == 0);
    ctx.write("a.txt", "HELLO\n");
    ctx.set_mtime("a.txt", st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
    CHECK(hex_of(hasher.checksum_path(".")) != first);
    CHECK(*counter.reads == 3);
  }
  SECTION("a corrupt cache file reads as empty") {
    std::ofstream(cache_file, std::ios::binary | std::ios::in | std::ios::out) << "garbage";
    StatCache broken(cache_file, 0);
    REQUIRE(!broken.load());
    CHECK(broken.size() == 0);
  }
}

TEST_CASE("racy entries written just before hashing are re-read", "[context_hash]") {
  TempContext ctx;
  ctx.write("fresh.txt", "abc");
  TempContext state;
  StatCache cache(state.path("statcache.bin"));  // default 1 s window
  CountingDigester counter;
  ContextHasher hasher(ctx.root, {{}, &cache, counter.fn()});
  std::string first = hex_of(hasher.checksum_path("."));
  // Same size, same second: a timestamp-only check could miss this edit.
  ctx.write("fresh.txt", "xyz");
  CHECK(hex_of(hasher.checksum_path(".")) != first);
  CHECK(*counter.reads == 2);
}

TEST_CASE("re-hashing an unchanged 10,000-file context reads no file", "[context_hash]") {
  TempContext ctx;
  for (int d = 0; d < 100; ++d) {
    std::string dir = "d" + std::to_string(d);
    ctx.mkdir(dir);
    for (int f = 0; f < 100; ++f) {
      std::string rel = dir + "/f" + std::to_string(f);
      int fd = ::open(ctx.path(rel).c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
      REQUIRE(fd >= 0);
      REQUIRE(::write(fd, rel.data(), rel.size()) == static_cast<ssize_t>(rel.size()));
      ::close(fd);
    }
  }
  TempContext state;
  CountingDigester counter;
  std::string first;
  {
    StatCache cache(state.path("statcache.bin"), 0);
    ContextHasher hasher(ctx.root, {{}, &cache, counter.fn()});
    first = hex_of(hasher.checksum_path("."));
    CHECK(*counter.reads == 10000);
    REQUIRE(!cache.save());
  }
  StatCache cache(state.path("statcache.bin"), 0);
  REQUIRE(!cache.load());
  ContextHasher hasher(ctx.root, {{}, &cache, counter.fn()});
  CHECK(hex_of(hasher.checksum_path(".")) == first);
  CHECK(*counter.reads == 10000);
  CHECK(hasher.stats().entries == 10101);
  CHECK(hasher.stats().files_cached == 10000);
}

TEST_CASE("entries lists every entry of a selection with its own checksum", "[context_hash]") {
  TempContext ctx;
  ctx.mkdir("src");
  ctx.mkdir("src/lib");
  ctx.write("src/a.c", "int a;");
  ctx.write("src/lib/b.c", "int b;");
  ctx.write("README", "readme");
  ContextHasher hasher(ctx.root, {});
  auto listed = hasher.entries({"src", "READ*"});
  REQUIRE(static_cast<bool>(listed));
  std::vector<std::string> paths;
  for (const auto& e : *listed) {
    paths.push_back(e.path + (e.is_dir ? "/" : ""));
  }
  CHECK(paths == std::vector<std::string>{"README", "src/", "src/a.c", "src/lib/", "src/lib/b.c"});
  auto a = hasher.checksum_path("src/a.c");
  REQUIRE(static_cast<bool>(a));
  CHECK((*listed)[2].checksum == *a);
  auto src = hasher.checksum_path("src");
  REQUIRE(static_cast<bool>(src));
  CHECK((*listed)[1].checksum == *src);

  // One edit changes that file's entry (and its parents'), nothing else.
  ctx.write("src/lib/b.c", "int b2;");
  auto again = hasher.entries({"src", "READ*"});
  REQUIRE(static_cast<bool>(again));
  REQUIRE(again->size() == listed->size());
  std::vector<std::string> changed;
  for (size_t i = 0; i < again->size(); ++i) {
    if ((*again)[i].checksum != (*listed)[i].checksum) {
      changed.push_back((*again)[i].path);
    }
  }
  CHECK(changed == std::vector<std::string>{"src", "src/lib", "src/lib/b.c"});

  auto missing = hasher.entries({"nope"});
  REQUIRE(!missing);
  CHECK(llvm::toString(missing.takeError()) == "failed to compute cache key: 'nope' not found");
}
