// The --platform values of a build: split, normalized, deduplicated, "local".

#include "builder/build_platforms.h"

#include <catch2/catch.hpp>

#include "support/error.h"

using kiln::builder::target_platforms;

TEST_CASE("the platform values of a build are split, normalized and deduplicated", "[platforms]") {
  auto got = target_platforms({"linux/amd64,linux/aarch64", "linux/arm64/v8", "linux/armhf"});
  REQUIRE(static_cast<bool>(got));
  CHECK(*got == std::vector<std::string>{"linux/amd64", "linux/arm64", "linux/arm/v7"});
#if defined(__x86_64__)
  auto local = target_platforms({"local, linux/arm64"});
  REQUIRE(static_cast<bool>(local));
  CHECK(*local == std::vector<std::string>{"linux/amd64", "linux/arm64"});
#endif
  auto none = target_platforms({});
  REQUIRE(static_cast<bool>(none));
  CHECK(none->empty());
  auto bad = target_platforms({"linux/amd64,arm64"});
  REQUIRE(!bad);
  CHECK(kiln::error_message(bad.takeError()) ==
        "--platform: invalid platform 'arm64': expected 'os/arch[/variant]'");
}
