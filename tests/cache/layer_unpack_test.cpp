#include <catch2/catch.hpp>

#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "cache/layer_unpack.h"
#include "support/error.h"
#include "tests/cache/tree_util.h"

using namespace kiln;
using kiln::testutil::run;
using kiln::testutil::TempDir;

namespace {

/// Writes a PAX tar at `path` with Python's tarfile; `body` calls
/// add(name, type, data, **attrs) for each entry.
void python_tar(const std::string& path, const std::string& body) {
  std::string script = R"(
import io, sys, tarfile
t = tarfile.open(sys.argv[1], 'w', format=tarfile.PAX_FORMAT)
def add(name, type=tarfile.REGTYPE, data=b'', **kw):
    ti = tarfile.TarInfo(name)
    ti.type = type
    ti.size = len(data) if type == tarfile.REGTYPE else 0
    ti.mtime = 1500000000
    for k, v in kw.items():
        setattr(ti, k, v)
    t.addfile(ti, io.BytesIO(data) if type == tarfile.REGTYPE else None)
)" + body + "\nt.close()\n";
  auto out = run({"python3", "-c", script, path});
  REQUIRE(out.err == "");
  REQUIRE(out.exit_code == 0);
}

std::string unpack_error(const std::string& tar, const std::string& dest) {
  REQUIRE(testutil::ok(fs::make_dirs(dest)) == "");
  auto got = cache::unpack_layer(tar, dest);
  return got ? std::string("no error") : error_message(got.takeError());
}

}  // namespace

TEST_CASE("unpack_layer writes whiteouts and opaque dirs in overlay form", "[cache]") {
  TempDir tmp;
  python_tar(tmp / "l.tar", R"(
add('etc/', tarfile.DIRTYPE, mode=0o755)
add('etc/passwd', data=b'root:x:0:0\n', mode=0o644, uid=1000, gid=1001)
add('etc/.wh.shadow')
add('var/', tarfile.DIRTYPE, mode=0o1777)
add('var/.wh..wh..opq')
add('var/new', data=b'n', mode=0o4755)
add('usr/bin/tool', data=b'#!', pax_headers={'SCHILY.xattr.user.k': 'v', 'SCHILY.xattr.trusted.overlay.redirect': '/x'})
add('usr/bin/tool2', tarfile.LNKTYPE, linkname='usr/bin/tool')
add('lnk', tarfile.SYMTYPE, linkname='/nowhere')
)");
  std::string dest = tmp / "fs";
  REQUIRE(testutil::ok(fs::make_dirs(dest)) == "");
  auto diff_id = cache::unpack_layer(tmp / "l.tar", dest);
  REQUIRE(testutil::ok(diff_id) == "");
  CHECK(*diff_id == digest_file(tmp / "l.tar").get());
  CHECK(testutil::list_tree(dest, true) ==
        "etc mode=40755 uid=0 gid=0\n"
        "etc/passwd mode=100644 uid=1000 gid=1001 mtime=1500000000 size=11 7cf1f940025c\n"
        "etc/shadow mode=20000 uid=0 gid=0 mtime=" +
            std::to_string([&] {
              struct stat st {};
              ::lstat((dest + "/etc/shadow").c_str(), &st);
              return st.st_mtim.tv_sec;
            }()) +
            " dev=0:0\n"
            "lnk mode=120777 uid=0 gid=0 mtime=1500000000 -> /nowhere\n"
            "usr mode=40755 uid=0 gid=0\n"
            "usr/bin mode=40755 uid=0 gid=0\n"
            "usr/bin/tool mode=100644 uid=0 gid=0 mtime=1500000000 size=2 3612ddaf46e1 "
            "user.k=v\n"
            "usr/bin/tool2 mode=100644 uid=0 gid=0 mtime=1500000000 size=2 3612ddaf46e1 "
            "link=usr/bin/tool user.k=v\n"
            "var mode=41777 uid=0 gid=0 trusted.overlay.opaque=y\n"
            "var/new mode=104755 uid=0 gid=0 mtime=1500000000 size=1 1b16b1df538b\n");
  struct stat st {};
  REQUIRE(::stat((dest + "/etc").c_str(), &st) == 0);
  CHECK(st.st_mtim.tv_sec == 1500000000);
}

TEST_CASE("unpack_layer reads gzip and zstd blobs and checks the diff ID", "[cache]") {
  TempDir tmp;
  python_tar(tmp / "l.tar", "add('a', data=b'abc')\n");
  REQUIRE(testutil::sh_in(tmp.path(), "gzip -k l.tar && zstd -q l.tar") == "");
  Digest plain = digest_file(tmp / "l.tar").get();
  for (const char* blob : {"l.tar.gz", "l.tar.zst"}) {
    std::string dest = tmp / (std::string(blob) + ".d");
    REQUIRE(testutil::ok(fs::make_dirs(dest)) == "");
    auto got = cache::unpack_layer(tmp / blob, dest, plain);
    REQUIRE(testutil::ok(got) == "");
    CHECK(*got == plain);
    CHECK(testutil::read_file(dest + "/a") == "abc");
  }
  Digest wrong = Digest::of("not the layer");
  REQUIRE(testutil::ok(fs::make_dirs(tmp / "w")) == "");
  auto got = cache::unpack_layer(tmp / "l.tar.gz", tmp / "w", wrong);
  CHECK(error_message(got.takeError()) == "unpack layer '" + tmp / "l.tar.gz" +
                                              "': diff ID mismatch: expected '" + wrong.str() +
                                              "', got '" + plain.str() + "'");
}

TEST_CASE("unpack_layer rejects entries that escape the layer", "[cache]") {
  TempDir tmp;
  std::string prefix = "unpack layer '" + tmp.path() + "/";
  python_tar(tmp / "dotdot.tar", "add('a/../../evil', data=b'x')\n");
  CHECK(unpack_error(tmp / "dotdot.tar", tmp / "d1") ==
        prefix + "dotdot.tar': entry 'a/../../evil' escapes the layer with '..'");
  python_tar(tmp / "abs.tar", "add('/etc/evil', data=b'x')\n");
  CHECK(unpack_error(tmp / "abs.tar", tmp / "d2") ==
        prefix + "abs.tar': entry '/etc/evil' has an absolute path");
  python_tar(tmp / "sym.tar",
             "add('lnk', tarfile.SYMTYPE, linkname='/tmp')\nadd('lnk/evil', data=b'x')\n");
  CHECK(unpack_error(tmp / "sym.tar", tmp / "d3") ==
        prefix + "sym.tar': entry 'lnk/evil' escapes the layer through symlink 'lnk'");
  python_tar(tmp / "hard.tar", "add('h', tarfile.LNKTYPE, linkname='../../etc/passwd')\n");
  CHECK(unpack_error(tmp / "hard.tar", tmp / "d4") ==
        prefix + "hard.tar': entry 'h' escapes the layer with '..'");
  CHECK_FALSE(fs::exists("/tmp/evil"));
}

TEST_CASE("unpack_layer names a blob that is not a layer", "[cache]") {
  TempDir tmp;
  testutil::write_file(tmp / "junk", "this is not a tar archive, not even close.........");
  std::string msg = unpack_error(tmp / "junk", tmp / "d");
  CHECK(msg.rfind("unpack layer '" + tmp / "junk" + "': read tar: ", 0) == 0);
}

TEST_CASE("unpack_layer: a cut gzip blob is a decompression error", "[cache]") {
  TempDir tmp;
  std::string body;
  for (int i = 0; i < 200; ++i) {
    body += "add('f" + std::to_string(i) + "', data=bytes(range(256)) * 40)\n";
  }
  python_tar(tmp / "l.tar", body);
  REQUIRE(testutil::sh_in(tmp.path(),
                          "gzip -c l.tar > l.tar.gz && head -c 3000 l.tar.gz > cut && "
                          "head -c -8 l.tar.gz > notrailer") == "");
  CHECK(unpack_error(tmp / "cut", tmp / "d1") ==
        "unpack layer '" + tmp / "cut" + "': decompress: truncated gzip input");
  CHECK(unpack_error(tmp / "notrailer", tmp / "d2") ==
        "unpack layer '" + tmp / "notrailer" +
            "': decompress: truncated or corrupt compressed stream");
}
