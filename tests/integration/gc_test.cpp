// Garbage collection end to end: system df against du, the prunes (what they
// remove, what they say they freed), rmi's conflicts, the images size.

#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include "cache/image_store.h"
#include "cache/store_usage.h"
#include "tests/integration/gc_fixture.h"

using kiln::testutil::du_bytes;
using kiln::testutil::GcStore;
using kiln::testutil::Output;

namespace {

// A Dockerfile whose RUN writes `mb` MB of random bytes to /data-`tag`.
std::string random_layer(const std::string& tag, int mb) {
  return "FROM busybox:local\nRUN head -c " + std::to_string(mb * 1000000) +
         " /dev/urandom > /data-" + tag + "\n";
}

void require_ok(const Output& o) {
  INFO(o.out << o.err);
  REQUIRE(o.exit_code == 0);
}

int64_t df_total(const std::string& root) {
  int64_t total = 0;
  for (const auto& [type, size] : kiln::testutil::df_sizes(root)) {
    total += size;
  }
  return total;
}

}  // namespace

TEST_CASE("system df adds up to du of the store", "[integration][gc]") {
  GcStore s;
  require_ok(s.build(s.context("a", random_layer("a", 3) + "COPY Dockerfile /d\n"), {"-t", "a:1"}));
  require_ok(s.build(s.context("b", random_layer("b", 2)), {"-t", "b:1"}));
  require_ok(
      s.kiln({"run", "--name", "c1", "a:1", "sh", "-c", "head -c 1000000 /dev/urandom > /x"}));
  require_ok(s.kiln({"rmi", "b:1"}));  // its snapshot stays as build cache
  // The first df remembers what it measured; the second reads the same store.
  df_total(s.root());
  int64_t shown = df_total(s.root());
  int64_t du = du_bytes(s.root());
  CHECK(std::abs(shown - du) <= du / 100);
  auto sizes = kiln::testutil::df_sizes(s.root());
  CHECK(sizes["Containers"] >= 1000000);
  CHECK(sizes["Build Cache"] >= 2000000);  // b's layer
  CHECK(sizes["Images"] >= 3000000);
  CHECK(sizes["Local Volumes"] == 0);
  // The accounting itself is exact (nothing changes the store between the two).
  auto images = kiln::cache::ImageStore::open(s.root(), kiln::cache::StoreAccess::read_only);
  REQUIRE(static_cast<bool>(images));
  auto usage = kiln::cache::measure_store(**images, kiln::cache::StoreAccess::read_only);
  REQUIRE(static_cast<bool>(usage));
  CHECK(usage->total == du_bytes(s.root()));
  Output tmpl = s.kiln({"system", "df", "--format", "{{.Type}}: {{.TotalCount}} {{.Active}}"});
  require_ok(tmpl);
  CHECK(tmpl.out == "Images: 2 1\nContainers: 1 0\nLocal Volumes: 0 0\nBuild Cache: 4 1\n");
  Output verbose = s.kiln({"system", "df", "-v"});
  require_ok(verbose);
  CHECK(verbose.out.find("CACHE ID       CACHE TYPE   SIZE      CREATED") != std::string::npos);
  CHECK(verbose.out.find("Images space usage:") == 0);
  CHECK(verbose.out.find("c1") != std::string::npos);
}

TEST_CASE("builder prune removes exactly what no image or container uses, and says how much",
          "[integration][gc]") {
  GcStore s;
  require_ok(s.build(s.context("keep", random_layer("keep", 2)), {"-t", "keep:1"}));
  require_ok(s.build(s.context("gone", random_layer("gone", 3)), {"-t", "gone:1"}));
  require_ok(s.build(s.context("used", random_layer("used", 1)), {"-t", "used:1"}));
  require_ok(s.kiln({"run", "--name", "user", "used:1", "true"}));
  require_ok(s.kiln({"rmi", "gone:1"}));
  require_ok(s.kiln({"rmi", "-f", "used:1"}));  // the container still lies on its layers
  int64_t before = du_bytes(s.root());
  Output pruned = s.kiln({"builder", "prune", "-f"});
  require_ok(pruned);
  int64_t after = du_bytes(s.root());
  INFO(pruned.out);
  CHECK(pruned.out.find("Deleted build cache objects:\n") == 0);
  // gone's 3 MB went, and the number printed is what du saw go.
  CHECK(before - after >= 3000000);
  CHECK(std::abs(kiln::testutil::reclaimed(pruned.out) - (before - after)) <=
        (before - after) / 100 + 16384);
  // keep:1 is whole: every step a cache hit; the container's snapshots are there.
  Output again = s.build(s.context("keep", random_layer("keep", 2)), {"-t", "keep:1"});
  require_ok(again);
  CHECK(again.err.find("CACHED") != std::string::npos);
  require_ok(s.kiln({"start", "user"}));
  Output check = s.kiln({"system", "check"});
  INFO(check.out);
  CHECK(check.exit_code == 0);
  // Nothing more to remove: a second prune frees nothing.
  Output second = s.kiln({"builder", "prune", "-f"});
  require_ok(second);
  CHECK(kiln::testutil::reclaimed(second.out) < 65536);
  // -a takes cache mounts and history too, never what an image or container lies on.
  Output all = s.kiln({"builder", "prune", "-a", "-f"});
  require_ok(all);
  require_ok(s.kiln({"start", "user"}));
  require_ok(s.kiln({"run", "--rm", "keep:1", "test", "-s", "/data-keep"}));
}

TEST_CASE("image prune and container prune remove what nothing uses", "[integration][gc]") {
  GcStore s;
  require_ok(s.build(s.context("x", random_layer("x", 2)), {"-t", "x:1"}));
  require_ok(s.build(s.context("x", random_layer("x", 2) + "RUN true\n"), {"-t", "x:1"}));
  require_ok(s.kiln({"run", "--name", "stopped", "busybox:local", "true"}));
  Output images = s.kiln({"image", "prune", "-f"});
  require_ok(images);
  CHECK(images.out.find("Deleted Images:\ndeleted: sha256:") == 0);  // the old x:1, dangling
  CHECK(s.kiln({"inspect", "x:1"}).exit_code == 0);
  Output containers = s.kiln({"container", "prune", "-f"});
  require_ok(containers);
  CHECK(containers.out.find("Deleted Containers:\n") == 0);
  CHECK(s.kiln({"inspect", "stopped"}).exit_code != 0);
  Output all = s.kiln({"system", "prune", "-a", "-f"});
  require_ok(all);
  CHECK(all.out.find("untagged: x:1") != std::string::npos);
  CHECK(all.out.find("untagged: busybox:local") != std::string::npos);
  Output df = s.kiln({"system", "df"});
  require_ok(df);
  CHECK(df.out.find("Images          0         0         0B        0B\n") != std::string::npos);
}

TEST_CASE("rmi refuses an image a container uses unless forced, and takes NAME@DIGEST",
          "[integration][gc][rmi]") {
  GcStore s;
  require_ok(s.kiln({"run", "--name", "holder", "busybox:local", "true"}));
  Output ps = s.kiln({"ps", "-a", "--no-trunc", "--format", "{{.ID}}"});
  std::string id = ps.out.substr(0, 12);
  Output inspect = s.kiln({"inspect", "--format", "{{.Id}}", "busybox:local"});
  std::string image = inspect.out.substr(7, 12);
  Output refused = s.kiln({"rmi", "busybox:local"});
  CHECK(refused.exit_code == 1);
  CHECK(refused.err ==
        "error: conflict: unable to remove repository reference \"busybox:local\" "
        "(must force) - container " +
            id + " is using its referenced image " + image + "\n");
  Output by_id = s.kiln({"rmi", image});
  CHECK(by_id.exit_code == 1);
  CHECK(by_id.err == "error: conflict: unable to delete " + image +
                         " (must be forced) - image is being used by stopped container " + id +
                         "\n");
  require_ok(s.kiln({"tag", "busybox:local", "other:2"}));
  require_ok(s.kiln({"rmi", "busybox:local"}));  // not its last name
  Output digest = s.kiln({"images", "--digests", "--format", "{{.Digest}}"});
  std::string manifest = digest.out.substr(0, digest.out.find('\n'));
  Output at = s.kiln({"rmi", "other@" + manifest});
  CHECK(at.exit_code == 1);  // its last name, and a container uses it
  Output forced = s.kiln({"rmi", "-f", "other@" + manifest});
  require_ok(forced);
  CHECK(forced.out.find("Untagged: other@" + manifest) == 0);
  CHECK(s.kiln({"inspect", "other:2"}).exit_code != 0);
}

TEST_CASE("images shows the uncompressed size of imported and built images alike",
          "[integration][gc][images]") {
  GcStore s;
  // Imported layers are stored gzip; the size shown is the tar's.
  int64_t tar = static_cast<int64_t>(kiln::testutil::read_file(s.path("bb.tar")).size());
  Output images = s.kiln({"images", "--format", "{{.Size}}", "busybox:local"});
  require_ok(images);
  int64_t shown = kiln::testutil::parse_human(images.out.substr(0, images.out.find('\n')));
  CHECK(std::abs(shown - tar) <= tar / 100);
}

TEST_CASE("system check finds a corrupt blob and --repair removes it and what needs it",
          "[integration][gc][check]") {
  GcStore s;
  require_ok(s.build(s.context("c", random_layer("c", 1)), {"-t", "c:1"}));
  Output clean = s.kiln({"system", "check", "--deep"});
  INFO(clean.out);
  CHECK(clean.exit_code == 0);
  CHECK(clean.out.find(": no problems\n") != std::string::npos);
  // Corrupt the layer blob of c:1's RUN step.
  auto inspect = nlohmann::json::parse(s.kiln({"inspect", "c:1"}).out);
  std::string diff_id = inspect[0]["RootFS"]["Layers"].back().get<std::string>();
  std::string blob = s.root() + "/blobs/sha256/" + diff_id.substr(7);
  kiln::testutil::write_file(blob, "not a layer");
  Output found = s.kiln({"system", "check"});
  CHECK(found.exit_code == 1);
  CHECK(found.out.find("blob " + diff_id + ": content does not match its digest\n") !=
        std::string::npos);
  CHECK(found.out.find("(run with --repair to fix)") != std::string::npos);
  Output repaired = s.kiln({"system", "check", "--repair"});
  INFO(repaired.out);
  CHECK(repaired.exit_code == 0);
  CHECK(repaired.out.find("blob " + diff_id + ": content does not match its digest (repaired)") !=
        std::string::npos);
  CHECK(repaired.out.find("its blob " + diff_id + " is missing (repaired)") != std::string::npos);
  CHECK(s.kiln({"system", "check"}).exit_code == 0);
  CHECK(s.kiln({"inspect", "c:1"}).exit_code != 0);
  // The build makes it again.
  require_ok(s.build(s.context("c", random_layer("c", 1)), {"-t", "c:1"}));
  require_ok(s.kiln({"run", "--rm", "c:1", "test", "-s", "/data-c"}));
}

TEST_CASE("system df counts volumes and system prune --volumes removes the unused ones",
          "[integration][gc][volume]") {
  GcStore s;
  require_ok(s.kiln({"volume", "create", "data"}));
  require_ok(s.kiln({"run", "--name", "writer", "-v", "data:/data", "busybox:local", "sh", "-c",
                     "head -c 2000000 /dev/urandom > /data/x"}));
  // An anonymous volume of a removed container (rm without -v keeps it): unused.
  require_ok(s.kiln({"run", "--name", "anon", "-v", "/anon", "busybox:local", "sh", "-c",
                     "head -c 1000000 /dev/urandom > /anon/y"}));
  require_ok(s.kiln({"rm", "anon"}));
  df_total(s.root());
  int64_t shown = df_total(s.root());
  int64_t du = du_bytes(s.root());
  CHECK(std::abs(shown - du) <= du / 100);
  auto sizes = kiln::testutil::df_sizes(s.root());
  CHECK(sizes["Local Volumes"] >= 3000000);
  Output rows = s.kiln({"system", "df", "--format", "{{.Type}}: {{.TotalCount}} {{.Active}}"});
  require_ok(rows);
  CHECK(rows.out.find("Local Volumes: 2 1\n") != std::string::npos);
  Output verbose = s.kiln({"system", "df", "-v"});
  CHECK(verbose.out.find("data ") != std::string::npos);

  // system prune removes the stopped writer, then the unused anonymous volume; a
  // named volume goes only with -a.
  Output pruned = s.kiln({"system", "prune", "-f", "--volumes"});
  require_ok(pruned);
  CHECK(s.kiln({"volume", "ls", "-q"}).out == "data\n");
  require_ok(s.kiln({"system", "prune", "-a", "-f", "--volumes"}));
  CHECK(s.kiln({"volume", "ls", "-q"}).out == "");
  CHECK(kiln::testutil::df_sizes(s.root())["Local Volumes"] == 0);
}
