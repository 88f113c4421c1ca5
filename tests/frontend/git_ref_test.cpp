// Git sources as BuildKit's dfgitutil.ParseGitRef reads them.
#include "frontend/git_ref.h"

#include <catch2/catch.hpp>

#include "support/error.h"

using kiln::frontend::GitRef;
using kiln::frontend::parse_git_ref;

namespace {

GitRef parsed(const std::string& source) {
  auto r = parse_git_ref(source);
  REQUIRE(static_cast<bool>(r));
  REQUIRE(r->has_value());
  return **r;
}

std::string failure(const std::string& source) {
  auto r = parse_git_ref(source);
  REQUIRE(!static_cast<bool>(r));
  return kiln::error_message(r.takeError());
}

}  // namespace

TEST_CASE("git sources: the forms BuildKit takes, and what is not one", "[frontend][git]") {
  GitRef a = parsed("https://github.com/foo/bar.git#baz/qux:quux/quuz");
  CHECK(a.remote == "https://github.com/foo/bar.git");
  CHECK(a.ref == "baz/qux");
  CHECK(a.subdir == "quux/quuz");
  GitRef scp = parsed("git@github.com:moby/buildkit.git#v0.13");
  CHECK(scp.remote == "git@github.com:moby/buildkit.git");
  CHECK(scp.ref == "v0.13");
  CHECK(parsed("git://host/repo#main").ref == "main");
  CHECK(parsed("ssh://git@host/repo.git").remote == "ssh://git@host/repo.git");
  for (const char* not_git : {"https://example.com/file.tar.gz", "https://example.com/", "src/",
                              "./repo.git", "file.txt"}) {
    auto r = parse_git_ref(not_git);
    REQUIRE(static_cast<bool>(r));
    CHECK(!r->has_value());
  }
}

TEST_CASE("git sources: the query form and its conflicts", "[frontend][git]") {
  GitRef q = parsed("https://h/r.git?tag=v1&subdir=sub&keep-git-dir&commit=abcd1234");
  CHECK(q.ref == "refs/tags/v1");
  CHECK(q.subdir == "sub");
  CHECK(q.keep_git_dir == true);
  CHECK(q.checksum == "abcd1234");
  CHECK(parsed("https://h/r.git?branch=main").ref == "refs/heads/main");
  CHECK(parsed("https://h/r.git?keep-git-dir=false").keep_git_dir == false);
  std::string whole(40, 'a');
  CHECK(parsed("https://h/r.git?commit=" + whole).ref == whole);  // a whole name is the ref
  CHECK(parsed("https://h/r.git?commit=abcd").ref.empty());       // a prefix checks HEAD
  CHECK(parsed("https://h/r.git?tag=v1#refs/tags/v1").ref == "refs/tags/v1");
  CHECK(failure("https://h/r.git?tag=v1#refs/heads/main") ==
        "ref conflicts: \"refs/heads/main\" vs \"refs/tags/v1\"");
  CHECK(failure("https://h/r.git?tag=v1&branch=main") == "branch conflicts with tag");
  CHECK(failure("https://h/r.git?foo=1") == "unexpected query \"foo\"");
  CHECK(failure("https://h/r.git?ref=") == "query \"ref\" has no value");
  CHECK(failure("https://h/r.git?keep-git-dir=maybe") == "invalid keep-git-dir value: \"maybe\"");
}

TEST_CASE("git sources: nothing that reaches git reads as an option", "[frontend][git][hostile]") {
  CHECK(failure("https://h/r.git#--upload-pack=evil").find("may not start an option") !=
        std::string::npos);
  CHECK(failure("https://h/r.git?ref=-x").find("may not start an option") != std::string::npos);
  CHECK(failure("-oProxyCommand=evil@host:repo.git").find("may not start an option") !=
        std::string::npos);
}
