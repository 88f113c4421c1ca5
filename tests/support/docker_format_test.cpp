// docker's list output: tabwriter alignment and --format templates per row.

#include "support/docker_format.h"

#include <catch2/catch.hpp>

#include "support/error.h"

using kiln::support::format_rows;
using kiln::support::tabwrite;

TEST_CASE("tables are aligned like docker's tabwriter", "[docker_format]") {
  CHECK(tabwrite({{"REPOSITORY", "TAG", "SIZE"}, {"alpine", "3.20", "7.8MB"}, {"é", "x"}}) ==
        "REPOSITORY   TAG       SIZE\n"
        "alpine       3.20      7.8MB\n"
        "é            x\n");
  CHECK(tabwrite({}).empty());
}

TEST_CASE("format_rows runs the template per row, with a table header", "[docker_format]") {
  std::vector<nlohmann::ordered_json> rows = {{{"Name", "web"}, {"Port", 80}},
                                              {{"Name", "database"}, {"Port", 5432}}};
  nlohmann::ordered_json header = {{"Name", "NAME"}, {"Port", "PORT"}};
  auto plain = format_rows("{{.Name}}:{{.Port}}", rows, header);
  REQUIRE(bool(plain));
  CHECK(*plain == "web:80\ndatabase:5432\n");
  auto table = format_rows("table {{.Name}}\\t{{.Port}}", rows, header);
  REQUIRE(bool(table));
  CHECK(*table == "NAME       PORT\nweb        80\ndatabase   5432\n");
  auto bad = format_rows("{{.Name", rows, header);
  REQUIRE(!bad);
  CHECK(kiln::error_message(bad.takeError()).rfind("template parsing error: ", 0) == 0);
}
