#include "support/atomic_file.h"

#include <dirent.h>

#include <catch2/catch.hpp>

#include "support/error.h"
#include "support/fs.h"

namespace {
int count_entries(const std::string& dir) {
  int n = 0;
  DIR* d = opendir(dir.c_str());
  while (auto* e = readdir(d)) {
    if (std::string(e->d_name) != "." && std::string(e->d_name) != "..") {
      ++n;
    }
  }
  closedir(d);
  return n;
}
}  // namespace

TEST_CASE("atomic file appears only on commit", "[atomic_file]") {
  auto dir = kiln::fs::make_temp_dir("/tmp", "kiln-test-");
  REQUIRE(static_cast<bool>(dir));
  std::string path = *dir + "/f";
  {
    auto f = kiln::AtomicFile::create(path);
    REQUIRE(static_cast<bool>(f));
    REQUIRE(!f->write("hello"));
    CHECK(!kiln::fs::exists(path));
  }
  CHECK(count_entries(*dir) == 0);  // destructor removed the temp file
  {
    auto f = kiln::AtomicFile::create(path);
    REQUIRE(static_cast<bool>(f));
    REQUIRE(!f->write("hello"));
    REQUIRE(!f->commit());
  }
  auto text = kiln::fs::read_file(path);
  REQUIRE(static_cast<bool>(text));
  CHECK(*text == "hello");
  CHECK(count_entries(*dir) == 1);
  REQUIRE(!kiln::fs::remove_all(*dir));
  CHECK(!kiln::fs::exists(*dir));
}
