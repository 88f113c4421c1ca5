#include "support/units.h"

#include <climits>
#include <ctime>

#include <catch2/catch.hpp>

TEST_CASE("sizes read as go-units writes them", "[units]") {
  CHECK(kiln::human_size(0) == "0B");
  CHECK(kiln::human_size(512) == "512B");
  CHECK(kiln::human_size(4264000) == "4.26MB");
  CHECK(kiln::human_size(1100000000) == "1.1GB");
  CHECK(kiln::human_size(16434000, 4) == "16.43MB");
  CHECK(kiln::human_size(999999, 4) == "1000kB");
  CHECK(kiln::bytes_size(0) == "0B");
  CHECK(kiln::bytes_size(1536 * 1024) == "1.5MiB");
  CHECK(kiln::bytes_size(8346034995) == "7.773GiB");
}

TEST_CASE("durations read as go-units writes them", "[units]") {
  CHECK(kiln::human_duration(0) == "Less than a second");
  CHECK(kiln::human_duration(1) == "1 second");
  CHECK(kiln::human_duration(59) == "59 seconds");
  CHECK(kiln::human_duration(60) == "About a minute");
  CHECK(kiln::human_duration(5 * 60) == "5 minutes");
  CHECK(kiln::human_duration(3600) == "About an hour");
  CHECK(kiln::human_duration(5 * 3600) == "5 hours");
  CHECK(kiln::human_duration(3 * 86400) == "3 days");
  CHECK(kiln::human_duration(15 * 86400) == "2 weeks");
  CHECK(kiln::human_duration(120 * 86400) == "4 months");
  CHECK(kiln::human_duration(800 * 86400) == "2 years");
}

TEST_CASE("times read as Go writes them", "[units]") {
  CHECK(kiln::go_time_string(1704164645) == "2024-01-02 03:04:05 +0000 UTC");
  CHECK(kiln::go_time_string(INT64_MIN) == "0001-01-01 00:00:00 +0000 UTC");
  int64_t ns = 1704164645LL * 1000000000 + 123456789;
  CHECK(kiln::rfc3339_utc(ns, 0) == "2024-01-02T03:04:05Z");
  CHECK(kiln::rfc3339_utc(ns, 9) == "2024-01-02T03:04:05.123456789Z");
  CHECK(kiln::rfc3339_utc(1704164645LL * 1000000000, 9) == "2024-01-02T03:04:05.000000000Z");
  CHECK(kiln::rfc3339_utc(ns, 3) == "2024-01-02T03:04:05.123Z");
}

TEST_CASE("ages read as docker's CreatedSince", "[units]") {
  CHECK(kiln::human_since(INT64_MIN) == "N/A");
  int64_t now = static_cast<int64_t>(::time(nullptr));
  CHECK(kiln::human_since(now - 3 * 24 * 3600) == "3 days ago");
  CHECK(kiln::human_since(now + 10) == "Less than a second ago");
}
