#include <catch2/catch.hpp>

#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <random>
#include <regex>

#include "cache/compress.h"
#include "cache/deflate_scan.h"
#include "cache/layer_pack.h"
#include "support/error.h"
#include "tests/cache/tree_util.h"

using namespace kiln;
using namespace kiln::cache;
using kiln::testutil::run;
using kiln::testutil::TempDir;

namespace {

std::string hex(llvm::StringRef bytes) {
  static const char* digits = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes) {
    out += digits[c >> 4];
    out += digits[c & 15];
  }
  return out;
}

std::string compress(Compression c, unsigned threads, llvm::StringRef input, int level = -1) {
  std::string out;
  auto comp = StreamCompressor::create(c, level, threads, [&](llvm::StringRef b) {
    out += b.str();
    return llvm::Error::success();
  });
  // Odd write sizes, so that block boundaries never line up with writes.
  for (size_t pos = 0; pos < input.size(); pos += 77777) {
    REQUIRE(testutil::ok(comp->write(input.substr(pos, 77777))) == "");
  }
  REQUIRE(testutil::ok(comp->finish()) == "");
  return out;
}

/// Deterministic mixed data: text lines, random bytes, runs of zeros.
std::string mixed_data(size_t size) {
  std::mt19937_64 rng(42);
  std::string out;
  while (out.size() < size) {
    switch (rng() % 3) {
      case 0:
        for (int i = 0; i < 200; ++i) {
          out += "line " + std::to_string(rng() % 1000) + " of some text file\n";
        }
        break;
      case 1:
        for (int i = 0; i < 4096; ++i) {
          out += static_cast<char>(rng());
        }
        break;
      default:
        out.append(rng() % 20000, '\0');
    }
  }
  out.resize(size);
  return out;
}

std::string collapse_spaces(const std::string& s) {
  return std::regex_replace(s, std::regex(" +"), " ");
}

}  // namespace

TEST_CASE("gzip of empty input is an empty final block and a zero trailer", "[exporter]") {
  CHECK(hex(compress(Compression::gzip, 1, "")) == "1f8b08000000000000ff03000000000000000000");
}

TEST_CASE("parallel gzip is one gzip member, the same for any thread count", "[exporter]") {
  std::string input = mixed_data(5 * 1024 * 1024 + 12345);
  std::string one = compress(Compression::gzip, 1, input);
  std::string four = compress(Compression::gzip, 4, input);
  CHECK(hex(one.substr(0, 10)) == "1f8b08000000000000ff");
  CHECK(one == four);
  CHECK(one.size() < input.size() / 2);

  TempDir dir;
  testutil::write_file(dir / "in.gz", one);
  auto gz = run({"sh", "-c", "gzip -t " + dir / "in.gz" + " && gzip -dc " + dir / "in.gz"});
  CHECK(gz.exit_code == 0);
  CHECK((gz.out == input));
  // Python's zlib stops at the end of the first member: all input must be used.
  auto py = run({"python3", "-c",
                 "import sys,zlib; d=zlib.decompressobj(31); "
                 "o=d.decompress(open(sys.argv[1],'rb').read()); "
                 "print(len(o), d.eof, len(d.unused_data))",
                 dir / "in.gz"});
  CHECK(py.out == std::to_string(input.size()) + " True 0\n");
}

TEST_CASE("parallel gzip is valid at every libdeflate level", "[exporter]") {
  std::string input = mixed_data(3 * 1024 * 1024);
  TempDir dir;
  for (int level : {1, 4, 9, 12}) {
    INFO("level " << level);
    testutil::write_file(dir / "in.gz", compress(Compression::gzip, 2, input, level));
    auto gz = run({"gzip", "-dc", dir / "in.gz"});
    CHECK(gz.exit_code == 0);
    CHECK((gz.out == input));
  }
}

TEST_CASE("zstd output is the same for any thread count and decompresses", "[exporter]") {
  std::string input = mixed_data(3 * 1024 * 1024);
  std::string one = compress(Compression::zstd, 1, input);
  CHECK(one == compress(Compression::zstd, 3, input));
  TempDir dir;
  testutil::write_file(dir / "in.zst", one);
  auto out = run({"zstd", "-dc", dir / "in.zst"});
  CHECK(out.exit_code == 0);
  CHECK((out.out == input));
}

TEST_CASE("scan_deflate finds the final block and rejects bad streams", "[exporter]") {
  // 03 00: a final fixed block holding only end-of-block (10 bits).
  const uint8_t empty[18] = {0x03, 0x00};
  auto end = scan_deflate(empty, 2);
  REQUIRE(testutil::ok(end) == "");
  CHECK(end->final_block_bit == 0);
  CHECK(end->end_bit == 10);

  const uint8_t reserved[17] = {0x07};
  CHECK(error_message(scan_deflate(reserved, 1).takeError()) ==
        "malformed deflate stream: reserved block type");
  // A non-final stored block with a bad NLEN.
  const uint8_t stored[21] = {0x00, 0x05, 0x00, 0x00, 0x00};
  CHECK(error_message(scan_deflate(stored, 5).takeError()) ==
        "malformed deflate stream: bad stored block length");
}

TEST_CASE("scan_deflate stops at the end of a truncated stream", "[exporter]") {
  std::string gz = compress(Compression::gzip, 1, mixed_data(100000));
  std::string cut = gz.substr(10, 500) + std::string(16, '\0');
  auto end = scan_deflate(reinterpret_cast<const uint8_t*>(cut.data()), 500);
  CHECK(error_message(end.takeError()) == "malformed deflate stream: truncated");
}

TEST_CASE("gzip rejects a level libdeflate does not have", "[exporter]") {
  for (unsigned threads : {1u, 2u}) {
    auto comp = StreamCompressor::create(Compression::gzip, 13, threads,
                                         [](llvm::StringRef) { return llvm::Error::success(); });
    llvm::Error err = comp->write("some bytes");
    if (!err) {
      err = comp->finish();
    }
    CHECK(error_message(std::move(err)) ==
          "gzip: no libdeflate compressor for this level (valid: 1 to 12)");
  }
}

TEST_CASE("layer tar: overlay form to OCI entries, sorted, clamped", "[exporter]") {
  TempDir tmp;
  std::string d = tmp / "upper";
  REQUIRE(testutil::sh_in(tmp.path(), R"(
    mkdir upper && cd upper
    printf hello > a.txt
    mkdir bin && printf x > bin/tool && chmod 4755 bin/tool
    ln -s a.txt link
    printf h > hard1 && ln hard1 hard2
    mknod gone c 0 0
    mkdir opq && printf i > opq/i
    mkdir sticky && chmod 1777 sticky
    chown 1000:1001 a.txt
    find . -exec touch -h -d @2000000000 {} +
  )") == "");
  REQUIRE(testutil::set_xattr(d + "/opq", "trusted.overlay.opaque", "y"));
  REQUIRE(testutil::set_xattr(d + "/a.txt", "user.test", "1"));
  REQUIRE(testutil::set_xattr(d + "/a.txt", "trusted.overlay.origin", "zzz"));

  PackOptions options;
  options.compression = Compression::none;
  options.source_date_epoch = 1000000000;
  auto packed = pack_layer_to_file(d, tmp / "layer.tar", options);
  REQUIRE(testutil::ok(packed) == "");
  CHECK(packed->diff_id == packed->digest);
  auto listing =
      run({"tar", "--numeric-owner", "--full-time", "-tvf", tmp / "layer.tar"}, "", {"TZ=UTC"});
  CHECK(collapse_spaces(listing.out) ==
        "---------- 0/0 0 2001-09-09 01:46:40 .wh.gone\n"
        "-rw-r--r-- 1000/1001 5 2001-09-09 01:46:40 a.txt\n"
        "drwxr-xr-x 0/0 0 2001-09-09 01:46:40 bin/\n"
        "-rwsr-xr-x 0/0 1 2001-09-09 01:46:40 bin/tool\n"
        "-rw-r--r-- 0/0 1 2001-09-09 01:46:40 hard1\n"
        "hrw-r--r-- 0/0 0 2001-09-09 01:46:40 hard2 link to hard1\n"
        "lrwxrwxrwx 0/0 0 2001-09-09 01:46:40 link -> a.txt\n"
        "drwxr-xr-x 0/0 0 2001-09-09 01:46:40 opq/\n"
        "---------- 0/0 0 2001-09-09 01:46:40 opq/.wh..wh..opq\n"
        "-rw-r--r-- 0/0 1 2001-09-09 01:46:40 opq/i\n"
        "drwxrwxrwt 0/0 0 2001-09-09 01:46:40 sticky/\n");
  std::string raw = testutil::read_file(tmp / "layer.tar");
  CHECK(raw.find("SCHILY.xattr.user.test=1\n") != std::string::npos);
  CHECK(raw.find("trusted.overlay") == std::string::npos);
  // No padding to a 10 KiB record: the two zero blocks end the stream.
  CHECK(raw.size() % 512 == 0);
  CHECK(raw.substr(raw.size() - 1024) == std::string(1024, '\0'));
  CHECK(raw.substr(raw.size() - 1536, 512) != std::string(512, '\0'));
}

TEST_CASE("pack_layer: same tree, same digests, gzip -dc hashes to the diff ID", "[exporter]") {
  TempDir tmp;
  testutil::write_file(tmp / "t/big.bin", mixed_data(2 * 1024 * 1024 + 3));
  testutil::write_file(tmp / "t/small.txt", "small\n");
  for (Compression c : {Compression::gzip, Compression::zstd}) {
    PackOptions options;
    options.compression = c;
    options.threads = 1;
    auto a = pack_layer_to_file(tmp / "t", tmp / "a", options);
    options.threads = 3;
    auto b = pack_layer_to_file(tmp / "t", tmp / "b", options);
    REQUIRE(testutil::ok(a) == "");
    REQUIRE(testutil::ok(b) == "");
    CHECK(a->digest == b->digest);
    CHECK(a->diff_id == b->diff_id);
    CHECK(a->digest != a->diff_id);
    CHECK(digest_file(tmp / "b").get() == b->digest);
    std::string tool = c == Compression::gzip ? "gzip" : "zstd";
    auto sum = run({"sh", "-c", tool + " -dc " + tmp / "b" + " | sha256sum"});
    CHECK(sum.out == b->diff_id.hex() + "  -\n");
  }
}

TEST_CASE("pack_layer names the directory it cannot read", "[exporter]") {
  std::string sink;
  auto packed = pack_layer("/nonexistent/upper", PackOptions{}, [&](llvm::StringRef b) {
    sink += b.str();
    return llvm::Error::success();
  });
  CHECK(error_message(packed.takeError()) ==
        "pack layer '/nonexistent/upper': open directory '/nonexistent/upper': No such file or "
        "directory");
}
