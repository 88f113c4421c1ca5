#include "cache/image_store.h"

#include <catch2/catch.hpp>

#include "oci/image_config.h"
#include "oci/media_types.h"
#include "oci/types.h"
#include "support/error.h"
#include "tests/testutil/testutil.h"

using kiln::Digest;
using kiln::cache::Force;
using kiln::cache::ImageStore;

namespace {

std::unique_ptr<ImageStore> open_store(const std::string& root) {
  auto store = ImageStore::open(root);
  REQUIRE(static_cast<bool>(store));
  return std::move(*store);
}

struct TestImage {
  Digest manifest;
  Digest config;
  Digest layer;
};

// Stores a one-layer image whose layer bytes are `layer` and config says `created`.
TestImage put_image(ImageStore& store, const std::string& layer, const std::string& created) {
  auto layer_digest = store.content().put(layer);
  REQUIRE(static_cast<bool>(layer_digest));
  kiln::oci::ImageConfig config;
  config.created = created;
  config.architecture = "amd64";
  config.os = "linux";
  config.diff_ids.push_back(*layer_digest);
  std::string config_bytes = kiln::oci::to_json(config);
  REQUIRE(static_cast<bool>(store.content().put(config_bytes)));
  kiln::oci::Manifest manifest;
  manifest.media_type = kiln::oci::media_type::kOciManifest.str();
  manifest.config = kiln::oci::describe(kiln::oci::media_type::kOciConfig, config_bytes);
  manifest.layers.push_back(kiln::oci::describe(kiln::oci::media_type::kOciLayer, layer));
  auto manifest_digest = store.content().put(kiln::oci::to_json(manifest));
  REQUIRE(static_cast<bool>(manifest_digest));
  return {*manifest_digest, Digest::of(config_bytes), *layer_digest};
}

std::vector<std::string> names_of(ImageStore& store, const std::string& text) {
  auto image = store.resolve(text);
  REQUIRE(static_cast<bool>(image));
  return image->names;
}

std::string resolve_error(ImageStore& store, const std::string& text) {
  auto image = store.resolve(text);
  REQUIRE(!image);
  return kiln::error_message(image.takeError());
}

}  // namespace

TEST_CASE("kiln.db is created in WAL mode at the latest schema version", "[image_store]") {
  kiln::testutil::TempDir dir;
  auto store = open_store(dir.path());
  auto version = store->db().schema_version();
  REQUIRE(static_cast<bool>(version));
  CHECK(*version == kiln::cache::store_migrations().back().version);
  auto mode = store->db().prepare("PRAGMA journal_mode");
  REQUIRE(static_cast<bool>(mode));
  auto row = mode->step();
  REQUIRE(static_cast<bool>(row));
  CHECK(mode->text(0) == "wal");
  auto check = store->db().integrity_check();
  REQUIRE(static_cast<bool>(check));
  CHECK(*check == "ok");
  CHECK(kiln::testutil::run({"ls", dir.path()}).out ==
        "blobs\nkiln.db\nkiln.db-shm\nkiln.db-wal\nstore.lock\ntmp\n");
}

TEST_CASE("migrations run once, in order, and a newer schema is refused", "[image_store]") {
  kiln::testutil::TempDir dir;
  std::string path = dir / "test.db";
  const kiln::cache::Migration first[] = {{1, "CREATE TABLE a (x INTEGER);"}};
  const kiln::cache::Migration both[] = {{1, "CREATE TABLE a (x INTEGER);"},
                                         {2, "CREATE TABLE b (y TEXT); INSERT INTO a VALUES (7);"}};
  {
    auto db = kiln::cache::StoreDb::open(path, first);
    REQUIRE(static_cast<bool>(db));
  }
  {
    auto db = kiln::cache::StoreDb::open(path, both);
    REQUIRE(static_cast<bool>(db));
    auto version = (*db)->schema_version();
    REQUIRE(static_cast<bool>(version));
    CHECK(*version == 2);
  }
  auto db = kiln::cache::StoreDb::open(path, both);  // no step runs twice
  REQUIRE(static_cast<bool>(db));
  auto count = (*db)->prepare("SELECT count(*) FROM a");
  REQUIRE(static_cast<bool>(count));
  REQUIRE(static_cast<bool>(count->step()));
  CHECK(count->integer(0) == 1);
  auto old = kiln::cache::StoreDb::open(path, first);
  REQUIRE(!old);
  CHECK(kiln::error_message(old.takeError()) ==
        "open database '" + path + "': schema version 2 is newer than this kiln knows (1)");
  const kiln::cache::Migration broken[] = {{1, "CREATE TABLE a (x INTEGER);"},
                                           {2, "CREATE TABLE b (y TEXT);"},
                                           {3, "CREATE TABLE a (z INTEGER);"}};
  auto failed = kiln::cache::StoreDb::open(path, broken);
  REQUIRE(!failed);
  CHECK(kiln::error_message(failed.takeError()) ==
        "open database '" + path + "': schema migration 3: database: table a already exists");
}

TEST_CASE("images resolve by name, ID, ID prefix and digest", "[image_store]") {
  kiln::testutil::TempDir dir;
  auto store = open_store(dir.path());
  TestImage image = put_image(*store, "layer one", "2024-01-02T03:04:05Z");
  auto added = store->add(image.manifest, {"docker.io/library/alpine:3.20"});
  REQUIRE(static_cast<bool>(added));
  CHECK(added->config == image.config);
  CHECK(added->created == 1704164645);
  CHECK(added->names == std::vector<std::string>{"docker.io/library/alpine:3.20"});
  for (std::string text :
       {std::string("alpine:3.20"), std::string("docker.io/library/alpine:3.20"),
        image.config.str(), image.config.hex(), image.config.short_hex(),
        image.config.hex().substr(0, 4), image.manifest.str(), "alpine@" + image.manifest.str()}) {
    INFO(text);
    auto found = store->resolve(text);
    REQUIRE(static_cast<bool>(found));
    CHECK(found->manifest == image.manifest);
  }
  CHECK(resolve_error(*store, "alpine") == "no such image: 'alpine'");
  CHECK(resolve_error(*store, "Alpine") == "no such image: 'Alpine'");
  CHECK(resolve_error(*store, "sha256:abc") == "no such image: 'sha256:abc'");
}

TEST_CASE("an ambiguous ID prefix is an error", "[image_store]") {
  kiln::testutil::TempDir dir;
  auto store = open_store(dir.path());
  // Find two configs whose IDs share the first hex digit.
  std::map<char, TestImage> by_first;
  std::string prefix;
  for (int i = 0; prefix.empty(); ++i) {
    TestImage image = put_image(
        *store, "layer",
        "2024-01-0" + std::to_string(1 + i % 9) + "T00:00:0" + std::to_string(i / 9) + "Z");
    REQUIRE(static_cast<bool>(store->add(image.manifest, {})));
    char first = image.config.hex()[0];
    if (by_first.count(first)) {
      prefix = std::string(1, first);
    }
    by_first.emplace(first, image);
  }
  CHECK(resolve_error(*store, prefix) ==
        "multiple IDs found with provided prefix: '" + prefix + "'");
}

TEST_CASE("tag moves a name, the old image stays, dangling", "[image_store]") {
  kiln::testutil::TempDir dir;
  auto store = open_store(dir.path());
  TestImage one = put_image(*store, "one", "2024-01-01T00:00:00Z");
  TestImage two = put_image(*store, "two", "2024-02-01T00:00:00Z");
  REQUIRE(static_cast<bool>(store->add(one.manifest, {"docker.io/library/app:1"})));
  REQUIRE(static_cast<bool>(store->add(two.manifest, {})));
  REQUIRE(!store->tag(one.manifest, "docker.io/library/app:latest"));
  CHECK(names_of(*store, "app:1") ==
        std::vector<std::string>{"docker.io/library/app:1", "docker.io/library/app:latest"});
  REQUIRE(!store->tag(two.manifest, "docker.io/library/app:1"));
  CHECK(names_of(*store, two.config.str()) == std::vector<std::string>{"docker.io/library/app:1"});
  auto list = store->list();
  REQUIRE(static_cast<bool>(list));
  REQUIRE(list->size() == 2);
  CHECK(list->at(0).manifest == two.manifest);  // newest first
  CHECK(list->at(1).names == std::vector<std::string>{"docker.io/library/app:latest"});
  Digest missing = Digest::of("nothing");
  auto err = store->tag(missing, "docker.io/library/x:1");
  CHECK(kiln::error_message(std::move(err)) == "no such image: '" + missing.str() + "'");
}

TEST_CASE("add fails when a layer blob is missing", "[image_store]") {
  kiln::testutil::TempDir dir;
  auto store = open_store(dir.path());
  TestImage image = put_image(*store, "gone", "2024-01-01T00:00:00Z");
  REQUIRE(!store->content().remove(image.layer));
  auto added = store->add(image.manifest, {"docker.io/library/x:1"});
  REQUIRE(!added);
  CHECK(kiln::error_message(added.takeError()) == "blob '" + image.layer.str() + "' not found");
  auto list = store->list();
  REQUIRE(static_cast<bool>(list));
  CHECK(list->empty());
}

TEST_CASE("rmi by name untags, the last name deletes the image and its own blobs",
          "[image_store]") {
  kiln::testutil::TempDir dir;
  auto store = open_store(dir.path());
  TestImage one = put_image(*store, "shared", "2024-01-01T00:00:00Z");
  TestImage two = put_image(*store, "shared", "2024-01-02T00:00:00Z");
  REQUIRE(one.layer == two.layer);
  REQUIRE(static_cast<bool>(
      store->add(one.manifest, {"docker.io/library/a:1", "docker.io/library/a:2"})));
  REQUIRE(static_cast<bool>(store->add(two.manifest, {"docker.io/library/b:1"})));
  auto removed = store->remove("a:1", Force::no);
  REQUIRE(static_cast<bool>(removed));
  CHECK(removed->untagged == std::vector<std::string>{"docker.io/library/a:1"});
  CHECK(removed->deleted.empty());
  removed = store->remove("a:2", Force::no);
  REQUIRE(static_cast<bool>(removed));
  CHECK(removed->untagged == std::vector<std::string>{"docker.io/library/a:2"});
  CHECK(removed->deleted == std::vector<Digest>{one.config});
  CHECK(!store->content().exists(one.manifest));
  CHECK(!store->content().exists(one.config));
  CHECK(store->content().exists(one.layer));  // b:1 still holds it
  removed = store->remove("b:1", Force::no);
  REQUIRE(static_cast<bool>(removed));
  CHECK(!store->content().exists(one.layer));
  auto blobs = store->content().list();
  REQUIRE(static_cast<bool>(blobs));
  CHECK(blobs->empty());
  auto missing = store->remove("b:1", Force::no);
  REQUIRE(!missing);
  CHECK(kiln::error_message(missing.takeError()) == "no such image: 'b:1'");
}

TEST_CASE("rmi by ID refuses names in several repositories unless forced", "[image_store]") {
  kiln::testutil::TempDir dir;
  auto store = open_store(dir.path());
  TestImage image = put_image(*store, "layer", "2024-01-01T00:00:00Z");
  REQUIRE(static_cast<bool>(
      store->add(image.manifest, {"docker.io/library/a:1", "docker.io/library/b:1"})));
  auto refused = store->remove(image.config.short_hex(), Force::no);
  REQUIRE(!refused);
  CHECK(kiln::error_message(refused.takeError()) ==
        "conflict: unable to delete '" + image.config.short_hex() +
            "' (must be forced) - image is referenced in multiple repositories");
  CHECK(names_of(*store, "a:1").size() == 2);
  auto removed = store->remove(image.config.short_hex(), Force::yes);
  REQUIRE(static_cast<bool>(removed));
  CHECK(removed->untagged ==
        std::vector<std::string>{"docker.io/library/a:1", "docker.io/library/b:1"});
  CHECK(removed->deleted == std::vector<Digest>{image.config});
  auto blobs = store->content().list();
  REQUIRE(static_cast<bool>(blobs));
  CHECK(blobs->empty());
}

TEST_CASE("rmi by ID with tags of one repository deletes without force", "[image_store]") {
  kiln::testutil::TempDir dir;
  auto store = open_store(dir.path());
  TestImage image = put_image(*store, "layer", "2024-01-01T00:00:00Z");
  REQUIRE(static_cast<bool>(
      store->add(image.manifest, {"docker.io/library/a:1", "docker.io/library/a:2"})));
  auto removed = store->remove(image.config.str(), Force::no);
  REQUIRE(static_cast<bool>(removed));
  CHECK(removed->untagged ==
        std::vector<std::string>{"docker.io/library/a:1", "docker.io/library/a:2"});
  CHECK(removed->deleted == std::vector<Digest>{image.config});
}

TEST_CASE("parse_rfc3339 reads docker's time formats", "[image_store]") {
  auto seconds = [](const char* text) {
    auto value = kiln::cache::parse_rfc3339(text);
    REQUIRE(static_cast<bool>(value));
    return *value;
  };
  CHECK(seconds("1970-01-01T00:00:00Z") == 0);
  CHECK(seconds("2024-01-02T03:04:05Z") == 1704164645);
  CHECK(seconds("2024-01-02T03:04:05.123456789Z") == 1704164645);
  CHECK(seconds("2024-01-02T04:04:05+01:00") == 1704164645);
  CHECK(seconds("2024-01-02T02:34:05-00:30") == 1704164645);
  auto bad = kiln::cache::parse_rfc3339("2024-01-02 03:04:05");
  REQUIRE(!bad);
  CHECK(kiln::error_message(bad.takeError()) == "invalid time '2024-01-02 03:04:05'");
}
