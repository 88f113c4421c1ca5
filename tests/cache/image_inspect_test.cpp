// `docker image inspect` and `docker history` of a stored image, without the CLI.
#include "cache/image_inspect.h"

#include <fcntl.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include "cache/image_import.h"
#include "support/error.h"
#include "tests/testutil/testutil.h"

namespace {

using kiln::testutil::TempDir;

// A one-layer image imported from a small tar, named `app:1`, created at a
// fixed time.
kiln::cache::ImageRecord import_app(kiln::cache::ImageStore& store, const TempDir& dir) {
  std::string rootfs = dir / "rootfs";
  kiln::testutil::make_busybox_rootfs(rootfs);
  std::string tar = dir / "rootfs.tar";
  kiln::testutil::tar_directory(rootfs, tar);
  int fd = ::open(tar.c_str(), O_RDONLY | O_CLOEXEC);
  REQUIRE(fd >= 0);
  kiln::cache::ImportOptions options;
  options.name = "docker.io/library/app:1";
  options.comment = "from a test";
  options.created = 1704164645;
  auto record = kiln::cache::import_rootfs(store, fd, options);
  ::close(fd);
  if (!record) {
    FAIL(kiln::error_message(record.takeError()));
  }
  return *record;
}

}  // namespace

TEST_CASE("image inspect shows docker's fields for a stored image", "[cache][inspect]") {
  TempDir dir;
  auto store = kiln::cache::ImageStore::open(dir / "root");
  REQUIRE(static_cast<bool>(store));
  auto image = import_app(**store, dir);
  image.size = 1234;
  auto json = kiln::cache::inspect_image(**store, image, "");
  if (!json) {
    FAIL(kiln::error_message(json.takeError()));
  }
  CHECK((*json)["Id"] == image.config.str());
  CHECK((*json)["RepoTags"] == nlohmann::ordered_json::array({"app:1"}));
  CHECK((*json)["RepoDigests"] == nlohmann::ordered_json::array({"app@" + image.manifest.str()}));
  CHECK((*json)["Created"] == "2024-01-02T03:04:05Z");
  CHECK((*json)["Size"] == 1234);
  CHECK((*json)["RootFS"]["Layers"].size() == 1);
  CHECK(!json->contains("Manifests"));
  auto bad = kiln::cache::inspect_image(**store, image, "linux/nonsense/x/y");
  CHECK(!bad);
  llvm::consumeError(bad.takeError());
}

TEST_CASE("history lists the config's entries with their layers' sizes", "[cache][inspect]") {
  TempDir dir;
  auto store = kiln::cache::ImageStore::open(dir / "root");
  REQUIRE(static_cast<bool>(store));
  auto image = import_app(**store, dir);
  auto history = kiln::cache::image_history(**store, image, "");
  if (!history) {
    FAIL(kiln::error_message(history.takeError()));
  }
  CHECK(history->config == image.config);
  REQUIRE(history->rows.size() == 1);
  CHECK(history->rows[0].entry.comment == "from a test");
  CHECK(history->rows[0].entry.created == "2024-01-02T03:04:05Z");
  CHECK(history->rows[0].size > 0);
}

TEST_CASE("history rows are docker's, newest first", "[cache][inspect]") {
  kiln::cache::ImageHistory history;
  history.config = kiln::Digest::of("config");
  kiln::oci::HistoryEntry base;
  base.created = "2024-01-02T03:04:05Z";
  base.created_by = "/bin/sh -c #(nop) ADD file:abc in /";
  kiln::oci::HistoryEntry run;
  run.created_by = "RUN /bin/sh -c\tapk add --no-cache curl ca-certificates git openssh";
  run.comment = "buildkit.dockerfile.v0";
  history.rows = {{base, 1500000}, {run, 0}};

  auto rows = kiln::cache::image_history_rows(history, {});
  REQUIRE(rows.size() == 2);
  CHECK(rows[0]["ID"] == history.config.short_hex());
  CHECK(rows[1]["ID"] == "<missing>");
  CHECK(rows[0]["CreatedBy"] == "RUN /bin/sh -c apk add --no-cache curl ca-ce…");
  CHECK(rows[0]["CreatedSince"] == "N/A");
  CHECK(rows[0]["Comment"] == "buildkit.dockerfile.v0");
  CHECK(rows[0]["Size"] == "0B");
  CHECK(rows[1]["Size"] == "1.5MB");
  CHECK(rows[1]["CreatedAt"] == "2024-01-02T03:04:05Z");
  CHECK(llvm::StringRef(rows[1]["CreatedSince"].get<std::string>()).endswith(" ago"));

  auto raw = kiln::cache::image_history_rows(history, {true, false});
  CHECK(raw[0]["ID"] == history.config.str());
  CHECK(raw[0]["CreatedBy"] ==
        "RUN /bin/sh -c apk add --no-cache curl ca-certificates git openssh");
  CHECK(raw[1]["CreatedSince"] == "2024-01-02T03:04:05Z");
  CHECK(raw[1]["Size"] == "1500000");
}
