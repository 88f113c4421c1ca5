// `docker images` rows of a store built in a temp dir, and the archive functions
// on files (save_images, load_archive_file, import_rootfs_file).
#include "cache/image_list.h"

#include <catch2/catch.hpp>

#include "cache/image_archive.h"
#include "cache/image_import.h"
#include "cache/image_inspect.h"
#include "support/error.h"
#include "tests/testutil/testutil.h"

namespace {

using kiln::testutil::TempDir;

// A one-layer image imported from a small tar through import_rootfs_file(),
// named `name` (none when empty), created at 2024-01-02T03:04:05Z.
kiln::cache::ImageRecord import_image(kiln::cache::ImageStore& store, const TempDir& dir,
                                      const std::string& name) {
  std::string rootfs = dir / "rootfs";
  kiln::testutil::make_busybox_rootfs(rootfs);
  std::string tar = dir / "rootfs.tar";
  kiln::testutil::tar_directory(rootfs, tar);
  kiln::cache::ImportOptions options;
  options.name = name;
  options.created = 1704164645;
  auto record = kiln::cache::import_rootfs_file(store, tar, options);
  if (!record) {
    FAIL(kiln::error_message(record.takeError()));
  }
  return *record;
}

std::vector<nlohmann::ordered_json> rows_of(kiln::cache::ImageStore& store,
                                            const kiln::cache::ImageListOptions& options) {
  auto rows = kiln::cache::image_list_rows(store, options);
  if (!rows) {
    FAIL(kiln::error_message(rows.takeError()));
  }
  return *rows;
}

}  // namespace

TEST_CASE("image list rows name, size and date a stored image", "[cache][images]") {
  TempDir dir;
  auto store = kiln::cache::ImageStore::open(dir / "root");
  REQUIRE(static_cast<bool>(store));
  auto image = import_image(**store, dir, "docker.io/library/app:1");
  auto rows = rows_of(**store, {});
  REQUIRE(rows.size() == 1);
  CHECK(rows[0]["Repository"] == "app");
  CHECK(rows[0]["Tag"] == "1");
  CHECK(rows[0]["ID"] == image.config.short_hex());
  CHECK(rows[0]["Digest"] == image.manifest.str());
  CHECK(rows[0]["CreatedAt"] == "2024-01-02 03:04:05 +0000 UTC");
  CHECK(rows[0]["Containers"] == "N/A");
  CHECK(rows[0]["Size"] == rows[0]["VirtualSize"]);
  CHECK(rows[0]["Size"] != "0B");
  CHECK(rows_of(**store, {true, ""})[0]["ID"] == image.config.str());
  CHECK(rows_of(**store, {false, "app:1"}).size() == 1);
  CHECK(rows_of(**store, {false, "app"}).size() == 1);
  CHECK(rows_of(**store, {false, "docker.io/library/app"}).size() == 1);
  CHECK(rows_of(**store, {false, "app:2"}).empty());
  CHECK(rows_of(**store, {false, "other"}).empty());
  CHECK(rows_of(**store, {false, "Not A Name"}).empty());

  auto tree = kiln::cache::image_tree_rows(**store, {});
  REQUIRE(static_cast<bool>(tree));
  REQUIRE(tree->size() == 1);
  CHECK((*tree)[0]["Image"] == "app:1");
  CHECK((*tree)[0]["ID"] == image.config.short_hex());
}

TEST_CASE("a dangling image is one <none> row", "[cache][images]") {
  TempDir dir;
  auto store = kiln::cache::ImageStore::open(dir / "root");
  REQUIRE(static_cast<bool>(store));
  import_image(**store, dir, "");
  auto rows = rows_of(**store, {});
  REQUIRE(rows.size() == 1);
  CHECK(rows[0]["Repository"] == "<none>");
  CHECK(rows[0]["Tag"] == "<none>");
  CHECK(rows[0]["Digest"] == "<none>");
  auto tree = kiln::cache::image_tree_rows(**store, {});
  REQUIRE(static_cast<bool>(tree));
  REQUIRE(tree->size() == 1);
  CHECK((*tree)[0]["Image"] == "<untagged>");
}

TEST_CASE("the image filter is docker's REPOSITORY[:TAG]", "[cache][images]") {
  using kiln::cache::matches_image_filter;
  CHECK(matches_image_filter("alpine", "3", ""));
  CHECK(matches_image_filter("alpine", "3", "alpine"));
  CHECK(matches_image_filter("alpine", "3", "alpine:3"));
  CHECK_FALSE(matches_image_filter("alpine", "3", "alpine:4"));
  CHECK(matches_image_filter("localhost:5000/x", "1", "localhost:5000/x"));
  CHECK(matches_image_filter("localhost:5000/x", "1", "localhost:5000/x:1"));
  CHECK_FALSE(matches_image_filter("localhost:5000/x", "1", "localhost:5000/y"));
}

TEST_CASE("save_images writes a file that load_archive_file reads back", "[cache][images]") {
  TempDir dir;
  auto store = kiln::cache::ImageStore::open(dir / "root");
  REQUIRE(static_cast<bool>(store));
  import_image(**store, dir, "docker.io/library/app:1");
  std::string tar = dir / "app.tar";
  if (auto err =
          kiln::cache::save_images(**store, {"app:1"}, kiln::oci::ArchiveFormat::docker, tar)) {
    FAIL(kiln::error_message(std::move(err)));
  }
  auto other = kiln::cache::ImageStore::open(dir / "other");
  REQUIRE(static_cast<bool>(other));
  auto loaded = kiln::cache::load_archive_file(**other, tar);
  if (!loaded) {
    FAIL(kiln::error_message(loaded.takeError()));
  }
  REQUIRE(loaded->size() == 1);
  CHECK((*loaded)[0].names == std::vector<std::string>{"docker.io/library/app:1"});

  std::string missing = dir / "nowhere/app.tar";
  auto err =
      kiln::cache::save_images(**store, {"app:1"}, kiln::oci::ArchiveFormat::docker, missing);
  CHECK(kiln::error_message(std::move(err)).rfind("save: create '" + missing + "'", 0) == 0);
  auto not_there = kiln::cache::load_archive_file(**other, missing);
  REQUIRE(!not_there);
  CHECK(kiln::error_message(not_there.takeError()).rfind("load: open '" + missing + "'", 0) == 0);
}

TEST_CASE("the images and history tables and their column names", "[cache][images]") {
  CHECK(kiln::cache::image_list_table(false) ==
        "table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}");
  CHECK(kiln::cache::image_list_table(true) ==
        "table {{.Repository}}\t{{.Tag}}\t{{.Digest}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}");
  CHECK(kiln::cache::image_list_header().dump() ==
        R"({"Containers":"CONTAINERS","CreatedAt":"CREATED AT","CreatedSince":"CREATED",)"
        R"("Digest":"DIGEST","ID":"IMAGE ID","Repository":"REPOSITORY","SharedSize":)"
        R"("SHARED SIZE","Size":"SIZE","Tag":"TAG","UniqueSize":"UNIQUE SIZE",)"
        R"("VirtualSize":"VIRTUAL SIZE"})");
  CHECK(kiln::cache::image_tree_header().dump() ==
        R"({"Image":"IMAGE","ID":"ID","CreatedSince":"CREATED","Size":"SIZE"})");
  CHECK(std::string(kiln::cache::kImageHistoryTable) ==
        "table {{.ID}}\t{{.CreatedSince}}\t{{.CreatedBy}}\t{{.Size}}\t{{.Comment}}");
  CHECK(kiln::cache::image_history_header().dump() ==
        R"({"Comment":"COMMENT","CreatedAt":"CREATED AT","CreatedBy":"CREATED BY",)"
        R"("CreatedSince":"CREATED","ID":"IMAGE","Size":"SIZE"})");
}

TEST_CASE("a load's report names the images, renamed ones first", "[cache][images]") {
  kiln::cache::LoadedRecord named;
  named.names = {"docker.io/library/app:1", "localhost:5000/app:2"};
  named.replaced = {{"docker.io/library/app:1", kiln::Digest::of("old")}};
  kiln::cache::LoadedRecord unnamed;
  unnamed.image.config = kiln::Digest::of("config");
  std::vector<kiln::cache::LoadedRecord> loaded = {named, unnamed};
  CHECK(kiln::cache::load_report_lines(loaded, false) ==
        std::vector<std::string>{"The image app:1 already exists, renaming the old one with ID " +
                                     kiln::Digest::of("old").str() + " to empty string",
                                 "Loaded image: app:1", "Loaded image: localhost:5000/app:2",
                                 "Loaded image ID: " + kiln::Digest::of("config").str()});
  CHECK(kiln::cache::load_report_lines(loaded, true) ==
        std::vector<std::string>{"Loaded image: app:1", "Loaded image: localhost:5000/app:2",
                                 "Loaded image ID: " + kiln::Digest::of("config").str()});
}
