// cache::store_root(): --root, KILN_ROOT and the defaults, in DESIGN.md's order.
#include "cache/store_root.h"

#include <unistd.h>

#include <cstdlib>
#include <string>

#include <catch2/catch.hpp>

TEST_CASE("the store root comes from the flag, then KILN_ROOT, made absolute", "[store_root]") {
  char cwd[4096];
  REQUIRE(::getcwd(cwd, sizeof(cwd)) != nullptr);
  ::setenv("KILN_ROOT", "env-root", 1);
  CHECK(kiln::cache::store_root("/abs/root") == "/abs/root");
  CHECK(kiln::cache::store_root("rel") == std::string(cwd) + "/rel");
  CHECK(kiln::cache::store_root("") == std::string(cwd) + "/env-root");
  ::setenv("KILN_ROOT", "", 1);
  ::setenv("XDG_DATA_HOME", "/xdg", 1);
  ::setenv("HOME", "/home/someone", 1);
  std::string fallback = kiln::cache::store_root("");
  if (::geteuid() == 0) {
    CHECK(fallback == "/var/lib/kiln");
  } else {
    CHECK(fallback == "/xdg/kiln");
    ::unsetenv("XDG_DATA_HOME");
    CHECK(kiln::cache::store_root("") == "/home/someone/.local/share/kiln");
  }
  ::unsetenv("KILN_ROOT");
}
