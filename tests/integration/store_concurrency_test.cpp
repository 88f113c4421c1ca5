// Two kiln processes loading, tagging, importing and removing in one store at once.

#include <thread>

#include <catch2/catch.hpp>

#include "cache/store_db.h"
#include "tests/testutil/testutil.h"

using kiln::testutil::Output;
using kiln::testutil::run;
using kiln::testutil::TempDir;

namespace {

// 50 steps of worker `w`: loads the archive every 10th step (re-pointing busybox:1),
// tags busybox:1 as w<w>:<i>, removes every third of those tags, and imports then
// removes a one-off image every 10th step (which deletes its blobs).
std::string worker_script(const std::string& root, const std::string& dir, int w) {
  std::string k = std::string(KILN_BINARY) + " --root " + root;
  std::string n = std::to_string(w);
  return "set -e\n"
         "for i in $(seq 0 49); do\n"
         "  if [ $((i % 10)) -eq 0 ]; then " +
         k + " load -i " + dir +
         "/bb.tar >/dev/null; fi\n"
         "  " +
         k + " tag busybox:1 w" + n +
         ":$i\n"
         "  if [ $((i % 3)) -eq 0 ]; then " +
         k + " rmi w" + n +
         ":$i >/dev/null; fi\n"
         "  if [ $((i % 10)) -eq 5 ]; then\n"
         "    printf 'w" +
         n + " %s' $i > " + dir + "/one" + n +
         "\n"
         "    tar -C " +
         dir + " -cf " + dir + "/one" + n + ".tar one" + n +
         "\n"
         "    " +
         k + " import " + dir + "/one" + n + ".tar once" + n +
         ":$i >/dev/null\n"
         "    " +
         k + " rmi once" + n +
         ":$i >/dev/null\n"
         "  fi\n"
         "done\n";
}

}  // namespace

TEST_CASE("two kiln processes share one store without losing names", "[integration][concurrency]") {
  TempDir dir;
  std::string root = dir / "root";
  kiln::testutil::make_busybox_rootfs(dir / "rootfs");
  kiln::testutil::tar_directory(dir / "rootfs", dir / "rootfs.tar");
  REQUIRE(kiln::testutil::kiln(root, {"import", dir / "rootfs.tar", "busybox:1"}).exit_code == 0);
  REQUIRE(kiln::testutil::kiln(root, {"save", "-o", dir / "bb.tar", "busybox:1"}).exit_code == 0);
  std::string blobs_before = run({"ls", root + "/blobs/sha256"}).out;

  Output results[2];
  std::thread workers[2];
  for (int w = 0; w < 2; ++w) {
    workers[w] = std::thread([&, w]() {
      results[w] = run({"sh", "-c", worker_script(root, dir.path(), w)});
    });
  }
  for (auto& worker : workers) {
    worker.join();
  }
  for (const Output& result : results) {
    INFO(result.err);
    CHECK(result.exit_code == 0);
    CHECK(result.err == "");
  }

  std::string expected = "busybox:1\n";
  for (int w = 0; w < 2; ++w) {
    for (int i = 0; i < 50; ++i) {
      if (i % 3 != 0) {
        expected += "w" + std::to_string(w) + ":" + std::to_string(i) + "\n";
      }
    }
  }
  Output names = run({"sh", "-c",
                      std::string(KILN_BINARY) + " --root " + root +
                          " images --format json | sed 's/.*\"Repository\":\"\\([^\"]*\\)\".*"
                          "\"Tag\":\"\\([^\"]*\\)\".*/\\1:\\2/' | sort -V"});
  CHECK(names.out == expected);
  // The one-off images are gone with their blobs; busybox's are all there.
  CHECK(run({"ls", root + "/blobs/sha256"}).out == blobs_before);
  CHECK(run({"ls", "-A", root + "/tmp"}).out == "");
  auto db = kiln::cache::StoreDb::open(root + "/kiln.db");
  REQUIRE(static_cast<bool>(db));
  auto check = (*db)->integrity_check();
  REQUIRE(static_cast<bool>(check));
  CHECK(*check == "ok");
}
