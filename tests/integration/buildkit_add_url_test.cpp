// ADD from a URL, against a loopback HTTP server (BuildKit testAddFromURL,
// testAddURLChmod and its http source's rules): the file's name, mode 0600, the
// Last-Modified time, --checksum, the cache keyed by content, and the errors.

#include <catch2/catch.hpp>

#include "tests/integration/build_fixture.h"

using kiln::testutil::BuildFixture;
using kiln::testutil::Output;
using kiln::testutil::read_file;

namespace {

constexpr const char* kLastModified = "Last-Modified: Tue, 01 Dec 2026 10:00:00 GMT";
constexpr long kLastModifiedUnix = 1796119200;

std::string url(const kiln::testutil::StepCounter& server, const std::string& path) {
  return "http://127.0.0.1:" + std::to_string(server.port()) + "/" + path;
}

}  // namespace

TEST_CASE("ADD of a URL names the file after the URL, with mode 0600 and the Last-Modified time",
          "[integration][buildkit]") {
  BuildFixture f;
  kiln::testutil::StepCounter server;
  server.respond("files/hello.txt", "hello from http\n", {kLastModified});
  server.respond("", "root page\n");
  f.file("Dockerfile", "FROM busybox:local\nADD " + url(server, "files/hello.txt") + " /dir/\n" +
                           "ADD " + url(server, "files/hello.txt") + " /renamed\n" + "ADD " +
                           url(server, "") + " /root/\n" + "ADD --chmod=644 " +
                           url(server, "files/hello.txt") + " /chmod/\n" +
                           "RUN stat -c '%a %Y %s' /dir/hello.txt /renamed /chmod/hello.txt > /stat"
                           " && ls /root > /unnamed\n"
                           "FROM scratch\nCOPY --from=0 /stat /unnamed /dir/hello.txt /\n");
  f.build_ok({"-o", "type=local,dest=" + f.path("out")});
  std::string t = std::to_string(kLastModifiedUnix);
  CHECK(read_file(f.path("out/stat")) == "600 " + t + " 16\n600 " + t + " 16\n644 " + t + " 16\n");
  CHECK(read_file(f.path("out/hello.txt")) == "hello from http\n");
  CHECK(read_file(f.path("out/unnamed")) == "__unnamed__\n");
}

TEST_CASE("ADD of a URL is cached by the content it downloads", "[integration][buildkit]") {
  BuildFixture f;
  kiln::testutil::StepCounter server;
  server.respond("data", "one\n");
  f.file("Dockerfile", "FROM busybox:local\nADD " + url(server, "data") + " /data\n" +
                           "RUN cat /data > /seen && " + server.hit("ran") + "\n" +
                           "FROM scratch\nCOPY --from=0 /seen /\n");
  f.build_ok({"-o", "type=local,dest=" + f.path("out1")});
  CHECK(read_file(f.path("out1/seen")) == "one\n");
  CHECK(server.count("ran") == 1);

  // Same content: the URL is fetched again to learn it, and the RUN is cached.
  f.build_ok({"-o", "type=local,dest=" + f.path("out2")});
  CHECK(server.count("data") == 2);
  CHECK(server.count("ran") == 1);

  // New content: the steps after it run again.
  server.respond("data", "two\n");
  f.build_ok({"-o", "type=local,dest=" + f.path("out3")});
  CHECK(read_file(f.path("out3/seen")) == "two\n");
  CHECK(server.count("ran") == 2);
}

TEST_CASE("ADD --checksum of a URL is keyed by the checksum and refuses other content",
          "[integration][buildkit]") {
  BuildFixture f;
  kiln::testutil::StepCounter server;
  server.respond("pinned", "pinned\n");
  // sha256 of "pinned\n".
  std::string sum =
      "sha256:" +
      kiln::testutil::run({"sh", "-c", "printf 'pinned\\n' | sha256sum"}).out.substr(0, 64);
  f.file("Dockerfile", "FROM busybox:local\nADD --checksum=" + sum + " " + url(server, "pinned") +
                           " /pinned\nRUN cat /pinned\n");
  f.build_ok({});
  CHECK(server.count("pinned") == 1);
  // Cached by the checksum: no request at all.
  f.build_ok({});
  CHECK(server.count("pinned") == 1);

  std::string wrong = "sha256:" + std::string(64, 'a');
  f.file("Dockerfile", "FROM busybox:local\nADD --checksum=" + wrong + " " + url(server, "pinned") +
                           " /pinned\n");
  Output o = f.build({});
  CHECK(o.exit_code != 0);
  CHECK_THAT(o.err, Catch::Contains("digest mismatch for " + url(server, "pinned") + ": " + sum +
                                    " (expected: " + wrong + ")"));
}

TEST_CASE("ADD of a URL that answers 404 fails with the status", "[integration][buildkit]") {
  BuildFixture f;
  kiln::testutil::StepCounter server;
  server.respond("missing", "no\n", {}, 404);
  f.file("Dockerfile", "FROM busybox:local\nADD " + url(server, "missing") + " /m\n");
  Output o = f.build({});
  CHECK(o.exit_code != 0);
  CHECK_THAT(o.err, Catch::Contains("invalid response status 404"));
  // Nothing of the download is left behind in the store's tmp dir.
  CHECK(kiln::testutil::run({"sh", "-c", "ls " + f.root() + "/tmp | grep -c http-"}).out == "0\n");
}

TEST_CASE("ADD --user-agent sends that User-Agent, and a local source or a line break is refused",
          "[integration][buildkit]") {
  // BuildKit testAddUseragent, and its NonHTTPSource half.
  BuildFixture f;
  kiln::testutil::StepCounter server;
  server.respond("ua", "content");
  server.respond("plain", "content");
  f.file("Dockerfile", "FROM scratch\nADD --user-agent=\"Mozilla/5.0 (Linux) Foo 5.0\" " +
                           url(server, "ua") + " /tmp/foo\nADD " + url(server, "plain") +
                           " /tmp/bar\n");
  f.build_ok({});
  std::string head = server.last_request("ua") + "\r\n";
  INFO(head);
  CHECK(head.find("\r\nUser-Agent: Mozilla/5.0 (Linux) Foo 5.0\r\n") != std::string::npos);
  CHECK(head.find("User-Agent:") == head.rfind("User-Agent:"));  // one header, not two
  // Without the flag, kiln's own.
  CHECK(server.last_request("plain").find("\r\nUser-Agent: kiln/") != std::string::npos);

  f.file("foo", "local file");
  f.file("Dockerfile", "FROM scratch\nADD --user-agent=Foo foo /tmp/foo\n");
  Output local = f.build({});
  CHECK(local.exit_code == 1);
  CHECK_THAT(local.err, Catch::Contains("user-agent can't be specified for non-HTTP sources"));

  // A CR/LF from a build arg would inject a header line: refused before any request.
  f.file("Dockerfile",
         "FROM scratch\nARG UA\nADD --user-agent=$UA " + url(server, "inject") + " /x\n");
  Output inject = f.build({"--build-arg", "UA=a\r\nX-Injected: 1"});
  CHECK(inject.exit_code == 1);
  CHECK_THAT(inject.err, Catch::Contains("invalid user-agent \"a\\r\\nX-Injected: 1\": control "
                                         "characters are not allowed"));
  CHECK(server.count("inject") == 0);
}
