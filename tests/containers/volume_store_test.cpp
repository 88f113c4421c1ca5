// Named volumes without a runtime: docker's layout, names, idempotent create,
// the in-use refusal and the usage summary that `system df` counts.
#include <catch2/catch.hpp>

#include "containers/container_json.h"
#include "containers/volume_store.h"
#include "support/atomic_file.h"
#include "support/error.h"
#include "support/fs.h"
#include "tests/testutil/testutil.h"

namespace {

using kiln::containers::ContainerSpec;
using kiln::containers::ContainerStore;
using kiln::containers::VolumeStore;
using kiln::testutil::TempDir;

std::string error_of(llvm::Error err) { return kiln::error_message(std::move(err)); }

}  // namespace

TEST_CASE("volumes live in docker's layout and count their size and users", "[containers]") {
  TempDir dir("kiln-volumes-");
  std::string root = dir / "root";
  auto volumes = VolumeStore::open(root);
  REQUIRE(bool(volumes));
  auto created = volumes->create("data", {{"app", "web"}});
  REQUIRE(bool(created));
  CHECK(created->mountpoint == root + "/volumes/data/_data");
  CHECK(kiln::fs::exists(root + "/volumes/data/volume.json"));
  CHECK_FALSE(created->anonymous);
  // Creating it again returns the same volume.
  auto again = volumes->create("data");
  REQUIRE(bool(again));
  CHECK(again->labels.at("app") == "web");
  kiln::testutil::write_file(created->mountpoint + "/a.txt", std::string(1000, 'x'));
  kiln::testutil::write_file(created->mountpoint + "/sub/b.txt", std::string(24, 'y'));
  auto anonymous = volumes->create("");
  REQUIRE(bool(anonymous));
  CHECK(anonymous->name.size() == 64);
  CHECK(anonymous->anonymous);
  CHECK(error_of(volumes->create("/bad").takeError()).find("invalid characters") !=
        std::string::npos);

  // A container record naming the volume makes it in use.
  auto store = ContainerStore::open(root);
  REQUIRE(bool(store));
  ContainerSpec spec;
  spec.image = "busybox:test";
  spec.process.args = {"true"};
  spec.mount_records.push_back({"volume", "data", created->mountpoint, "/data", true});
  REQUIRE_FALSE(bool(store->create(spec, "{}")));

  auto usage = kiln::containers::volume_usage(root);
  REQUIRE(bool(usage));
  REQUIRE(usage->size() == 2);
  for (const auto& u : *usage) {
    if (u.volume.name == "data") {
      CHECK(u.size_bytes == 1024);
      CHECK(u.containers == 1);
    } else {
      CHECK(u.size_bytes == 0);
      CHECK(u.containers == 0);
    }
  }
  CHECK(error_of(volumes->remove("data", *store)) ==
        "remove data: volume is in use - [" + spec.id + "]");
  REQUIRE_FALSE(bool(store->remove(spec.id, kiln::containers::KillFirst::no)));
  REQUIRE_FALSE(bool(volumes->remove("data", *store)));
  CHECK_FALSE(kiln::fs::exists(root + "/volumes/data"));
  CHECK(error_of(volumes->get("data").takeError()) == "no such volume: data");
}
