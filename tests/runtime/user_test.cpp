#include "runtime/user.h"

#include <catch2/catch.hpp>

#include "support/error.h"
#include "tests/runtime/busybox_rootfs.h"

using kiln::runtime::resolve_user;
using kiln::runtime::ResolvedUser;
using kiln::runtime::testing::kGroup;
using kiln::runtime::testing::kPasswd;

namespace {

ResolvedUser resolve_ok(llvm::StringRef user) {
  auto resolved = resolve_user(user, kPasswd, kGroup);
  REQUIRE(static_cast<bool>(resolved));
  return *resolved;
}

std::string resolve_error(llvm::StringRef user) {
  auto resolved = resolve_user(user, kPasswd, kGroup);
  REQUIRE(!resolved);
  return kiln::error_message(resolved.takeError());
}

}  // namespace

TEST_CASE("empty user is root with root's home", "[runtime][user]") {
  CHECK(resolve_ok("") == ResolvedUser{0, 0, {0}, "/root"});
  CHECK(resolve_ok("root") == ResolvedUser{0, 0, {0}, "/root"});
}

TEST_CASE("user name gets its primary and member groups", "[runtime][user]") {
  CHECK(resolve_ok("app") == ResolvedUser{1001, 1002, {1002, 1003}, "/home/app"});
  CHECK(resolve_ok("1001") == ResolvedUser{1001, 1002, {1002, 1003}, "/home/app"});
  CHECK(resolve_ok("nobody") == ResolvedUser{65534, 65534, {65534}, "/nonexistent"});
}

TEST_CASE("uid:gid needs no lookup but keeps the home", "[runtime][user]") {
  CHECK(resolve_ok("1001:1002") == ResolvedUser{1001, 1002, {1002}, "/home/app"});
  CHECK(resolve_ok("4242:4343") == ResolvedUser{4242, 4343, {4343}, "/"});
}

TEST_CASE("explicit group replaces the supplementary groups", "[runtime][user]") {
  CHECK(resolve_ok("app:extra") == ResolvedUser{1001, 1003, {1003}, "/home/app"});
  CHECK(resolve_ok("app:5000") == ResolvedUser{1001, 5000, {5000}, "/home/app"});
  CHECK(resolve_ok("4242:nogroup") == ResolvedUser{4242, 65534, {65534}, "/"});
}

TEST_CASE("unknown numeric uid runs with gid 0", "[runtime][user]") {
  CHECK(resolve_ok("4242") == ResolvedUser{4242, 0, {0}, "/"});
}

TEST_CASE("unknown names are errors", "[runtime][user]") {
  CHECK(resolve_error("ghost") == "unable to find user ghost: no matching entries in passwd file");
  CHECK(resolve_error("ghost:grp") ==
        "unable to find user ghost: no matching entries in passwd file");
  CHECK(resolve_error("app:ghosts") ==
        "unable to find group ghosts: no matching entries in group file");
}

TEST_CASE("blank lines and short records are skipped", "[runtime][user]") {
  auto resolved = resolve_user("app", "\n  \nbroken\napp:x:7:8::/h:/bin/sh\n", "g:x:9:app\n");
  REQUIRE(static_cast<bool>(resolved));
  CHECK(*resolved == ResolvedUser{7, 8, {8, 9}, "/h"});
}

TEST_CASE("no user is root with root's member groups, like USER 0", "[runtime][user]") {
  const char passwd[] = "root:x:0:0:root:/root:/bin/sh\n";
  const char group[] = "root:x:0:\nwheel:x:10:root\n";
  auto none = resolve_user("", passwd, group);
  REQUIRE(static_cast<bool>(none));
  CHECK(*none == ResolvedUser{0, 0, {0, 10}, "/root"});
  auto zero = resolve_user("0", passwd, group);
  REQUIRE(static_cast<bool>(zero));
  CHECK(*zero == ResolvedUser{0, 0, {0, 10}, "/root"});
  auto explicit_group = resolve_user("0:0", passwd, group);
  REQUIRE(static_cast<bool>(explicit_group));
  CHECK(*explicit_group == ResolvedUser{0, 0, {0}, "/root"});
}
