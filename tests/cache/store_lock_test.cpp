// The store lock and the clean-up after processes that died.
#include "cache/store_lock.h"

#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include "cache/content_store.h"
#include "cache/snapshot.h"
#include "support/error.h"
#include "support/fs.h"
#include "tests/cache/tree_util.h"

using namespace kiln;
using namespace kiln::cache;
using kiln::testutil::run;
using kiln::testutil::TempDir;

namespace {

// A child process that mounts a mutable snapshot of `chain` at ROOT/tmp/rootfs-dead,
// starts an ingest and exits (as if killed): its leftovers.
void die_with_leftovers(const SnapshotStore& store, const std::string& root, const Digest& chain) {
  std::string mnt = root + "/tmp/rootfs-dead";
  REQUIRE(::mkdir(mnt.c_str(), 0755) == 0);
  pid_t pid = ::fork();
  if (pid == 0) {
    auto snap = store.create_mutable(chain);
    bool mounted = snap && !snap->mount(mnt);
    auto content = ContentStore::open(root);
    auto ingest = content ? content->begin_ingest() : content.takeError();
    ::_exit(mounted && ingest ? 0 : 1);
  }
  int status = 0;
  REQUIRE(::waitpid(pid, &status, 0) == pid);
  REQUIRE(WEXITSTATUS(status) == 0);
}

std::string ls(const std::string& dir) {
  return run({"sh", "-c", "ls -A " + dir + " | sed 's/-.*/-*/' | sort | tr '\\n' ' '"}).out;
}

}  // namespace

TEST_CASE("reclaim_all unmounts and removes every temp entry", "[cache][reclaim]") {
  TempDir tmp;
  std::string root = tmp / "root";
  auto store = SnapshotStore::open(root, Snapshotter::overlay);
  REQUIRE(testutil::ok(store) == "");
  auto ids = store->unpack_chain({make_layer(tmp, "base", "echo a > a")});
  REQUIRE(testutil::ok(ids) == "");
  die_with_leftovers(*store, root, ids->back());
  REQUIRE(testutil::ok(fs::make_dirs(root + "/tmp/export-x/sub")) == "");
  CHECK(testutil::mounted_under(root + "/tmp/rootfs-dead"));
  CHECK(ls(root + "/tmp") == "export-* ingest-* rootfs-* ");
  auto removed = reclaim_all(root);
  REQUIRE(testutil::ok(removed) == "");
  CHECK(*removed == 4);
  CHECK_FALSE(testutil::mounted_under(root));
  CHECK(ls(root + "/tmp") == "");
  CHECK(run({"sh", "-c", "ls " + root + "/snapshots | grep -c tmp-"}).out == "0\n");
  CHECK(store->contains(ids->back()));
}

TEST_CASE("reclaim_dead removes what dead processes held, nothing else", "[cache][reclaim]") {
  TempDir tmp;
  std::string root = tmp / "root";
  auto store = SnapshotStore::open(root, Snapshotter::overlay);
  REQUIRE(testutil::ok(store) == "");
  auto ids = store->unpack_chain({make_layer(tmp, "base", "echo a > a")});
  REQUIRE(testutil::ok(ids) == "");
  die_with_leftovers(*store, root, ids->back());
  auto content = ContentStore::open(root);
  REQUIRE(testutil::ok(content) == "");
  auto live = content->begin_ingest();
  REQUIRE(testutil::ok(live) == "");
  auto live_snap = store->create_mutable(ids->back());
  REQUIRE(testutil::ok(live_snap) == "");
  REQUIRE(testutil::ok(fs::make_dirs(root + "/tmp/export-x")) == "");
  // Too young: a process may be between creating and locking them.
  auto removed = reclaim_dead(root, 3600);
  REQUIRE(testutil::ok(removed) == "");
  CHECK(*removed == 0);
  removed = reclaim_dead(root, 0);
  REQUIRE(testutil::ok(removed) == "");
  CHECK(*removed == 2);  // the dead snapshot (and its mount) and the dead ingest
  CHECK_FALSE(testutil::mounted_under(root + "/tmp/rootfs-dead"));
  CHECK(ls(root + "/tmp") == "export-* ingest-* rootfs-* ");
  CHECK(run({"sh", "-c", "ls " + root + "/snapshots | grep -c tmp-"}).out == "1\n");
  CHECK(testutil::ok(live->write("x")) == "");
  CHECK(testutil::ok(live_snap->drop()) == "");
}

TEST_CASE("use_store reclaims all only when no other process uses the store", "[cache][reclaim]") {
  TempDir tmp;
  std::string root = tmp / "root";
  REQUIRE(testutil::ok(fs::make_dirs(root + "/tmp/export-x")) == "");
  // Another user of the store: a separate open file description holding the lock.
  int other = ::open((root + "/store.lock").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  REQUIRE(other >= 0);
  REQUIRE(::flock(other, LOCK_SH) == 0);
  REQUIRE(testutil::ok(use_store(root)) == "");
  CHECK(fs::exists(root + "/tmp/export-x"));
  // This process uses it now: an exclusive lock is out of reach.
  REQUIRE(::flock(other, LOCK_UN) == 0);
  CHECK(::flock(other, LOCK_EX | LOCK_NB) != 0);
  ::close(other);
}

TEST_CASE("use_store alone clears the temp entries", "[cache][reclaim]") {
  TempDir tmp;
  std::string root = tmp / "root";
  REQUIRE(testutil::ok(fs::make_dirs(root + "/tmp/export-x")) == "");
  REQUIRE(testutil::ok(use_store(root)) == "");
  CHECK(!fs::exists(root + "/tmp/export-x"));
}
