// Garbage collection without containers: sizes and durations, the store config,
// and which snapshots a collection removes, in which order.
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <sys/stat.h>

#include <ctime>

#include "cache/build_db.h"
#include "cache/gc.h"
#include "cache/gc_config.h"
#include "cache/gc_lock.h"
#include "cache/image_store.h"
#include "cache/snapshot.h"
#include "cache/store_usage.h"
#include "support/error.h"
#include "support/fs.h"
#include "tests/testutil/testutil.h"

using namespace kiln;
using namespace kiln::cache;
using kiln::testutil::TempDir;
using kiln::testutil::write_file;

namespace {

constexpr int64_t kMiB = 1 << 20;

std::string message(llvm::Error err) { return err ? error_message(std::move(err)) : ""; }

/// A store with snapshots made from plain directories, each holding `kb` KB,
/// and a cache key per snapshot last used `age` seconds ago.
class FakeStore {
 public:
  FakeStore() {
    auto images = ImageStore::open(tmp_ / "root");
    REQUIRE(static_cast<bool>(images));
    images_ = std::move(*images);
    auto snapshots = SnapshotStore::open(tmp_ / "root");
    REQUIRE(static_cast<bool>(snapshots));
    snapshots_.emplace(std::move(*snapshots));
  }
  Digest add(const std::string& name, std::optional<Digest> parent, int kb, int64_t age) {
    std::string dir = tmp_ / ("root/tmp/" + name);
    write_file(dir + "/" + name, std::string(static_cast<size_t>(kb) * 1024, 'x'));
    auto chain = snapshots_->add_dir(dir, parent, Digest::of(name));
    REQUIRE(static_cast<bool>(chain));
    // Made `age` seconds ago (a snapshot's creation is its first use).
    struct timespec times[2] = {{std::time(nullptr) - age, 0}, {std::time(nullptr) - age, 0}};
    std::string diff_id = tmp_ / ("root/snapshots/" + chain->hex() + "/diff_id");
    REQUIRE(::utimensat(AT_FDCWD, diff_id.c_str(), times, 0) == 0);
    auto st = images_->db().prepare(
        "INSERT INTO cache_keys (key, chain, layer, created, last_used, use_count) "
        "VALUES (?1, ?2, 1, ?3, ?3, 1)");
    REQUIRE(static_cast<bool>(st));
    REQUIRE(message(st->bind(1, Digest::of("key " + name).str())
                        .bind(2, chain->str())
                        .bind(3, static_cast<int64_t>(std::time(nullptr)) - age)
                        .run()) == "");
    return *chain;
  }
  ImageStore& images() { return *images_; }
  bool has(const Digest& chain) const { return snapshots_->contains(chain); }

 private:
  TempDir tmp_{"kiln-gc-unit-"};
  std::unique_ptr<ImageStore> images_;
  std::optional<SnapshotStore> snapshots_;
};

}  // namespace

TEST_CASE("sizes take bytes, binary units and percentages of the file system", "[cache][gc]") {
  CHECK(*parse_space("1048576", 0) == 1048576);
  CHECK(*parse_space("512MB", 0) == 512 * kMiB);
  CHECK(*parse_space("300mb", 0) == 300 * kMiB);
  CHECK(*parse_space("1.5GiB", 0) == 1536 * kMiB);
  CHECK(*parse_space("10%", 1000) == 100);
  CHECK(*parse_space("2k", 0) == 2048);
  CHECK(message(parse_space("ten", 0).takeError()) ==
        "invalid size 'ten' (expected bytes, a size such as \"512MB\", or a percentage such as "
        "\"10%\")");
  CHECK(message(parse_space("120%", 100).takeError()).find("invalid size '120%'") == 0);
}

TEST_CASE("durations take Go's units and days", "[cache][gc]") {
  CHECK(*parse_duration("90") == 90);
  CHECK(*parse_duration("90s") == 90);
  CHECK(*parse_duration("1h30m") == 5400);
  CHECK(*parse_duration("48h") == 48 * 3600);
  CHECK(*parse_duration("60d") == 60 * 86400);
  CHECK(message(parse_duration("soon").takeError()) ==
        "invalid duration 'soon' (expected e.g. \"24h\", \"30m\")");
  GcFilters filters;
  CHECK(message(add_gc_filter("type==exec.cachemount", filters)) == "");
  CHECK(message(add_gc_filter("until=24h", filters)) == "");
  CHECK(filters.types.count("exec.cachemount") == 1);
  CHECK(*filters.until == 86400);
  CHECK(message(add_gc_filter("color=red", filters)) ==
        "invalid filter 'color' (choose from type, id, until)");
}

TEST_CASE("the store config gives BuildKit's default policies, or its own, and a hard cap",
          "[cache][gc]") {
  TempDir tmp;
  int64_t fs = 1000 * kMiB;
  auto defaults = load_gc_config(tmp.path(), fs);
  REQUIRE(static_cast<bool>(defaults));
  REQUIRE(defaults->policies.size() == 4);
  CHECK(defaults->policies[0].filters.types.count("exec.cachemount") == 1);
  CHECK(defaults->policies[0].keep_duration == 48 * 3600);
  CHECK(defaults->policies[1].keep_duration == 60 * 86400);
  CHECK(defaults->policies[3].all);
  CHECK(defaults->policies[3].max_used_space == fs * 6 / 10);
  CHECK(defaults->policies[3].min_free_space == fs / 5);
  CHECK(defaults->hard_cap == fs * 6 / 10);

  write_file(tmp / "store.toml", "[gc]\nmaxUsedSpace = \"300MB\"\n");
  auto capped = load_gc_config(tmp.path(), fs);
  REQUIRE(static_cast<bool>(capped));
  CHECK(capped->hard_cap == 300 * kMiB);

  write_file(tmp / "store.toml",
             "[gc]\n[[gc.policy]]\nfilters = [\"type==exec.cachemount\"]\nkeepDuration = \"1h\"\n"
             "[[gc.policy]]\nall = true\nreservedSpace = \"1GB\"\nmaxUsedSpace = \"50%\"\n");
  auto own = load_gc_config(tmp.path(), fs);
  REQUIRE(static_cast<bool>(own));
  REQUIRE(own->policies.size() == 2);
  CHECK(own->policies[0].keep_duration == 3600);
  CHECK(own->policies[1].reserved_space == 1024 * kMiB);
  CHECK(own->hard_cap == fs / 2);

  write_file(tmp / "store.toml", "[gc]\nmaxUsedSpace = \"lots\"\n");
  auto bad = load_gc_config(tmp.path(), fs);
  CHECK(message(bad.takeError()).find("store.toml': [gc]: 'maxUsedSpace': invalid size 'lots'") !=
        std::string::npos);
}

TEST_CASE("a collection removes the least recently used leaves first and keeps what is in use",
          "[cache][gc]") {
  FakeStore s;
  // a <- b <- c, a <- d; a is the oldest but lies under the others.
  Digest a = s.add("a", std::nullopt, 200, 5000);
  Digest b = s.add("b", a, 200, 3000);
  Digest c = s.add("c", b, 200, 4000);
  Digest d = s.add("d", a, 200, 100);
  auto usage = measure_store(s.images());
  REQUIRE(static_cast<bool>(usage));
  REQUIRE(usage->snapshots.size() == 4);

  // Room for one removal: the oldest leaf (c), never a (it has dependents).
  GcPolicy one;
  one.max_used_space = usage->total - 100 * 1024;
  auto first = collect_garbage(s.images(), one);
  REQUIRE(static_cast<bool>(first));
  CHECK(first->removed == std::vector<std::string>{cache_record_id(c)});
  CHECK(first->reclaimed() >= 190 * 1024);
  CHECK(!s.has(c));
  CHECK(s.has(a));

  // keepDuration keeps d (used 100 s ago), and so a, its parent; b goes.
  GcPolicy keep;
  keep.keep_duration = 1000;
  auto second = collect_garbage(s.images(), keep);
  REQUIRE(static_cast<bool>(second));
  CHECK(second->removed == std::vector<std::string>{cache_record_id(b)});
  CHECK(s.has(a));
  CHECK(s.has(d));

  // A filter by ID takes only that record (d has no dependents; a has one).
  GcPolicy by_id;
  by_id.filters.ids = {cache_record_id(a).substr(0, 6)};
  auto none = collect_garbage(s.images(), by_id);
  REQUIRE(static_cast<bool>(none));
  CHECK(none->removed.empty());
  CHECK(s.has(a));

  // A chain this process uses stays with its ancestors, whatever the policy.
  note_chain_in_use(d);
  auto third = collect_garbage(s.images(), GcPolicy{});
  forget_chains_in_use();
  REQUIRE(static_cast<bool>(third));
  CHECK(third->removed.empty());
  auto last = collect_garbage(s.images(), GcPolicy{});
  REQUIRE(static_cast<bool>(last));
  CHECK(last->removed == std::vector<std::string>{cache_record_id(d), cache_record_id(a)});
  // Their cache records went with them.
  auto rows = s.images().db().prepare("SELECT COUNT(*) FROM cache_keys");
  REQUIRE(static_cast<bool>(rows));
  REQUIRE(*rows->step());
  CHECK(rows->integer(0) == 0);
}

TEST_CASE("the store's total counts a file with two links once", "[cache][gc]") {
  TempDir tmp;
  auto images = ImageStore::open(tmp / "root");
  REQUIRE(static_cast<bool>(images));
  auto snapshots = SnapshotStore::open(tmp / "root");
  REQUIRE(static_cast<bool>(snapshots));
  write_file(tmp / "root/tmp/one/big", std::string(1 << 20, 'x'));
  REQUIRE(message(fs::make_dirs(tmp / "root/tmp/two")) == "");
  REQUIRE(::link((tmp / "root/tmp/one/big").c_str(), (tmp / "root/tmp/two/big").c_str()) == 0);
  REQUIRE(
      static_cast<bool>(snapshots->add_dir(tmp / "root/tmp/one", std::nullopt, Digest::of("1"))));
  REQUIRE(
      static_cast<bool>(snapshots->add_dir(tmp / "root/tmp/two", std::nullopt, Digest::of("2"))));
  auto usage = measure_store(**images);
  REQUIRE(static_cast<bool>(usage));
  REQUIRE(usage->snapshots.size() == 2);
  int64_t first = usage->snapshots[0].size, second = usage->snapshots[1].size;
  CHECK(std::max(first, second) >= (1 << 20));
  CHECK(std::min(first, second) < (1 << 20));
  auto du = kiln::testutil::run({"du", "-sx", "--block-size=1", tmp / "root"});
  CHECK(usage->total == std::stoll(du.out));
}

TEST_CASE("git sources' mirrors are build cache: measured, and removed by a prune --all",
          "[cache][gc]") {
  FakeStore s;
  std::string git = s.images().content().root() + "/git";
  std::string mirror = git + "/" + std::string(64, 'a') + "-sha1";
  write_file(mirror + "/objects/pack/p.pack", std::string(300 * 1024, 'x'));
  write_file(mirror + "/HEAD", "ref: refs/heads/main\n");
  write_file(mirror + ".lock", "");
  auto usage = measure_store(s.images());
  REQUIRE(static_cast<bool>(usage));
  std::vector<CacheDirUsage> mirrors;
  for (const auto& d : usage->cache_dirs) {
    if (d.type == "source.git.checkout") {
      mirrors.push_back(d);
    }
  }
  REQUIRE(mirrors.size() == 1);  // the lock file is not a record of its own
  CHECK(mirrors[0].path == mirror);
  CHECK(mirrors[0].size >= 300 * 1024);

  // A plain prune keeps it (as cache mounts); --all takes it.
  auto plain = collect_garbage(s.images(), GcPolicy{});
  REQUIRE(static_cast<bool>(plain));
  CHECK(kiln::fs::exists(mirror));
  GcPolicy all;
  all.all = true;
  auto pruned = collect_garbage(s.images(), all);
  REQUIRE(static_cast<bool>(pruned));
  CHECK(!kiln::fs::exists(mirror));
  CHECK(pruned->reclaimed() >= 300 * 1024);
}
