#include "support/temp_file.h"

#include <sys/stat.h>

#include <filesystem>
#include <iterator>

#include <catch2/catch.hpp>

#include "support/error.h"
#include "support/fs.h"
#include "tests/testutil/testutil.h"

using kiln::TempFile;

TEST_CASE("a temp file is removed unless renamed into place", "[temp_file]") {
  kiln::testutil::TempDir dir;
  std::string kept_path;
  {
    auto a = TempFile::create(dir.path(), "x-");
    REQUIRE(static_cast<bool>(a));
    kept_path = a->path();
    CHECK(llvm::StringRef(kept_path).startswith(dir.path() + "/x-"));
    REQUIRE(!a->write("hello"));
    auto b = TempFile::create(dir.path(), "x-");
    REQUIRE(static_cast<bool>(b));
    CHECK(b->path() != a->path());
    // A move leaves the source owning nothing: only the destination removes the file.
    TempFile moved = std::move(*b);
    CHECK(b->path().empty());
    CHECK(b->fd() == -1);
    CHECK(kiln::fs::exists(moved.path()));
    REQUIRE(!a->rename_to(dir.path() + "/final"));
    CHECK(a->path().empty());
    CHECK(a->fd() == -1);
  }
  CHECK(!kiln::fs::exists(kept_path));
  auto content = kiln::fs::read_file(dir.path() + "/final");
  REQUIRE(static_cast<bool>(content));
  CHECK(*content == "hello");
  // Only "final" is left: the moved-from and the moved-to temp files are gone.
  auto entries = std::filesystem::directory_iterator(dir.path());
  CHECK(std::distance(std::filesystem::begin(entries), std::filesystem::end(entries)) == 1);
}

TEST_CASE("a temp file that cannot be renamed is removed and the error names the target",
          "[temp_file]") {
  kiln::testutil::TempDir dir;
  auto a = TempFile::create(dir.path(), "y-");
  REQUIRE(static_cast<bool>(a));
  std::string path = a->path();
  auto err = a->rename_to(dir.path() + "/missing/dir/target");
  REQUIRE(static_cast<bool>(err));
  CHECK_THAT(kiln::error_message(std::move(err)), Catch::Contains("missing/dir/target"));
  CHECK(!kiln::fs::exists(path));
  auto none = TempFile::create(dir.path() + "/nope", "z-");
  REQUIRE(!none);
  CHECK_THAT(kiln::error_message(none.takeError()), Catch::Contains("nope/z-"));
}

TEST_CASE("a temp dir goes with its contents, once, after a move", "[temp_file]") {
  kiln::testutil::TempDir parent;
  std::string path;
  {
    auto dir = kiln::ScratchDir::create(parent.path(), "d-");
    REQUIRE(static_cast<bool>(dir));
    path = dir->path();
    REQUIRE(!::mkdir((path + "/sub").c_str(), 0755));
    kiln::ScratchDir moved = std::move(*dir);
    CHECK(dir->path().empty());
    CHECK(moved.path() == path);
    CHECK(kiln::fs::exists(path + "/sub"));
  }
  CHECK(!kiln::fs::exists(path));
}
