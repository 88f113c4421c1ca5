// Link layers: a one-layer snapshot laid over a chain when that equals writing
// its entries into the chain's file system (SnapshotStore::lay_over()).
#include <catch2/catch.hpp>

#include <sys/stat.h>

#include "cache/layer_pack.h"
#include "cache/snapshot.h"
#include "tests/cache/tree_util.h"

using namespace kiln;
using namespace kiln::cache;
using kiln::testutil::TempDir;

namespace {

/// A base chain: etc/{conf,link->conf,new} (etc/old whited out), data/fresh
/// (data/old hidden by an opaque dir), an empty dir, a symlinked dir.
std::vector<Digest> base_chain(const SnapshotStore& store, const TempDir& tmp) {
  auto ids = store.unpack_chain(
      {testutil::make_layer(tmp, "l0",
                            "mkdir -p etc data/old empty real && echo base > etc/conf && "
                            "echo gone > etc/old && echo o > data/old/f && ln -s conf etc/link && "
                            "ln -s real app && chmod 0755 etc"),
       testutil::make_layer(tmp, "l1", "mkdir etc && echo new > etc/new && : > etc/.wh.old"),
       testutil::make_layer(tmp, "l2",
                            "mkdir data && : > data/.wh..wh..opq && echo f > data/fresh")});
  REQUIRE(testutil::ok(ids) == "");
  return *ids;
}

/// A one-layer snapshot of the tree `script` makes.
Digest link_layer(const SnapshotStore& store, const TempDir& tmp, const std::string& name,
                  const std::string& script) {
  std::string dir = tmp / ("layer-" + name);
  REQUIRE(testutil::ok(fs::make_dirs(dir)) == "");
  REQUIRE(testutil::sh_in(dir, script) == "");
  PackOptions pack;
  pack.compression = Compression::none;
  auto packed = pack_layer(dir, pack, [](llvm::StringRef) { return llvm::Error::success(); });
  REQUIRE(testutil::ok(packed) == "");
  auto id = store.add_dir(dir, std::nullopt, packed->diff_id);
  REQUIRE(testutil::ok(id) == "");
  return *id;
}

Digest diff_of_dir(const std::string& dir) {
  PackOptions pack;
  pack.compression = Compression::none;
  auto packed = pack_layer(dir, pack, [](llvm::StringRef) { return llvm::Error::success(); });
  REQUIRE(testutil::ok(packed) == "");
  return packed->diff_id;
}

}  // namespace

TEST_CASE("merged_lookup sees what overlayfs shows", "[cache]") {
  TempDir tmp;
  auto store = SnapshotStore::open(tmp / "root", Snapshotter::overlay);
  REQUIRE(testutil::ok(store) == "");
  auto ids = base_chain(*store, tmp);
  auto lowers = store->lower_dirs(ids.back());
  REQUIRE(testutil::ok(lowers) == "");
  CHECK(merged_lookup(*lowers, "etc").kind == MergedKind::dir);
  CHECK(merged_lookup(*lowers, "etc").path == store->fs_dir(ids[1]) + "/etc");
  CHECK(merged_lookup(*lowers, "etc/conf").kind == MergedKind::other);
  CHECK(merged_lookup(*lowers, "etc/link").kind == MergedKind::other);
  CHECK(merged_lookup(*lowers, "etc/old").kind == MergedKind::absent);   // whiteout
  CHECK(merged_lookup(*lowers, "data/old").kind == MergedKind::absent);  // opaque dir
  CHECK(merged_lookup(*lowers, "data/fresh").kind == MergedKind::other);
  CHECK(merged_lookup(*lowers, "app/x").kind == MergedKind::absent);  // never follows app
  CHECK(merged_lookup(*lowers, "etc/conf/x").kind == MergedKind::absent);
  CHECK(merged_lookup(*lowers, "nothing").kind == MergedKind::absent);

  CHECK(store->absent_or_empty_dir(ids.back(), "/srv/www").get());
  CHECK(store->absent_or_empty_dir(ids.back(), "/empty/").get());
  CHECK(store->absent_or_empty_dir(ids.back(), "/etc/old").get());
  CHECK_FALSE(store->absent_or_empty_dir(ids.back(), "/etc").get());
  CHECK_FALSE(store->absent_or_empty_dir(ids.back(), "/data").get());
  CHECK_FALSE(store->absent_or_empty_dir(ids.back(), "/etc/conf").get());
  CHECK(store->absent_or_empty_dir(std::nullopt, "/etc").get());
}

TEST_CASE("a link layer lays over a chain only when the result is the same", "[cache]") {
  TempDir tmp;
  auto store = SnapshotStore::open(tmp / "root", Snapshotter::overlay);
  REQUIRE(testutil::ok(store) == "");
  auto ids = base_chain(*store, tmp);
  const Digest& base = ids.back();

  SECTION("new paths, an existing dir with the same owner and mode, a whited-out name") {
    Digest layer =
        link_layer(*store, tmp, "clean",
                   "mkdir -p srv/www etc && chmod 0755 etc && echo hi > srv/www/index && "
                   "echo x > etc/extra && echo back > etc/old");
    auto laid = store->lay_over(layer, base);
    REQUIRE(testutil::ok(laid) == "");
    REQUIRE(laid->has_value());
    auto diff = store->diff_id(layer);
    CHECK(**laid == chain_id(base, diff.get()));
    CHECK(store->parent(**laid).get() == base);
    // The new snapshot shares the layer's files and packs to the same DiffID.
    CHECK(diff_of_dir(store->fs_dir(**laid)) == diff.get());
    // Laying over again gives the same snapshot.
    CHECK(store->lay_over(layer, base).get() == *laid);

    std::string mnt = tmp / "mnt";
    REQUIRE(testutil::ok(fs::make_dirs(mnt)) == "");
    auto snap = store->create_mutable(**laid);
    REQUIRE(testutil::ok(snap) == "");
    REQUIRE(testutil::ok(snap->mount(mnt)) == "");
    CHECK(testutil::read_file(mnt + "/srv/www/index") == "hi\n");
    CHECK(testutil::read_file(mnt + "/etc/extra") == "x\n");
    CHECK(testutil::read_file(mnt + "/etc/conf") == "base\n");
    CHECK(testutil::read_file(mnt + "/etc/old") == "back\n");
    CHECK(testutil::read_file(mnt + "/data/fresh") == "f\n");
    REQUIRE(testutil::ok(snap->drop()) == "");
    CHECK_FALSE(testutil::mounted_under(tmp.path()));
  }
  SECTION("over the empty file system a layer is itself") {
    Digest layer = link_layer(*store, tmp, "alone", "echo a > a");
    CHECK(store->lay_over(layer, std::nullopt).get() == std::optional<Digest>(layer));
  }
  SECTION("a file that replaces one below does not lay over") {
    Digest layer =
        link_layer(*store, tmp, "file", "mkdir etc && chmod 0755 etc && echo c > etc/conf");
    CHECK(store->lay_over(layer, base).get() == std::nullopt);
  }
  SECTION("a dir whose mode differs below does not lay over") {
    Digest layer = link_layer(*store, tmp, "mode", "mkdir etc && chmod 0700 etc && echo y > etc/y");
    CHECK(store->lay_over(layer, base).get() == std::nullopt);
  }
  SECTION("a dir where a symlink is below does not lay over") {
    Digest layer = link_layer(*store, tmp, "link", "mkdir -p app && echo z > app/z");
    CHECK(store->lay_over(layer, base).get() == std::nullopt);
  }
  SECTION("a file where a dir is below does not lay over") {
    Digest layer = link_layer(*store, tmp, "dir", "echo d > data");
    CHECK(store->lay_over(layer, base).get() == std::nullopt);
  }
}
