// cache::import_options(): `kiln import`'s name, comment and SOURCE_DATE_EPOCH.
#include <catch2/catch.hpp>

#include "cache/image_import.h"
#include "support/error.h"

using kiln::cache::import_options;

TEST_CASE("import's options: a tag name, a message, SOURCE_DATE_EPOCH", "[import]") {
  auto none = import_options("", "", "");
  REQUIRE(bool(none));
  CHECK(none->name.empty());
  CHECK(none->comment == "Imported from -");
  CHECK(none->created == -1);

  auto all = import_options("app:1", "from a tarball", "1700000000");
  REQUIRE(bool(all));
  CHECK(all->name == "docker.io/library/app:1");
  CHECK(all->comment == "from a tarball");
  CHECK(all->created == 1700000000);

  CHECK(kiln::error_message(
            import_options("app@sha256:" + std::string(64, 'a'), "", "").takeError()) ==
        "import: refusing to create a tag with a digest reference");
  CHECK(kiln::error_message(import_options("", "", "yesterday").takeError()) ==
        "invalid SOURCE_DATE_EPOCH 'yesterday'");
  CHECK(kiln::error_message(import_options("", "", "-5").takeError()) ==
        "invalid SOURCE_DATE_EPOCH '-5'");
  CHECK(!import_options("UPPER", "", ""));
}
