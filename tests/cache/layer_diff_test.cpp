// Layer diffs made through real overlay mounts of mutable snapshots, packed,
// unpacked again and compared with the same changes made to a plain directory.
#include <catch2/catch.hpp>

#include "cache/snapshot.h"
#include "cache/layer_pack.h"
#include "support/error.h"
#include "tests/cache/tree_util.h"

using namespace kiln;
using namespace kiln::cache;
using kiln::cache::LayerBlob;
using kiln::cache::SnapshotStore;
using kiln::cache::Snapshotter;
using kiln::testutil::run;
using kiln::testutil::TempDir;

namespace {

const char* kBase = R"(
mkdir -p etc srv/a data/d dir2file
echo conf > etc/conf && echo old > etc/old
echo a > srv/a/x
echo d > data/d/f && echo g > data/g
echo f > file2dir
echo c > dir2file/c
echo keep > keep && chown 1000:1000 keep
)";

/// Changes that both snapshotters express the same way.
const char* kCommonChanges = R"(
echo added > added.txt
echo more >> etc/conf
rm etc/old
mv srv/a srv/b
echo h > h1 && ln h1 h2
ln -s /nonexistent dangling && ln -s etc/conf rel
echo s > suid && chmod 4755 suid && mkdir sticky && chmod 1777 sticky
mkdir emptydir
rm -rf dir2file && echo now-file > dir2file
chmod 600 keep
echo cap > caps
)";

/// Changes that overlayfs records as opaque directories.
const char* kOpaqueChanges = R"(
rm -rf data && mkdir data && echo fresh > data/fresh
rm file2dir && mkdir file2dir && echo in > file2dir/in
)";

/// A v2 security.capability granting cap_net_bind_service, effective.
const std::string kCapability(
    "\x01\x00\x00\x02\x00\x04\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"
    "\x00\x00\x00\x00",
    20);

void change(const std::string& root, bool opaque) {
  REQUIRE(testutil::sh_in(root, std::string(kCommonChanges) + (opaque ? kOpaqueChanges : "")) ==
          "");
  REQUIRE(testutil::set_xattr(root + "/added.txt", "user.note", "hi"));
  REQUIRE(testutil::set_xattr(root + "/caps", "security.capability", kCapability));
}

LayerBlob base_layer(const TempDir& tmp) {
  std::string dir = tmp / "base-src";
  REQUIRE(testutil::ok(fs::make_dirs(dir)) == "");
  REQUIRE(testutil::sh_in(dir, kBase) == "");
  std::string tar = tmp / "base.tar";
  REQUIRE(run({"tar", "--numeric-owner", "-C", dir, "-cf", tar, "."}).exit_code == 0);
  return LayerBlob{tar, digest_file(tar).get()};
}

/// The tree `base` + changes, made without any overlay.
std::string expected_tree(const TempDir& tmp, const LayerBlob& base, bool opaque) {
  std::string dir = tmp / (opaque ? "expected-opaque" : "expected");
  REQUIRE(testutil::ok(fs::make_dirs(dir)) == "");
  REQUIRE(run({"tar", "--numeric-owner", "-C", dir, "-xpf", base.path}).exit_code == 0);
  change(dir, opaque);
  return testutil::list_tree(dir);
}

/// Makes the changes through a mounted mutable snapshot over `base_id` and packs them.
PackedLayer pack_changes(const SnapshotStore& store, const Digest& base_id, const std::string& mnt,
                         const std::string& blob, bool opaque, Compression c) {
  auto snap = store.create_mutable(base_id);
  REQUIRE(testutil::ok(snap) == "");
  REQUIRE(testutil::ok(snap->mount(mnt)) == "");
  change(mnt, opaque);
  REQUIRE(testutil::ok(snap->unmount()) == "");
  auto diff = snap->diff_dir();
  REQUIRE(testutil::ok(diff) == "");
  PackOptions options;
  options.compression = c;
  options.source_date_epoch = 1000000000;
  auto packed = pack_layer_to_file(*diff, blob, options);
  REQUIRE(testutil::ok(packed) == "");
  return *packed;
}

/// Unpacks base + `layer` into a fresh store and lists the overlay mount of the top.
std::string round_trip(const TempDir& tmp, const std::string& name, const LayerBlob& base,
                       const LayerBlob& layer) {
  auto store = SnapshotStore::open(tmp / name, Snapshotter::overlay);
  REQUIRE(testutil::ok(store) == "");
  auto ids = store->unpack_chain({base, layer});
  REQUIRE(testutil::ok(ids) == "");
  std::string mnt = tmp / (name + "-mnt");
  REQUIRE(testutil::ok(fs::make_dirs(mnt)) == "");
  auto snap = store->create_mutable(ids->back());
  REQUIRE(testutil::ok(snap) == "");
  REQUIRE(testutil::ok(snap->mount(mnt)) == "");
  return testutil::list_tree(mnt);
}

std::string tar_names(const std::string& blob) { return run({"tar", "-tzf", blob}).out; }

/// Copies `file` into the OCI layout `layout` as a blob; returns its descriptor JSON.
std::string add_blob(const std::string& layout, const std::string& file,
                     const std::string& media_type) {
  Digest d = digest_file(file).get();
  std::string content = testutil::read_file(file);
  testutil::write_file(layout + "/blobs/sha256/" + d.hex(), content);
  return R"({"mediaType":")" + media_type + R"(","digest":")" + d.str() + R"(","size":)" +
         std::to_string(content.size()) + "}";
}

/// Writes an OCI layout with one image "t" made of `layers` (tar, then gzip tars).
void write_layout(const std::string& layout, const std::string& base_tar,
                  const std::string& layer_tgz, const std::vector<Digest>& diff_ids) {
  testutil::write_file(layout + "/oci-layout", R"({"imageLayoutVersion":"1.0.0"})");
  std::string layers =
      "[" + add_blob(layout, base_tar, "application/vnd.oci.image.layer.v1.tar") + "," +
      add_blob(layout, layer_tgz, "application/vnd.oci.image.layer.v1.tar+gzip") + "]";
  testutil::write_file(
      layout + "/config.json",
      R"({"architecture":"amd64","os":"linux","config":{},"rootfs":{"type":"layers","diff_ids":[")" +
          diff_ids[0].str() + R"(",")" + diff_ids[1].str() + R"("]}})");
  std::string config =
      add_blob(layout, layout + "/config.json", "application/vnd.oci.image.config.v1+json");
  testutil::write_file(
      layout + "/manifest.json",
      R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":)" +
          config + R"(,"layers":)" + layers + "}");
  std::string manifest =
      add_blob(layout, layout + "/manifest.json", "application/vnd.oci.image.manifest.v1+json");
  manifest.insert(manifest.size() - 1,
                  R"(,"annotations":{"org.opencontainers.image.ref.name":"t"})");
  testutil::write_file(layout + "/index.json",
                       R"({"schemaVersion":2,"manifests":[)" + manifest + "]}");
}

}  // namespace

TEST_CASE("overlay layer diff: every kind of change survives pack and unpack", "[exporter]") {
  TempDir tmp;
  LayerBlob base = base_layer(tmp);
  auto store = SnapshotStore::open(tmp / "root", Snapshotter::overlay);
  REQUIRE(testutil::ok(store) == "");
  auto base_ids = store->unpack_chain({base});
  REQUIRE(testutil::ok(base_ids) == "");
  std::string mnt = tmp / "mnt";
  REQUIRE(testutil::ok(fs::make_dirs(mnt)) == "");

  PackedLayer packed =
      pack_changes(*store, base_ids->back(), mnt, tmp / "layer.tgz", true, Compression::gzip);
  CHECK(tar_names(tmp / "layer.tgz") ==
        "added.txt\n"
        "caps\n"
        "dangling\n"
        "data/\n"
        "data/.wh..wh..opq\n"
        "data/fresh\n"
        "dir2file\n"
        "emptydir/\n"
        "etc/\n"
        "etc/.wh.old\n"
        "etc/conf\n"
        "file2dir/\n"
        "file2dir/.wh..wh..opq\n"
        "file2dir/in\n"
        "h1\n"
        "h2\n"
        "keep\n"
        "rel\n"
        "srv/\n"
        "srv/.wh.a\n"
        "srv/b/\n"
        "srv/b/x\n"
        "sticky/\n"
        "suid\n");
  auto sum =
      run({"sh", "-c",
           "gzip -t " + tmp / "layer.tgz" + " && gzip -dc " + tmp / "layer.tgz" + " | sha256sum"});
  CHECK(sum.out == packed.diff_id.hex() + "  -\n");

  std::string expected = expected_tree(tmp, base, true);
  CHECK(expected.find("caps mode=100644 uid=0 gid=0 size=4") != std::string::npos);
  CHECK(round_trip(tmp, "unpacked", base, {tmp / "layer.tgz", packed.diff_id}) == expected);
  CHECK_FALSE(testutil::mounted_under(tmp.path()));
}

TEST_CASE("the same changes in two snapshots give identical layers", "[exporter]") {
  TempDir tmp;
  LayerBlob base = base_layer(tmp);
  auto store = SnapshotStore::open(tmp / "root", Snapshotter::overlay);
  REQUIRE(testutil::ok(store) == "");
  auto base_ids = store->unpack_chain({base});
  REQUIRE(testutil::ok(base_ids) == "");
  std::string mnt = tmp / "mnt";
  REQUIRE(testutil::ok(fs::make_dirs(mnt)) == "");
  for (Compression c : {Compression::gzip, Compression::zstd}) {
    PackedLayer a = pack_changes(*store, base_ids->back(), mnt, tmp / "a", true, c);
    PackedLayer b = pack_changes(*store, base_ids->back(), mnt, tmp / "b", true, c);
    CHECK(a.digest == b.digest);
    CHECK(a.diff_id == b.diff_id);
    CHECK(a.size == b.size);
  }
  CHECK_FALSE(testutil::mounted_under(tmp.path()));
}

TEST_CASE("the native snapshotter gives the same layer as overlay", "[exporter]") {
  TempDir tmp;
  LayerBlob base = base_layer(tmp);
  std::vector<PackedLayer> packed;
  for (Snapshotter kind : {Snapshotter::overlay, Snapshotter::native}) {
    std::string name = kind == Snapshotter::overlay ? "overlay" : "native";
    auto store = SnapshotStore::open(tmp / name, kind);
    REQUIRE(testutil::ok(store) == "");
    auto base_ids = store->unpack_chain({base});
    REQUIRE(testutil::ok(base_ids) == "");
    std::string mnt = tmp / (name + "-mnt");
    REQUIRE(testutil::ok(fs::make_dirs(mnt)) == "");
    packed.push_back(pack_changes(*store, base_ids->back(), mnt, tmp / (name + ".tgz"), false,
                                  Compression::gzip));
  }
  CHECK(tar_names(tmp / "native.tgz") == tar_names(tmp / "overlay.tgz"));
  CHECK(packed[1].diff_id == packed[0].diff_id);
  CHECK(packed[1].digest == packed[0].digest);
  CHECK(round_trip(tmp, "unpacked", base, {tmp / "native.tgz", packed[1].diff_id}) ==
        expected_tree(tmp, base, false));
  CHECK_FALSE(testutil::mounted_under(tmp.path()));
}

TEST_CASE("umoci applies the overlay layer the same way", "[exporter]") {
  TempDir tmp;
  LayerBlob base = base_layer(tmp);
  auto store = SnapshotStore::open(tmp / "root", Snapshotter::overlay);
  REQUIRE(testutil::ok(store) == "");
  auto base_ids = store->unpack_chain({base});
  REQUIRE(testutil::ok(base_ids) == "");
  std::string mnt = tmp / "mnt";
  REQUIRE(testutil::ok(fs::make_dirs(mnt)) == "");
  PackedLayer packed =
      pack_changes(*store, base_ids->back(), mnt, tmp / "layer.tgz", true, Compression::gzip);
  write_layout(tmp / "layout", base.path, tmp / "layer.tgz", {base.diff_id, packed.diff_id});
  auto out = run({"umoci", "unpack", "--image", tmp / "layout:t", tmp / "bundle"});
  INFO(out.err);
  REQUIRE(out.exit_code == 0);
  CHECK(testutil::list_tree(tmp / "bundle/rootfs") == expected_tree(tmp, base, true));
}
