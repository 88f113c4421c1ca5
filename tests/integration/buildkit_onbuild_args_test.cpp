// More behaviour that BuildKit's frontend integration tests assert: ARG and ENV
// edge cases, symlinks met by ADD and by the Dockerfile itself, ONBUILD across
// stages and images, bind mounts of the context. See BUILDKIT_TESTS.md.

#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include "tests/integration/build_fixture.h"

using kiln::testutil::BuildFixture;
using kiln::testutil::Output;
using kiln::testutil::run;

TEST_CASE("ARG and ENV edge cases: defaults, trims, empty values, % in values",
          "[integration][buildkit]") {
  // BuildKit testDefaultEnvWithArgs, testEmptyStringArgInEnv, testEnvEmptyFormatting,
  // testIgnoreEntrypoint.
  BuildFixture f;
  f.file("myscript.sh", "\n#!/usr/bin/env sh\necho -n $my_arg $* > /out\n");
  REQUIRE(::chmod((f.ctx() + "/myscript.sh").c_str(), 0700) == 0);
  f.file("Dockerfile", R"(ARG image=idlebox
FROM busy${image#idle}:local AS build
ENTRYPOINT ["/nosuchcmd"]
ARG FOO
ARG BAR=
RUN env > /env.txt
ENV myenv foo%sbar
RUN [ "$myenv" = 'foo%sbar' ]
ARG my_arg
ENV my_arg "my_arg=${my_arg:-def_val}"
ENV my_trimmed_arg "${my_arg%%e*}"
COPY myscript.sh myscript.sh
RUN ./myscript.sh $my_arg $my_trimmed_arg
FROM scratch
COPY --from=build /out /env.txt /
)");
  build_to(f, "o1");
  CHECK(out_file(f, "o1", "out") == "my_arg=def_val my_arg=def_val my_arg=d");
  std::string env = out_file(f, "o1", "env.txt");
  CHECK(env.find("\nBAR=\n") != std::string::npos);
  CHECK(env.find("FOO=") == std::string::npos);
  build_to(f, "o2", {"--build-arg", "my_arg="});
  CHECK(out_file(f, "o2", "out") == "my_arg=def_val my_arg=def_val my_arg=d");
  build_to(f, "o3", {"--build-arg", "my_arg=override"});
  CHECK(out_file(f, "o3", "out") == "my_arg=override my_arg=override my_arg=ov");
}

TEST_CASE("COPY follows a relative symlink that an ADDed archive made", "[integration][buildkit]") {
  // BuildKit testSymlinkDestination.
  BuildFixture f;
  f.file("foo", "content0");
  std::string src = f.path("tarsrc");
  REQUIRE(run({"mkdir", "-p", src}).exit_code == 0);
  REQUIRE(::symlink("../tmp/symlink-target", (src + "/symlink").c_str()) == 0);
  REQUIRE(run({"tar", "-C", src, "-cf", f.ctx() + "/t.tar", "symlink"}).exit_code == 0);
  f.file("Dockerfile", "FROM scratch\nADD t.tar /\nCOPY foo /symlink/\n");
  build_to(f, "o");
  CHECK(out_file(f, "o", "tmp/symlink-target/foo") == "content0");
}

TEST_CASE("a Dockerfile that is a symlink builds", "[integration][buildkit]") {
  // BuildKit testSymlinkedDockerfile.
  BuildFixture f;
  f.file("Dockerfile.web", "FROM scratch\nENV foo bar\nCOPY Dockerfile.web /\n");
  REQUIRE(::symlink("Dockerfile.web", (f.ctx() + "/Dockerfile").c_str()) == 0);
  build_to(f, "o");
  CHECK(out_file(f, "o", "Dockerfile.web").find("ENV foo bar") != std::string::npos);
}

TEST_CASE("a lowercase dockerfile is read when there is no Dockerfile", "[integration][buildkit]") {
  // BuildKit testDockerfileLowercase.
  BuildFixture f;
  f.file("dockerfile", "FROM scratch\nCOPY dockerfile /lower\n");
  build_to(f, "o");
  CHECK(out_file(f, "o", "lower") == "FROM scratch\nCOPY dockerfile /lower\n");
}

TEST_CASE("ONBUILD triggers run in stages built FROM a stage, with COPY --from",
          "[integration][buildkit]") {
  // BuildKit testOnBuildInheritedStageRun and testOnBuildInheritedStageWithFrom.
  BuildFixture f;
  f.file("Dockerfile", R"(FROM busybox:local AS src
RUN mkdir -p /in && echo -n 12 > /in/file
FROM busybox:local AS base
ONBUILD RUN mkdir -p /out && echo -n 11 >> /out/foo
ONBUILD COPY --from=src /in/file /out/fromsrc
FROM base AS mid
RUN cp /out/foo /out/bar
FROM scratch
COPY --from=mid /out/bar /out/fromsrc /
)");
  build_to(f, "o");
  CHECK(out_file(f, "o", "bar") == "11");
  CHECK(out_file(f, "o", "fromsrc") == "12");
}

TEST_CASE("ONBUILD of an image runs once: not again in its child's children or stages",
          "[integration][buildkit]") {
  // BuildKit testOnBuildCleared, testOnBuildWithChildStage, testOnBuildHeredoc and
  // testOnBuildWithCacheMount, with images in the local store instead of a registry.
  BuildFixture f;
  f.file("Dockerfile",
         "FROM busybox:local\n"
         "ONBUILD RUN mkdir -p /out && echo -n 11 >> /out/foo\n"
         "ONBUILD RUN <<EOF\necho \"hello world\" >> /out/heredoc\nEOF\n"
         "ONBUILD RUN --mount=type=cache,target=/cache echo -n 42 >> /cache/foo\n");
  f.build_ok({"-t", "onb:base"});
  f.file("Dockerfile", "FROM onb:base\n");
  f.build_ok({"-t", "onb:child"});
  f.file("Dockerfile", R"DF(FROM onb:child AS base
RUN [ "$(cat /out/foo)" = "11" ] && touch /step1
FROM base AS child
RUN [ "$(cat /out/foo)" = "11" ] && touch /step2
RUN --mount=type=cache,target=/cache cp /cache/foo /cached
FROM scratch
COPY --from=child /out/ /step* /cached /
)DF");
  build_to(f, "o");
  CHECK(out_file(f, "o", "foo") == "11");
  CHECK(out_file(f, "o", "heredoc") == "hello world\n");
  CHECK(out_file(f, "o", "cached") == "42");
  CHECK(out_file(f, "o", "step1").empty());
  CHECK(out_file(f, "o", "step2").empty());
  struct stat st {};
  CHECK(::stat(f.path("o/step2").c_str(), &st) == 0);
}

TEST_CASE("two bind mounts of the context see its current files on each build",
          "[integration][buildkit]") {
  // BuildKit testMountDuplicate.
  BuildFixture f;
  f.file("Dockerfile", R"(FROM busybox:local AS base
RUN --mount=source=.,target=/tmp/test \
  --mount=source=b.txt,target=/tmp/b.txt \
  cat /tmp/test/a.txt /tmp/b.txt > /combined.txt
FROM scratch
COPY --from=base /combined.txt /
)");
  f.file("b.txt", "bar\n");
  for (const char* text : {"foo\n", "updated\n"}) {
    f.file("a.txt", text);
    build_to(f, std::string("o-") + text[0]);
    CHECK(out_file(f, std::string("o-") + text[0], "combined.txt") == std::string(text) + "bar\n");
  }
}

TEST_CASE("COPY --parents keeps the path below /./ and matches ** across directories",
          "[integration][buildkit]") {
  // BuildKit testCopyRelativeParents.
  BuildFixture f;
  f.file("Dockerfile", R"(FROM busybox:local AS base
WORKDIR /test
RUN mkdir -p a/b/c/d/e a/b2/c/d/e a/b/c2/d/e a/b/c2/d/e2 && touch a/b/c/d/foo a/b/c/d/e/bay \
    a/b2/c/d/e/bar a/b/c2/d/e/baz a/b/c2/d/e2/baz
FROM scratch AS middle
COPY --from=base --parents /test/a/b/./c/d /out/
FROM scratch AS end
COPY --from=base --parents /test/a/b/c/d/. /out/
FROM scratch AS double
COPY --from=base --parents /test/a/./b/./c /out/
FROM scratch AS wildcard
COPY --from=base --parents /test/a/./*/c /out/
FROM scratch AS doublewildcard
COPY --from=base --parents /test/a/b*/./c/**/e /out/
FROM scratch AS doubleinputs
COPY --from=base --parents /test/a/b/c*/./d/**/baz /test/a/b*/./c/**/bar /out/
FROM scratch
COPY --from=middle / /middle/
COPY --from=end / /end/
COPY --from=double / /double/
COPY --from=wildcard / /wildcard/
COPY --from=doublewildcard / /doublewildcard/
COPY --from=doubleinputs / /doubleinputs/
)");
  build_to(f, "o");
  auto has = [&](const std::string& rel) {
    struct stat st {};
    return ::lstat((f.path("o") + "/" + rel).c_str(), &st) == 0;
  };
  CHECK(has("middle/out/c/d/e"));
  CHECK(has("middle/out/c/d/foo"));
  CHECK(!has("middle/out/a"));
  CHECK(!has("middle/out/e"));
  CHECK(has("end/out/test/a/b/c/d/e"));
  CHECK(has("end/out/test/a/b/c/d/foo"));
  CHECK(has("double/out/b/c/d/e"));
  CHECK(has("double/out/b/c/d/foo"));
  CHECK(has("wildcard/out/b/c/d/e"));
  CHECK(has("wildcard/out/b2/c/d/e/bar"));
  CHECK(has("doublewildcard/out/c/d/e/bay"));
  CHECK(has("doublewildcard/out/c/d/e/bar"));
  CHECK(has("doubleinputs/out/d/e/baz"));
  CHECK(!has("doubleinputs/out/d/e/bay"));
  CHECK(has("doubleinputs/out/d/e2/baz"));
  CHECK(has("doubleinputs/out/c/d/e/bar"));
}

TEST_CASE("a --no-cache build starts cache mounts empty, the next build sees what it left",
          "[integration][buildkit]") {
  // BuildKit testCacheMountModeNoCache.
  BuildFixture f;
  f.file("Dockerfile", R"(FROM busybox:local AS base
ARG FOO=abc
RUN --mount=type=cache,target=/cache,mode=0773 touch /cache/$FOO && ls -l /cache | wc -l > /out
FROM scratch
COPY --from=base /out /
)");
  build_to(f, "o1");
  CHECK(out_file(f, "o1", "out") == "2\n");
  build_to(f, "o2", {"--no-cache", "--build-arg", "FOO=def"});
  CHECK(out_file(f, "o2", "out") == "2\n");
  build_to(f, "o3", {"--build-arg", "FOO=ghi"});
  CHECK(out_file(f, "o3", "out") == "3\n");
}

TEST_CASE("a renamed file no longer matches a wildcard COPY: the cached steps are not reused",
          "[integration][buildkit]") {
  // BuildKit testWildcardRenameCache.
  BuildFixture f;
  f.file("Dockerfile", "FROM busybox:local\nCOPY file* /files/\nRUN ls /files/file1\n");
  f.file("file1", "foo");
  f.build_ok({});
  REQUIRE(::rename(f.path("ctx/file1").c_str(), f.path("ctx/file2").c_str()) == 0);
  Output o = f.build({});
  CHECK(o.exit_code == 1);
  CHECK(o.err.find("ls: /files/file1: No such file or directory") != std::string::npos);
}

TEST_CASE("COPY corner cases: empty or '.' destination, unicode names, copying twice",
          "[integration][buildkit]") {
  // BuildKit testCopyEmptyDestDir, testCopyLinkEmptyDestDir, testCopyLinkDotDestDir,
  // testCopyUnicodePath, testCopyOverrideFiles and testCopyVarSubstitution.
  BuildFixture f;
  f.file("testfile", "contents0");
  f.file("test-\xc3\xa4\xc3\xb6\xc3\xbc.txt", "foo");
  f.file("test-%C3%A4%C3%B6%C3%BC.txt", "bar");
  f.file("test+aou.txt", "baz");
  f.file("sub/dir1/dir2/foo", "foo-contents");
  f.file("files/foo.go", "foo.go-contents");
  f.file("Dockerfile", R"DF(FROM busybox:local AS base
WORKDIR /var/www
ENV empty=""
COPY testfile $empty
COPY --link testfile linked/
COPY --link testfile .
RUN [ "$(cat testfile)" = "contents0" ] && [ "$(cat linked/testfile)" = "contents0" ]
FROM scratch
COPY --from=base /var/www /www
COPY test-äöü.txt /
COPY test-%C3%A4%C3%B6%C3%BC.txt /
COPY test+aou.txt /
COPY sub sub
COPY sub sub
COPY files/foo.go dest/foo.go
COPY files/foo.go dest/foo.go
COPY files dest
ENV FOO testfile
COPY $FOO baz
)DF");
  build_to(f, "o");
  CHECK(out_file(f, "o", "www/testfile") == "contents0");
  CHECK(out_file(f, "o", "test-\xc3\xa4\xc3\xb6\xc3\xbc.txt") == "foo");
  CHECK(out_file(f, "o", "test-%C3%A4%C3%B6%C3%BC.txt") == "bar");
  CHECK(out_file(f, "o", "test+aou.txt") == "baz");
  CHECK(out_file(f, "o", "sub/dir1/dir2/foo") == "foo-contents");
  CHECK(out_file(f, "o", "dest/foo.go") == "foo.go-contents");
  CHECK(out_file(f, "o", "baz") == "contents0");
}
