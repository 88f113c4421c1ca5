// `system df`'s rows, tables and JSON from a report built by hand, and the
// prunes' flags and filters, with no store and no runtime.
#include "containers/disk_usage_view.h"

#include <catch2/catch.hpp>

#include "support/error.h"

using kiln::containers::DiskUsageReport;

namespace {

DiskUsageReport sample_report() {
  DiskUsageReport report;
  report.rows = {{"Images", 2, 1, 2000000, 1000000},
                 {"Containers", 1, 0, 0, 0},
                 {"Local Volumes", 0, 0, 0, 0},
                 {"Build Cache", 3, 0, 4096, 4096}};
  kiln::cache::ImageUsage image;
  image.record.config = kiln::Digest::of("config");
  image.record.names = {"docker.io/library/app:1", "localhost:5000/app:2"};
  image.size = 2000000;
  image.shared_size = 500000;
  image.containers = 1;
  report.store.images.push_back(image);
  kiln::containers::ContainerDiskUsage container;
  container.spec.id = std::string(64, 'a');
  container.spec.name = "web";
  container.spec.image = "app:1";
  container.spec.process.args = {"/bin/sh", "-c", "while true; do sleep 1; done"};
  container.size = 1234;
  report.containers.push_back(container);
  report.build_cache = {{"old", "regular", 100, 10, 0, 1, false, false},
                        {"new", "exec.cachemount", 200, 20, 30, 2, true, true}};
  return report;
}

}  // namespace

TEST_CASE("system df rows are docker's, with the reclaimable share", "[containers][df]") {
  auto rows = kiln::containers::disk_usage_rows(sample_report());
  REQUIRE(rows.size() == 4);
  CHECK(
      rows[0].dump() ==
      R"json({"Active":"1","Reclaimable":"1MB (50%)","Size":"2MB","TotalCount":"2","Type":"Images"})json");
  CHECK(rows[1]["Reclaimable"] == "0B");
  CHECK(rows[3]["Reclaimable"] == "4.096kB");
}

TEST_CASE("system df -v tables: a row per name, cut commands, recent cache first",
          "[containers][df]") {
  auto tables = kiln::containers::disk_usage_tables(sample_report());
  REQUIRE(tables.images.size() == 2);
  CHECK(tables.images[0]["Repository"] == "app");
  CHECK(tables.images[1]["Repository"] == "localhost:5000/app");
  CHECK(tables.images[1]["Tag"] == "2");
  CHECK(tables.images[0]["UniqueSize"] == "1.5MB");
  CHECK(tables.images[0]["Containers"] == "1");
  REQUIRE(tables.containers.size() == 1);
  CHECK(tables.containers[0]["ID"] == std::string(12, 'a'));
  CHECK(tables.containers[0]["Command"] == "\"/bin/sh -c while tr…\"");
  CHECK(tables.containers[0]["Size"] == "1.234kB");
  CHECK(tables.build_cache_size == "4.096kB");
  REQUIRE(tables.build_cache.size() == 2);
  CHECK(tables.build_cache[0]["ID"] == "new");
  CHECK(tables.build_cache[0]["Shared"] == "true");
  CHECK(tables.build_cache[1]["LastUsedSince"] == "");

  auto json = kiln::containers::disk_usage_json(sample_report());
  CHECK(json["Images"].size() == 1);
  CHECK(json["Images"][0]["ID"] == kiln::Digest::of("config").str());
  CHECK(json["Containers"][0]["ID"] == std::string(64, 'a'));
  CHECK(json["BuildCache"][0]["ID"] == "old");
  CHECK(json["BuildCache"][1]["InUse"] == true);
  CHECK(json["Volumes"].empty());
}

TEST_CASE("prune filters parse as docker's", "[containers][prune]") {
  auto options = kiln::containers::image_prune_options(
      true, {"until=24h", "label=a=b", "label!=c", "label=d"});
  if (!options) {
    FAIL(kiln::error_message(options.takeError()));
  }
  CHECK(options->all);
  CHECK(options->until == 24 * 3600);
  REQUIRE(options->labels.size() == 3);
  CHECK(options->labels[0].key == "a");
  CHECK(options->labels[0].value == "b");
  CHECK(!options->labels[1].value);
  CHECK(options->labels[1].negate);
  auto bad = kiln::containers::image_prune_options(false, {"dangling=true"});
  REQUIRE(!bad);
  CHECK(kiln::error_message(bad.takeError()) ==
        "invalid filter 'dangling' (choose from until, label, label!)");

  auto until = kiln::containers::container_prune_until({"until=1h", "until=90s"});
  REQUIRE(static_cast<bool>(until));
  CHECK(*until == 90);
  auto none = kiln::containers::container_prune_until({});
  REQUIRE(static_cast<bool>(none));
  CHECK(!*none);
  auto wrong = kiln::containers::container_prune_until({"label=x"});
  REQUIRE(!wrong);
  CHECK(kiln::error_message(wrong.takeError()) == "invalid filter 'label' (choose from until)");
}

TEST_CASE("system df -v's text: four titled tables", "[containers][df]") {
  DiskUsageReport report;
  report.rows = {{"Images", 0, 0, 0, 0},
                 {"Containers", 0, 0, 0, 0},
                 {"Local Volumes", 1, 1, 1234, 0},
                 {"Build Cache", 0, 0, 0, 0}};
  report.volumes = {{"data", 1234, 2}};
  auto text = kiln::containers::disk_usage_verbose_text(report);
  REQUIRE(static_cast<bool>(text));
  CHECK(*text ==
        "Images space usage:\n\n"
        "REPOSITORY   TAG       IMAGE ID   CREATED   SIZE      SHARED SIZE   UNIQUE SIZE   "
        "CONTAINERS\n"
        "\nContainers space usage:\n\n"
        "CONTAINER ID   IMAGE     COMMAND   LOCAL VOLUMES   SIZE      CREATED   STATUS    NAMES\n"
        "\nLocal Volumes space usage:\n\n"
        "VOLUME NAME   LINKS     SIZE\n"
        "data          2         1.234kB\n"
        "\nBuild cache usage: 0B\n\n"
        "CACHE ID   CACHE TYPE   SIZE      CREATED   LAST USED   USAGE     SHARED\n");
  CHECK(kiln::containers::disk_usage_header().dump() ==
        R"({"Active":"ACTIVE","Reclaimable":"RECLAIMABLE","Size":"SIZE","TotalCount":"TOTAL",)"
        R"("Type":"TYPE"})");
  CHECK(std::string(kiln::containers::kDiskUsageTable) ==
        "table {{.Type}}\t{{.TotalCount}}\t{{.Active}}\t{{.Size}}\t{{.Reclaimable}}");
}
