// Behaviour that current BuildKit's own frontend integration tests assert
// (moby/buildkit frontend/dockerfile/dockerfile*_test.go), checked on the busybox
// base with kiln's own Dockerfiles. tests/integration/BUILDKIT_TESTS.md maps each
// BuildKit test to the test here (or elsewhere) that covers it.

#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "tests/integration/build_fixture.h"

using kiln::testutil::BuildFixture;
using kiln::testutil::Output;
using kiln::testutil::run;

namespace {

bool exists(const std::string& path) {
  struct stat st {};
  return ::lstat(path.c_str(), &st) == 0;
}

/// The entries (`tar -tv` names) of the last layer of image `ref`.
std::string last_layer_entries(const BuildFixture& f, const std::string& ref) {
  std::string archive = f.path("save.tar");
  Output o = kiln::testutil::kiln(f.root(), {"save", "-o", archive, ref});
  INFO(o.err);
  REQUIRE(o.exit_code == 0);
  std::string dir = f.path("saved");
  REQUIRE(run({"mkdir", "-p", dir}).exit_code == 0);
  REQUIRE(run({"tar", "-xf", archive, "-C", dir}).exit_code == 0);
  auto manifest = nlohmann::json::parse(kiln::testutil::read_file(dir + "/manifest.json"));
  std::string layer = manifest[0]["Layers"].back().get<std::string>();
  Output list = run({"tar", "-tf", dir + "/" + layer});
  REQUIRE(list.exit_code == 0);
  return list.out;
}

}  // namespace

TEST_CASE("proxy build args reach RUN without an ARG, stay out of history and of the cache key",
          "[integration][buildkit]") {
  // BuildKit testBuiltinArgs.
  BuildFixture f;
  f.file("Dockerfile", R"(FROM busybox:local AS build
ARG FOO
ARG BAR
ARG BAZ=bazcontent
RUN echo -n $HTTP_PROXY::$http_proxy::$NO_PROXY::$FOO::$BAR::$BAZ > /out
FROM scratch
COPY --from=build /out /
)");
  build_to(f, "o1",
           {"-t", "proxy:1", "--build-arg", "FOO=foocontents", "--build-arg", "http_proxy=hpvalue",
            "--build-arg", "NO_PROXY=npvalue"});
  CHECK(out_file(f, "o1", "out") == "hpvalue::hpvalue::npvalue::foocontents::::bazcontent");
  std::string history = inspect(f, "proxy:1").dump();
  CHECK(history.find("hpvalue") == std::string::npos);
  CHECK(history.find("npvalue") == std::string::npos);

  // Another proxy value hits the cache; another FOO does not.
  build_to(f, "o2", {"--build-arg", "FOO=foocontents", "--build-arg", "http_proxy=hpvalue2"});
  CHECK(out_file(f, "o2", "out") == "hpvalue::hpvalue::npvalue::foocontents::::bazcontent");
  build_to(f, "o3", {"--build-arg", "FOO=foocontents2", "--build-arg", "http_proxy=hpvalue2"});
  CHECK(out_file(f, "o3", "out") == "hpvalue2::hpvalue2::::foocontents2::::bazcontent");
}

TEST_CASE("COPY --chmod sets files, directories and the parent directories it creates",
          "[integration][buildkit]") {
  // BuildKit testCopyChmod.
  BuildFixture f;
  f.file("foo", "foo-contents");
  f.file("bar", "bar-contents");
  f.file("Dockerfile", R"(FROM busybox:local AS base
RUN mkdir -m 0777 /out
COPY --chmod=0644 foo /
COPY --chmod=777 bar /baz
COPY --chmod=0 foo /foobis
COPY --chmod=777 foo /parent/foo
COPY --chmod=770 foo /parent/sub/foo
ARG mode
COPY --chmod=${mode} foo /footer
RUN stat -c "%04a" /foo /baz /foobis /parent /parent/sub /footer > /out/perms
FROM scratch
COPY --from=base /out /
)");
  build_to(f, "o", {"--build-arg", "mode=755"});
  CHECK(out_file(f, "o", "perms") == "0644\n0777\n0000\n0777\n0770\n0755\n");
}

TEST_CASE("ADD unpacks an archive through an absolute symlink of the base, inside the rootfs",
          "[integration][buildkit]") {
  BuildFixture f;
  f.file("Dockerfile", R"(FROM busybox:local
RUN mkdir -p /real && ln -s /real /link
ADD t.tar /
RUN cat /real/inner/file > /result && [ -L /link ]
)");
  std::string src = f.path("tarsrc");
  kiln::testutil::write_file(src + "/link/inner/file", "through the link\n");
  REQUIRE(run({"tar", "--owner=0", "--group=0", "-C", src, "-cf", f.ctx() + "/t.tar",
               "link/inner/file"})
              .exit_code == 0);
  build_to(f, "o");
  CHECK(out_file(f, "o", "result") == "through the link\n");
  CHECK(out_file(f, "o", "real/inner/file") == "through the link\n");
}

TEST_CASE("COPY and ADD --exclude leave out matching files, also below wildcard sources",
          "[integration][buildkit]") {
  // BuildKit testExcludedFilesOnCopy (the plain-directory half).
  BuildFixture f;
  const std::vector<std::pair<std::string, std::string>> files = {
      {"dir1/file-101.png", "2"}, {"dir1/file-102.txt", "3"},  {"dir1/file-103.jpeg", "4"},
      {"dir2/file-201.pdf", "6"}, {"dir2/file-202.jpeg", "7"}, {"dir2/file-203.png", "8"},
      {"dir3/file-301.mp3", "9"}, {"dir3/file-302.mpeg", "10"}};
  for (const auto& [name, text] : files) {
    f.file(name, text);
  }
  f.file("Dockerfile", R"(FROM scratch AS builder1
COPY --exclude=*/*.png --exclude=*/*.jpeg . /1
FROM scratch AS builder2
COPY --exclude=*/*.pdf --exclude=*/*.txt . /2
FROM scratch AS builder3
ADD --exclude=*.mp3 dir3/ /3/
FROM scratch AS builder4
COPY --exclude=*.mp3 --exclude=*.jpeg --exclude=*.png --exclude=*.pdf --exclude=*.txt dir* /4/
FROM scratch AS builder5
ADD --exclude=*.mp* --exclude=*.jpeg --exclude=*.png --exclude=*.pdf dir* /5
FROM scratch AS builder6
ADD --exclude=* dir* /6
FROM scratch
COPY --from=builder1 / /builder1
COPY --from=builder2 / /builder2
COPY --from=builder3 / /builder3
COPY --from=builder4 / /builder4
COPY --from=builder5 / /builder5
COPY --from=builder6 / /builder6
)");
  build_to(f, "o");
  const std::vector<std::pair<std::string, std::string>> kept = {
      {"builder1/1/dir1/file-102.txt", "3"},  {"builder1/1/dir2/file-201.pdf", "6"},
      {"builder1/1/dir3/file-301.mp3", "9"},  {"builder1/1/dir3/file-302.mpeg", "10"},
      {"builder2/2/dir1/file-101.png", "2"},  {"builder2/2/dir1/file-103.jpeg", "4"},
      {"builder2/2/dir2/file-202.jpeg", "7"}, {"builder2/2/dir2/file-203.png", "8"},
      {"builder2/2/dir3/file-301.mp3", "9"},  {"builder2/2/dir3/file-302.mpeg", "10"},
      {"builder3/3/file-302.mpeg", "10"},     {"builder4/4/file-302.mpeg", "10"},
      {"builder5/5/file-102.txt", "3"}};
  for (const auto& [name, text] : kept) {
    INFO(name);
    CHECK(out_file(f, "o", name) == text);
  }
  for (const char* gone :
       {"builder1/1/dir1/file-101.png", "builder1/1/dir1/file-103.jpeg",
        "builder1/1/dir2/file-202.jpeg", "builder1/1/dir2/file-203.png",
        "builder2/2/dir1/file-102.txt", "builder2/2/dir2/file-201.pdf", "builder3/3/file-301.mp3",
        "builder4/4/file-101.png", "builder4/4/file-102.txt", "builder4/4/file-301.mp3",
        "builder5/5/file-101.png", "builder5/5/file-302.mpeg", "builder5/5/file-301.mp3",
        "builder6/6/file-102.txt"}) {
    INFO(gone);
    CHECK(!exists(f.path("o") + "/" + gone));
  }
  Output ls = run({"ls", "-A", f.path("o") + "/builder6/6"});
  CHECK(ls.exit_code == 0);
  CHECK(ls.out.empty());
}

TEST_CASE("COPY --from takes a stage name from a global ARG", "[integration][buildkit]") {
  BuildFixture f;
  f.file("Dockerfile", R"(ARG SRC=first
FROM busybox:local AS first
RUN echo first > /which
FROM busybox:local AS second
RUN echo second > /which
FROM scratch
COPY --from=${SRC} /which /
)");
  build_to(f, "o1");
  CHECK(out_file(f, "o1", "which") == "first\n");
  build_to(f, "o2", {"--build-arg", "SRC=second"});
  CHECK(out_file(f, "o2", "which") == "second\n");
}

TEST_CASE("heredocs: COPY expands unquoted bodies and keeps quotes, RUN runs #! bodies",
          "[integration][buildkit]") {
  // BuildKit testHeredocVarSubstitution, testRunShebangHeredoc, testHeredocIndent,
  // testRunComplexHeredoc, testRunFakeHeredoc, testCopyHeredoc.
  BuildFixture f;
  f.file("Dockerfile",
         "FROM busybox:local AS build\n"
         "ARG name=world\n"
         "WORKDIR /dest\n"
         "COPY <<EOF c1\nHello ${name}! \"quoted\" 'single'\nEOF\n"
         "COPY <<'EOF' c2\nHello ${name}!\nEOF\n"
         "COPY <<\"EOF\" c3\nHello ${name}!\nEOF\n"
         "COPY <<EOF q1\nHello '${name}'!\nEOF\n"
         "COPY <<EOF q2\nHello \"${name}\"!\nEOF\n"
         "COPY <<'EOF' qsingle\nHello \"${name}\"!\nEOF\n"
         "COPY <<EOF slash1\n\\\nEOF\n"
         "COPY <<EOF slash2\n\\\\\nEOF\n"
         "COPY <<EOF slash3\n\\$\nEOF\n"
         "COPY <<\"EOF\" rawslash3\n\\$\nEOF\n"
         "COPY <<EOF <<EOF2 double/\nfirst file\nEOF\nsecond file\nEOF2\n"
         "COPY --chmod=777 <<EOF perm777\ndummy\nEOF\n"
         "COPY <<-EOF bar-copy\n\tbar\nEOF\n"
         "RUN <<EOF\ngreeting=\"Hello\"\necho \"${greeting} ${name}!\" > /dest/r1\nEOF\n"
         "RUN <<EOF\nname=\"new world\"\necho \"Hello ${name}!\" > /dest/r2\nEOF\n"
         "RUN <<EOF\n#!/bin/awk -f\nBEGIN {\n\tprint \"hello\" >> \"/dest/awk\"\n"
         "\tprint \"world\" >> \"/dest/awk\"\n}\nEOF\n"
         "RUN <<-EOF\n#!/bin/sh\necho \"\n\tbar\" > /dest/bar2-run\nEOF\n"
         "RUN cat <<EOF1 | tr '[:upper:]' '[:lower:]' > ./out1; \\\n"
         "\tcat <<EOF2 | tr '[:lower:]' '[:upper:]' > ./out2\nhello WORLD\nEOF1\n"
         "HELLO world\nEOF2\n"
         "RUN stat -c %04a perm777 > perms\n"
         "FROM busybox:local AS fake\n"
         "SHELL [\"/bin/awk\"]\n"
         "RUN <<EOF\nBEGIN {\n\tprint \"foo\" > \"/fake\"\n}\nEOF\n"
         "FROM scratch\n"
         "COPY --from=build /dest /\n"
         "COPY --from=fake /fake /\n");
  build_to(f, "o");
  CHECK(out_file(f, "o", "c1") == "Hello world! \"quoted\" 'single'\n");
  CHECK(out_file(f, "o", "c2") == "Hello ${name}!\n");
  CHECK(out_file(f, "o", "c3") == "Hello ${name}!\n");
  CHECK(out_file(f, "o", "q1") == "Hello 'world'!\n");
  CHECK(out_file(f, "o", "q2") == "Hello \"world\"!\n");
  CHECK(out_file(f, "o", "qsingle") == "Hello \"${name}\"!\n");
  CHECK(out_file(f, "o", "slash1") == "\n");
  CHECK(out_file(f, "o", "slash2") == "\\\n");
  CHECK(out_file(f, "o", "slash3") == "$\n");
  CHECK(out_file(f, "o", "rawslash3") == "\\$\n");
  CHECK(out_file(f, "o", "double/EOF") == "first file\n");
  CHECK(out_file(f, "o", "double/EOF2") == "second file\n");
  CHECK(out_file(f, "o", "perms") == "0777\n");
  CHECK(out_file(f, "o", "bar-copy") == "bar\n");
  CHECK(out_file(f, "o", "r1") == "Hello world!\n");
  CHECK(out_file(f, "o", "r2") == "Hello new world!\n");
  CHECK(out_file(f, "o", "awk") == "hello\nworld\n");
  CHECK(out_file(f, "o", "bar2-run") == "\nbar\n");
  CHECK(out_file(f, "o", "out1") == "hello world\n");
  CHECK(out_file(f, "o", "out2") == "HELLO WORLD\n");
  CHECK(out_file(f, "o", "fake") == "foo\n");
}

TEST_CASE("a RUN with a read-write mount of a stage is cached by the mounted content",
          "[integration][buildkit]") {
  // BuildKit testMountRWCache.
  BuildFixture f;
  f.file("cachebust", "0");
  f.file("Dockerfile", R"(FROM busybox:local AS build
COPY cachebust /
RUN mkdir out && echo foo > out/foo
FROM busybox:local AS second
RUN --mount=from=build,src=out,target=/out,rw head -c 100 /dev/urandom | sha256sum > /unique
FROM scratch
COPY --from=second /unique /unique
)");
  build_to(f, "o1");
  f.file("cachebust", "1");
  build_to(f, "o2");
  CHECK(out_file(f, "o1", "unique").size() > 64);
  CHECK(out_file(f, "o1", "unique") == out_file(f, "o2", "unique"));
}

TEST_CASE("RUN gets supplementary groups from /etc/group, for root too",
          "[integration][buildkit]") {
  // BuildKit testUser and testUserAdditionalGids.
  BuildFixture f;
  f.file("Dockerfile", R"(FROM busybox:local
RUN echo 'wheel:x:10:root' >> /etc/group && mkdir -m 0777 /out
RUN id > /out/default
USER root
RUN id > /out/root
RUN echo 'dockerio:x:1011:1011::/bin:/bin/false' >> /etc/passwd && \
    echo 'dockerio:x:1011:' >> /etc/group && echo 'supplementary:x:1012:dockerio' >> /etc/group
USER dockerio
RUN id > /out/dockerio
USER dockerio:supplementary
RUN id > /out/explicit
USER 1234
RUN id > /out/unknown
USER 1234:1234
RUN id > /out/numeric
)");
  build_to(f, "o");
  CHECK(out_file(f, "o", "out/default") == "uid=0(root) gid=0(root) groups=0(root),10(wheel)\n");
  CHECK(out_file(f, "o", "out/root") == "uid=0(root) gid=0(root) groups=0(root),10(wheel)\n");
  CHECK(out_file(f, "o", "out/dockerio") ==
        "uid=1011(dockerio) gid=1011(dockerio) groups=1011(dockerio),1012(supplementary)\n");
  CHECK(out_file(f, "o", "out/explicit") ==
        "uid=1011(dockerio) gid=1012(supplementary) groups=1012(supplementary)\n");
  CHECK(out_file(f, "o", "out/unknown") == "uid=1234 gid=0(root) groups=0(root)\n");
  CHECK(out_file(f, "o", "out/numeric") == "uid=1234 gid=1234 groups=1234\n");
}

TEST_CASE("TARGETSTAGE is the --target, else the last stage's name, else default",
          "[integration][buildkit]") {
  // BuildKit testTargetStageNameArg.
  BuildFixture f;
  std::string stages = R"(FROM busybox:local AS base
WORKDIR /out
RUN echo -n "value:$TARGETSTAGE" > /out/first
ARG TARGETSTAGE
RUN echo -n "value:$TARGETSTAGE" > /out/second
FROM scratch AS foo
COPY --from=base /out/ /
FROM scratch
COPY --from=base /out/ /
)";
  f.file("Dockerfile", stages);
  build_to(f, "o1", {"--target", "foo"});
  CHECK(out_file(f, "o1", "first") == "value:");
  CHECK(out_file(f, "o1", "second") == "value:foo");
  build_to(f, "o2");
  CHECK(out_file(f, "o2", "second") == "value:default");
  f.file("Dockerfile", stages + "FROM scratch AS final\nCOPY --from=base /out/ /\n");
  build_to(f, "o3");
  CHECK(out_file(f, "o3", "first") == "value:");
  CHECK(out_file(f, "o3", "second") == "value:final");
}

TEST_CASE("a RUN layer holds no /etc/hosts, /etc/hostname or /etc/resolv.conf stubs",
          "[integration][buildkit]") {
  BuildFixture f;
  f.file("Dockerfile", R"(FROM busybox:local
RUN rm /etc/group && echo made > /made
)");
  f.build_ok({"-t", "stubs:1"});
  std::string entries = last_layer_entries(f, "stubs:1");
  INFO(entries);
  CHECK(entries.find("made") != std::string::npos);
  CHECK(entries.find("etc/hosts") == std::string::npos);
  CHECK(entries.find("etc/hostname") == std::string::npos);
  CHECK(entries.find("etc/resolv.conf") == std::string::npos);
}
