// Context paths resolve inside the context root, as BuildKit resolves them:
// a host file reachable through a link in the context is never reached.
#include "cache/context_path.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>

#include <catch2/catch.hpp>

#include "cache/context_hash.h"
#include "support/error.h"
#include "support/fs.h"
#include "tests/testutil/testutil.h"

using namespace kiln;
using namespace kiln::cache;

namespace {

/// ctx/ (the context) and host/secret.txt beside it (the host file a hostile
/// context tries to reach).
struct Dirs {
  testutil::TempDir dir{"kiln-ctxpath-test-"};
  std::string ctx = dir / "ctx";
  std::string host = dir / "host";
  Dirs() {
    testutil::write_file(host + "/secret.txt", "HOST\n");
    testutil::write_file(ctx + "/etc/secret.txt", "CONTEXT\n");
    link(host, "abs");                         // absolute, out of the context
    link("../../../../../../../../..", "up");  // climbs above the root
    link("/etc", "etcdir");                    // absolute: CONTEXT/etc
    link("etc/secret.txt", "file");            // a file link
    link("loop", "loop");
  }
  void link(const std::string& target, const std::string& name) const {
    REQUIRE(::symlink(target.c_str(), (ctx + "/" + name).c_str()) == 0);
  }
  std::string resolve(const std::string& path, FollowLast follow) const {
    auto r = resolve_context_path(ctx, path, follow);
    if (!r) {
      return "error: " + error_message(r.takeError());
    }
    return *r;
  }
};

std::string read_fd(int fd) {
  std::string out;
  char buf[256];
  ssize_t n;
  while ((n = ::read(fd, buf, sizeof(buf))) > 0) {
    out.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  return out;
}

}  // namespace

TEST_CASE("context paths resolve their symlinks inside the context root", "[context]") {
  Dirs d;
  CHECK(d.resolve("etcdir/secret.txt", FollowLast::no) == "etc/secret.txt");
  CHECK(d.resolve("/etcdir/../etcdir/secret.txt", FollowLast::no) == "etc/secret.txt");
  CHECK(d.resolve("abs/secret.txt", FollowLast::no) == d.host.substr(1) + "/secret.txt");
  CHECK(d.resolve("up" + d.host + "/secret.txt", FollowLast::no) ==
        d.host.substr(1) + "/secret.txt");
  CHECK(d.resolve("up/etc/secret.txt", FollowLast::no) == "etc/secret.txt");
  // The last component is a link: kept, or followed inside the root.
  CHECK(d.resolve("etcdir", FollowLast::no) == "etcdir");
  CHECK(d.resolve("etcdir", FollowLast::yes) == "etc");
  CHECK(d.resolve("file", FollowLast::yes) == "etc/secret.txt");
  CHECK(d.resolve("up", FollowLast::yes) == "");
  CHECK(d.resolve("missing/x", FollowLast::yes) == "missing/x");
  CHECK(d.resolve("loop/x", FollowLast::no) ==
        "error: resolve 'loop/x' in the context: too many symlinks");
  auto host = context_host_path(d.ctx, "abs/secret.txt", FollowLast::yes);
  REQUIRE(static_cast<bool>(host));
  CHECK(*host == d.ctx + d.host + "/secret.txt");
}

TEST_CASE("open_in_root never opens a file outside the root", "[context]") {
  Dirs d;
  int fd = open_in_root(d.ctx, d.ctx + "/etcdir/secret.txt", O_RDONLY);
  REQUIRE(fd >= 0);
  CHECK(read_fd(fd) == "CONTEXT\n");
  CHECK(open_in_root(d.ctx, "abs/secret.txt", O_RDONLY) == -1);
  CHECK(errno == ENOENT);
  CHECK(open_in_root(d.ctx, "up" + d.host + "/secret.txt", O_RDONLY) == -1);
  CHECK(open_in_root(d.ctx, d.ctx + "/file", O_RDONLY | O_NOFOLLOW) == -1);
  CHECK(errno == ELOOP);
}

TEST_CASE("context checksums do not follow links out of the context", "[context]") {
  Dirs d;
  ContextHasher hasher(d.ctx, {});
  std::vector<std::pair<std::string, std::string>> cases = {
      {"abs/secret.txt", "failed to compute cache key: 'abs/secret.txt' not found"},
      {"abs/*.txt", "failed to compute cache key: no files match 'abs/*.txt'"},
      {"up" + d.host + "/secret.txt",
       "failed to compute cache key: 'up" + d.host + "/secret.txt' not found"}};
  for (const auto& [path, message] : cases) {
    auto sum = hasher.checksum({path});
    REQUIRE(!sum);
    CHECK(error_message(sum.takeError()) == message);
  }
  // Through a link that stays inside, the entry is the one it resolves to.
  auto via_link = hasher.entries({"etcdir/secret.txt"});
  auto direct = hasher.checksum_path("etc/secret.txt");
  REQUIRE(static_cast<bool>(via_link));
  REQUIRE(static_cast<bool>(direct));
  REQUIRE(via_link->size() == 1);
  CHECK((*via_link)[0].checksum == *direct);
  auto matches = hasher.resolve("etcdir/*.txt");
  REQUIRE(static_cast<bool>(matches));
  CHECK(*matches == std::vector<std::string>{"etcdir/secret.txt"});
}
