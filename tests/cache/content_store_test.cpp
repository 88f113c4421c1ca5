#include "cache/content_store.h"

#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <utime.h>

#include <ctime>
#include <thread>

#include <catch2/catch.hpp>

#include "support/error.h"
#include "support/fs.h"
#include "tests/testutil/testutil.h"

using kiln::Digest;
using kiln::cache::ContentStore;

namespace {

// sha256("hello")
constexpr const char* kHello =
    "sha256:2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824";

ContentStore open_store(const std::string& root) {
  auto store = ContentStore::open(root);
  REQUIRE(static_cast<bool>(store));
  return std::move(*store);
}

}  // namespace

TEST_CASE("put stores a blob under its sha256", "[content_store]") {
  kiln::testutil::TempDir dir;
  ContentStore store = open_store(dir.path());
  auto digest = store.put("hello");
  REQUIRE(static_cast<bool>(digest));
  CHECK(digest->str() == kHello);
  CHECK(store.blob_path(*digest) ==
        dir.path() +
            "/blobs/sha256/2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824");
  CHECK(store.exists(*digest));
  auto bytes = store.read(*digest);
  REQUIRE(static_cast<bool>(bytes));
  CHECK(*bytes == "hello");
  auto size = store.size(*digest);
  REQUIRE(static_cast<bool>(size));
  CHECK(*size == 5);
  auto list = store.list();
  REQUIRE(static_cast<bool>(list));
  REQUIRE(list->size() == 1);
  CHECK(list->front() == *digest);
}

TEST_CASE("streaming ingest verifies digest and size", "[content_store]") {
  kiln::testutil::TempDir dir;
  ContentStore store = open_store(dir.path());
  auto expected = Digest::parse(kHello);
  REQUIRE(static_cast<bool>(expected));
  {
    auto ingest = store.begin_ingest();
    REQUIRE(static_cast<bool>(ingest));
    REQUIRE(!ingest->write("hel"));
    REQUIRE(!ingest->write("lo!"));
    auto committed = ingest->commit(*expected, 6);
    REQUIRE(!committed);
    CHECK(kiln::error_message(committed.takeError()) ==
          "blob digest mismatch: expected "
          "'sha256:2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824', got "
          "'sha256:ce06092fb948d9ffac7d1a376e404b26b7575bcc11ee05a4615fef4fec3a308b'");
  }
  {
    auto ingest = store.begin_ingest();
    REQUIRE(static_cast<bool>(ingest));
    REQUIRE(!ingest->write("hello"));
    auto committed = ingest->commit(*expected, 4);
    REQUIRE(!committed);
    CHECK(kiln::error_message(committed.takeError()) ==
          "blob 'sha256:2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824': size "
          "mismatch: expected 4 bytes, got 5");
  }
  CHECK(!store.exists(*expected));
  auto list = store.list();
  REQUIRE(static_cast<bool>(list));
  CHECK(list->empty());
  // Rejected and abandoned ingests leave nothing in tmp/.
  { auto abandoned = store.begin_ingest(); }
  auto tmp = kiln::testutil::run({"ls", "-A", dir.path() + "/tmp"});
  CHECK(tmp.out == "");
  auto ingest = store.begin_ingest();
  REQUIRE(static_cast<bool>(ingest));
  REQUIRE(!ingest->write("hello"));
  auto committed = ingest->commit(*expected, 5);
  REQUIRE(static_cast<bool>(committed));
  CHECK(*committed == *expected);
}

TEST_CASE("an existing blob is kept when the same content is committed again", "[content_store]") {
  kiln::testutil::TempDir dir;
  ContentStore store = open_store(dir.path());
  auto first = store.put("hello");
  REQUIRE(static_cast<bool>(first));
  struct stat before {};
  REQUIRE(::stat(store.blob_path(*first).c_str(), &before) == 0);
  auto second = store.put("hello");
  REQUIRE(static_cast<bool>(second));
  struct stat after {};
  REQUIRE(::stat(store.blob_path(*first).c_str(), &after) == 0);
  CHECK(before.st_ino == after.st_ino);
  CHECK(kiln::testutil::run({"ls", "-A", dir.path() + "/tmp"}).out == "");
}

TEST_CASE("missing blobs are named in errors, remove is idempotent", "[content_store]") {
  kiln::testutil::TempDir dir;
  ContentStore store = open_store(dir.path());
  auto digest = Digest::parse(kHello);
  REQUIRE(static_cast<bool>(digest));
  auto bytes = store.read(*digest);
  REQUIRE(!bytes);
  CHECK(kiln::error_message(bytes.takeError()) ==
        "blob 'sha256:2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824' not "
        "found");
  auto fd = store.open_blob(*digest);
  REQUIRE(!fd);
  CHECK(kiln::error_message(fd.takeError()) ==
        "blob 'sha256:2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824' not "
        "found");
  REQUIRE(static_cast<bool>(store.put("hello")));
  REQUIRE(!store.remove(*digest));
  CHECK(!store.exists(*digest));
  REQUIRE(!store.remove(*digest));
}

TEST_CASE("put_file streams a file in", "[content_store]") {
  kiln::testutil::TempDir dir;
  ContentStore store = open_store(dir / "store");
  std::string big(3 << 20, 'x');
  for (size_t i = 0; i < big.size(); i += 4096) {
    big[i] = static_cast<char>('a' + (i / 4096) % 26);
  }
  kiln::testutil::write_file(dir / "big", big);
  auto digest = store.put_file(dir / "big");
  REQUIRE(static_cast<bool>(digest));
  CHECK(*digest == Digest::of(big));
  auto fd = store.open_blob(*digest);
  REQUIRE(static_cast<bool>(fd));
  ::close(*fd);
  auto missing = store.put_file(dir / "nope");
  REQUIRE(!missing);
  CHECK(kiln::error_message(missing.takeError()) ==
        "open '" + dir.path() + "/nope': No such file or directory");
}

TEST_CASE("threads writing the same blobs concurrently all succeed", "[content_store]") {
  kiln::testutil::TempDir dir;
  ContentStore store = open_store(dir.path());
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&]() {
      for (int i = 0; i < 50; ++i) {
        auto digest = store.put("blob " + std::to_string(i));
        if (!digest) {
          llvm::consumeError(digest.takeError());
          ++failures;
        }
      }
    });
  }
  for (auto& thread : threads) {
    thread.join();
  }
  CHECK(failures == 0);
  auto list = store.list();
  REQUIRE(static_cast<bool>(list));
  CHECK(list->size() == 50);
  CHECK(kiln::testutil::run({"ls", "-A", dir.path() + "/tmp"}).out == "");
}

TEST_CASE("an exclusive lease waits for shared ones", "[content_store]") {
  kiln::testutil::TempDir dir;
  ContentStore store = open_store(dir.path());
  auto shared = std::make_unique<llvm::Expected<kiln::cache::BlobLease>>(
      store.lease(kiln::cache::LeaseMode::shared));
  REQUIRE(static_cast<bool>(*shared));
  std::atomic<bool> acquired{false};
  std::thread exclusive([&]() {
    auto lease = store.lease(kiln::cache::LeaseMode::exclusive);
    acquired = static_cast<bool>(lease);
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  CHECK(!acquired);
  shared.reset();
  exclusive.join();
  CHECK(acquired);
}
