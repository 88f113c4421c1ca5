#include "support/file_lock.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <thread>

#include <catch2/catch.hpp>

#include "support/error.h"
#include "support/fs.h"
#include "tests/testutil/testutil.h"

using kiln::FileLock;
using kiln::LockMode;
using kiln::LockTarget;

TEST_CASE("an exclusive lock excludes every other lock until released", "[file_lock]") {
  kiln::testutil::TempDir dir;
  std::string path = dir.path() + "/a.lock";
  auto held = FileLock::acquire(path);
  REQUIRE(static_cast<bool>(held));
  struct stat st {};
  REQUIRE(::stat(path.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  auto other = FileLock::try_acquire(path);
  REQUIRE(static_cast<bool>(other));
  CHECK(!other->has_value());
  auto shared = FileLock::try_acquire(path, LockMode::shared);
  REQUIRE(static_cast<bool>(shared));
  CHECK(!shared->has_value());
  { FileLock gone = std::move(*held); }  // released by the destructor
  auto again = FileLock::try_acquire(path);
  REQUIRE(static_cast<bool>(again));
  CHECK(again->has_value());
}

TEST_CASE("shared locks coexist and keep an exclusive one out", "[file_lock]") {
  kiln::testutil::TempDir dir;
  std::string path = dir.path() + "/s.lock";
  auto a = FileLock::acquire(path, LockMode::shared);
  auto b = FileLock::try_acquire(path, LockMode::shared);
  REQUIRE(static_cast<bool>(a));
  REQUIRE(static_cast<bool>(b));
  CHECK(b->has_value());
  auto x = FileLock::try_acquire(path, LockMode::exclusive);
  REQUIRE(static_cast<bool>(x));
  CHECK(!x->has_value());
}

TEST_CASE("an exclusive lock changed to shared lets readers in", "[file_lock]") {
  kiln::testutil::TempDir dir;
  std::string path = dir.path() + "/c.lock";
  auto lock = FileLock::acquire(path);
  REQUIRE(static_cast<bool>(lock));
  REQUIRE(!lock->change_mode(LockMode::shared));
  auto reader = FileLock::try_acquire(path, LockMode::shared);
  REQUIRE(static_cast<bool>(reader));
  CHECK(reader->has_value());
}

TEST_CASE("a directory is locked in place, never created", "[file_lock]") {
  kiln::testutil::TempDir dir;
  auto lock = FileLock::acquire(dir.path(), LockMode::exclusive, LockTarget::directory);
  REQUIRE(static_cast<bool>(lock));
  auto other = FileLock::try_acquire(dir.path(), LockMode::exclusive, LockTarget::directory);
  REQUIRE(static_cast<bool>(other));
  CHECK(!other->has_value());
  std::string missing = dir.path() + "/missing";
  auto none = FileLock::acquire(missing, LockMode::exclusive, LockTarget::directory);
  REQUIRE(!none);
  CHECK(kiln::error_message(none.takeError()) ==
        "open '" + missing + "': No such file or directory");
  CHECK(!kiln::fs::exists(missing));
}

TEST_CASE("waiting with a cancel token ends when the holder lets go or on cancel", "[file_lock]") {
  kiln::testutil::TempDir dir;
  std::string path = dir.path() + "/w.lock";
  auto held = FileLock::acquire(path);
  REQUIRE(static_cast<bool>(held));
  kiln::CancelToken cancel;
  cancel.cancel();
  auto cancelled = FileLock::acquire(path, LockMode::exclusive, cancel);
  REQUIRE(!cancelled);
  CHECK(kiln::error_message(cancelled.takeError()) == "cancelled");
  std::optional<FileLock> holder(std::move(*held));
  std::thread release([&] { holder.reset(); });
  auto taken = FileLock::acquire(path, LockMode::exclusive, kiln::CancelToken());
  release.join();
  CHECK(static_cast<bool>(taken));
}

TEST_CASE("lock_fd locks a file that is its own lock", "[file_lock]") {
  kiln::testutil::TempDir dir;
  std::string path = dir.path() + "/blob";
  int a = ::open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
  int b = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  REQUIRE(a >= 0);
  REQUIRE(b >= 0);
  REQUIRE(!kiln::lock_fd(a, LockMode::exclusive, path));
  auto other = kiln::try_lock_fd(b, LockMode::exclusive, path);
  REQUIRE(static_cast<bool>(other));
  CHECK(!*other);
  ::close(a);
  auto after = kiln::try_lock_fd(b, LockMode::exclusive, path);
  REQUIRE(static_cast<bool>(after));
  CHECK(*after);
  ::close(b);
}
