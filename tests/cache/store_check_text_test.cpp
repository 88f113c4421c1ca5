// cache::check_report_text(): `kiln system check`'s lines and summary.
#include <catch2/catch.hpp>

#include "cache/store_check.h"

using kiln::cache::check_report_text;
using kiln::cache::CheckOptions;
using kiln::cache::CheckReport;

TEST_CASE("system check's report: problems, repairs and the summary", "[store_check]") {
  CheckReport report;
  report.blobs = 3;
  report.snapshots = 2;
  report.images = 1;
  report.cache_keys = 4;
  CHECK(check_report_text(report, {}) ==
        "checked 3 blobs, 2 snapshots, 1 images, 4 cache records: no problems\n");
  CHECK(check_report_text(report, CheckOptions{true, false}) ==
        "checked 3 blobs, 2 snapshots, 1 images, 4 cache records (deep): no problems\n");

  report.problems = {{"blob sha256:ab", "missing", false}, {"snapshot x", "orphaned", true}};
  CHECK(kiln::cache::problems_left(report) == 1);
  CHECK(check_report_text(report, {}) ==
        "blob sha256:ab: missing\n"
        "snapshot x: orphaned (repaired)\n"
        "checked 3 blobs, 2 snapshots, 1 images, 4 cache records: 1 problems (run with --repair "
        "to fix)\n");
  CHECK(check_report_text(report, CheckOptions{false, true}) ==
        "blob sha256:ab: missing\n"
        "snapshot x: orphaned (repaired)\n"
        "checked 3 blobs, 2 snapshots, 1 images, 4 cache records: 1 problems\n");
  report.problems[0].repaired = true;
  CHECK(check_report_text(report, {}).find(": 2 problems, all repaired\n") != std::string::npos);
}
