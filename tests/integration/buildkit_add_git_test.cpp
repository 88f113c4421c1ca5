// ADD from a git repository (BuildKit's dockerfile_addgit_test.go: testAddGitSHA1,
// testAddGitSHA256, testAddGitChecksumCache, testGitQueryString's ADD half),
// against repositories the test makes and serves over git's dumb HTTP protocol on
// 127.0.0.1; and what a hostile git source may not do.
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <thread>

#include <catch2/catch.hpp>

#include "tests/integration/build_fixture.h"
#include "tests/integration/git_fixture.h"

using kiln::testutil::BuildFixture;
using kiln::testutil::git_rev;
using kiln::testutil::git_script;
using kiln::testutil::Output;
using kiln::testutil::read_file;
using kiln::testutil::StaticFileServer;

namespace {

/// BuildKit's repository of testAddGit: foo at three tagged commits.
void make_tagged_repo(const std::string& dir, const std::string& format) {
  std::string script = "git init -q -b master --object-format=" + format + " . && ";
  for (const char* tag : {"v0.0.1", "v0.0.2", "v0.0.3"}) {
    script += std::string("echo foo of ") + tag + " >foo && git add foo && git commit -qm " + tag +
              " && git tag " + tag + " && ";
  }
  git_script(dir, script + "git update-server-info");
}

Output build_dockerfile(const BuildFixture& f, const std::string& dockerfile,
                        std::vector<std::string> args = {}) {
  f.file("Dockerfile", dockerfile);
  return f.build(std::move(args));
}

}  // namespace

TEST_CASE("ADD of a git URL checks out the ref, with --keep-git-dir, --chown and --checksum",
          "[integration][buildkit]") {
  std::string format = GENERATE(as<std::string>{}, "sha1", "sha256");
  SECTION(format) {
    BuildFixture f;
    std::string repo = f.path("repo");
    make_tagged_repo(repo, format);
    std::string v2 = git_rev(repo, "v0.0.2");
    std::string v3 = git_rev(repo, "v0.0.3");
    REQUIRE(v2.size() == (format == "sha1" ? 40u : 64u));
    StaticFileServer server(repo);
    std::string url = server.url() + "/.git";

    // The basic case, and BuildKit's "complicated case" (ARG-expanded, kept .git).
    Output o = build_dockerfile(
        f,
        "FROM busybox:local\nADD " + url +
            "#v0.0.1 /x\n"
            "RUN cd /x && [ \"$(cat foo)\" = \"foo of v0.0.1\" ] && [ ! -e .git ]\n"
            "ARG REPO=\"" +
            url +
            "\"\nARG TAG=\"v0.0.2\"\n"
            "ADD --keep-git-dir=true --chown=4242:8484 --checksum=" +
            v2 +
            " ${REPO}#${TAG} /buildkit-chowned\nUSER 4242\n"
            "RUN cd /buildkit-chowned && [ \"$(cat foo)\" = \"foo of v0.0.2\" ] && "
            "[ \"$(stat -c %u foo)\" = \"4242\" ] && [ \"$(stat -c %g foo)\" = \"8484\" ] && "
            "[ -d .git ]\n"
            "FROM scratch\nCOPY --from=0 /buildkit-chowned /kept\n",
        {"-o", "type=local,dest=" + f.path("out1")});
    INFO(o.err);
    REQUIRE(o.exit_code == 0);
    // The kept .git is a clean checkout of the commit (BuildKit runs `git status -s`).
    Output st = kiln::testutil::run(
        {"git", "-c", "safe.directory=*", "-C", f.path("out1/kept"), "status", "-s"});
    CHECK(st.exit_code == 0);
    CHECK(st.out.empty());
    CHECK(read_file(f.path("out1/kept/.git/HEAD")) == v2 + "\n");

    // --checksum without --keep-git-dir: no .git.
    o = build_dockerfile(f, "FROM busybox:local\nADD --checksum=" + v3 + " " + url +
                                "#v0.0.3 /nogitdir\nRUN [ \"$(cat /nogitdir/foo)\" = \"foo of "
                                "v0.0.3\" ] && [ ! -d /nogitdir/.git ]\n");
    INFO(o.err);
    CHECK(o.exit_code == 0);

    // The commit itself as the ref, with the checksum.
    o = build_dockerfile(f, "FROM busybox:local\nARG COMMIT=" + v3 +
                                "\nADD --keep-git-dir --checksum=" + v3 + " " + url +
                                "#${COMMIT} /commitdir\nRUN [ \"$(cat /commitdir/foo)\" = \"foo "
                                "of v0.0.3\" ] && [ -d /commitdir/.git ]\n");
    INFO(o.err);
    CHECK(o.exit_code == 0);

    // A checksum of another commit, and one that is no commit name.
    o = build_dockerfile(
        f, "FROM busybox:local\nADD --checksum=" + v2 + " " + url + "#v0.0.3 /faildir\n");
    CHECK(o.exit_code != 0);
    CHECK(o.err.find("expected checksum to match") != std::string::npos);
    o = build_dockerfile(f,
                         "FROM busybox:local\nADD --checksum=foobar " + url + "#v0.0.3 /faildir\n");
    CHECK(o.exit_code != 0);
    CHECK(o.err.find("invalid checksum") != std::string::npos);
    CHECK(o.err.find("expected hex commit hash") != std::string::npos);
  }
}

TEST_CASE("ADD of a git ref is cached by its commit: --checksum hits, a moved ref misses",
          "[integration][buildkit]") {
  BuildFixture f;
  kiln::testutil::StepCounter counter;
  std::string repo = f.path("repo");
  make_tagged_repo(repo, "sha1");
  std::string v2 = git_rev(repo, "v0.0.2");
  StaticFileServer server(repo);
  std::string url = server.url() + "/.git";
  auto dockerfile = [&](const std::string& add_flags, const std::string& ref) {
    return "FROM busybox:local AS src\nADD --keep-git-dir " + add_flags + url + "#" + ref +
           " /repo\nRUN " + counter.hit("ran") +
           " && head -c 16 /dev/urandom | od -x > /repo/unique.txt\n"
           "FROM scratch\nCOPY --from=src /repo/unique.txt /repo/foo /\n";
  };
  // testAddGitChecksumCache: without, then with the checksum: one cache entry.
  f.file("Dockerfile", dockerfile("", "v0.0.2"));
  f.build_ok({"-o", "type=local,dest=" + f.path("out1")});
  f.file("Dockerfile", dockerfile("--checksum=" + v2 + " ", "v0.0.2"));
  f.build_ok({"-o", "type=local,dest=" + f.path("out2")});
  CHECK(counter.count("ran") == 1);
  CHECK(read_file(f.path("out1/unique.txt")) == read_file(f.path("out2/unique.txt")));

  // The branch moves: a miss, and the new commit's tree.
  f.file("Dockerfile", dockerfile("", "master"));
  f.build_ok({"-o", "type=local,dest=" + f.path("out3")});
  CHECK(counter.count("ran") == 2);
  git_script(repo, "echo moved >foo && git commit -qam moved && git update-server-info");
  f.build_ok({"-o", "type=local,dest=" + f.path("out4")});
  CHECK(counter.count("ran") == 3);
  CHECK(read_file(f.path("out4/foo")) == "moved\n");
  // Unchanged again: a hit.
  f.build_ok({"-o", "type=local,dest=" + f.path("out5")});
  CHECK(counter.count("ran") == 3);
}

TEST_CASE("ADD of a git URL takes BuildKit's query form (testGitQueryString, ADD half)",
          "[integration][buildkit]") {
  BuildFixture f;
  std::string repo = f.path("repo");
  git_script(repo,
             "git init -q -b master . && echo base >foo && git add foo && "
             "git commit -qm initial && git tag v0.0.1 && git branch base && "
             "echo feature >foo && mkdir sub && echo subfeature >sub/foo && git add foo sub && "
             "git commit -qm feature && git branch feature && git checkout -qB master base && "
             "echo v0.0.2 >foo && git add foo && git commit -qm v0.0.2 && git tag v0.0.2 && "
             "echo latest >foo && git add foo && git commit -qm latest && git tag latest && "
             "git update-server-info");
  std::string v2 = git_rev(repo, "v0.0.2");
  std::string latest = git_rev(repo, "latest");
  StaticFileServer server(repo);
  std::string u = server.url() + "/.git";
  struct Case {
    std::string name, url, out, err;
  };
  std::vector<Case> cases = {
      {"tag with invalid commit", u + "?tag=v0.0.2&commit=" + latest, "",
       "expected checksum to match"},
      {"old style ref", u + "#v0.0.2", "v0.0.2\n", ""},
      {"querystring ref", u + "?ref=base", "base\n", ""},
      {"querystring branch", u + "?branch=base", "base\n", ""},
      {"querystring invalid branch", u + "?branch=invalid", "", "repository does not contain ref"},
      {"tag as branch", u + "?branch=v0.0.2", "", "repository does not contain ref"},
      {"allowed mixed refs", u + "?tag=v0.0.2#refs/tags/v0.0.2", "v0.0.2\n", ""},
      {"v2 by commit", u + "?commit=" + v2, "v0.0.2\n", ""},
      {"v2 by commit (wrong short)", u + "?commit=" + v2.substr(0, 8), "",
       "expected checksum to match"},
      {"v2 by commit (short)", u + "?commit=" + latest.substr(0, 8), "latest\n", ""},
      {"v2 ref by commit", u + "?ref=" + v2, "v0.0.2\n", ""},
      {"v2 ref by commit (short)", u + "?ref=" + v2.substr(0, 8), "",
       "repository does not contain ref"},
      {"tag with commit", u + "?tag=v0.0.2&commit=" + v2, "v0.0.2\n", ""},
      {"commit with commit", u + "?ref=" + v2 + "&commit=" + v2, "v0.0.2\n", ""},
      {"latest with commit", u + "?commit=" + latest, "latest\n", ""},
      {"mismatch refs", u + "?tag=v0.0.2#refs/heads/master", "", "ref conflicts"},
      {"sub old-style", u + "#feature:sub", "subfeature\n", ""},
      {"sub query", u + "?subdir=sub&ref=feature", "subfeature\n", ""},
  };
  for (const Case& c : cases) {
    INFO(c.name);
    std::string dest = f.path("out-" + std::to_string(&c - cases.data()));
    Output o = build_dockerfile(f, "FROM scratch\nADD " + c.url + " /repo/\n",
                                {"-o", "type=local,dest=" + dest});
    INFO(o.err);
    if (!c.err.empty()) {
      CHECK(o.exit_code != 0);
      CHECK(o.err.find(c.err) != std::string::npos);
      continue;
    }
    REQUIRE(o.exit_code == 0);
    CHECK(read_file(dest + "/repo/foo") == c.out);
    CHECK(kiln::testutil::run({"test", "-e", dest + "/repo/.git"}).exit_code != 0);
  }
  int kept = 0;
  // The ADD translation of the "withgit" cases: ?keep-git-dir keeps .git at the commit.
  for (const auto& [query, head] :
       std::vector<std::pair<std::string, std::string>>{{"?keep-git-dir=true", latest},
                                                        {"?tag=v0.0.2&keep-git-dir=true", v2},
                                                        {"?keep-git-dir", latest}}) {
    std::string dest = f.path("kept" + std::to_string(kept++));
    Output o = build_dockerfile(f, "FROM scratch\nADD " + u + query + " /repo/\n",
                                {"-o", "type=local,dest=" + dest});
    INFO(query << "\n" << o.err);
    REQUIRE(o.exit_code == 0);
    CHECK(read_file(dest + "/repo/.git/HEAD") == head + "\n");
  }
  Output o = build_dockerfile(f, "FROM scratch\nADD " + u + "?keep-git-dir=false /repo/\n",
                              {"-o", "type=local,dest=" + f.path("nogit")});
  CHECK(o.exit_code == 0);
  CHECK(read_file(f.path("nogit/repo/.git/HEAD")).empty());
}

TEST_CASE("a hostile git source: options, links out of the repository, a server that hangs",
          "[integration][buildkit][hostile]") {
  BuildFixture f;
  std::string repo = f.path("repo");
  std::string marker = f.path("pwned");
  git_script(repo,
             "git init -q -b master . && echo hi >foo && ln -s /etc etc-link && "
             "ln -s ../../../../../../etc/passwd up-link && mkdir d && git add . && "
             "echo x > d/x && git add d && git commit -qm one && git update-server-info");
  StaticFileServer server(repo);
  std::string u = server.url() + "/.git";

  SECTION("a ref or remote that reads as an option never reaches git as one") {
    std::vector<std::string> sources = {u + "#--upload-pack=touch${IFS}" + marker,
                                        "-oProxyCommand=reboot@127.0.0.1:repo.git",
                                        u + "?ref=-delete"};
    for (const std::string& src : sources) {
      Output o = build_dockerfile(f, "FROM scratch\nADD " + src + " /repo/\n");
      INFO(o.err);
      CHECK(o.exit_code != 0);
      CHECK(o.err.find("may not start an option") != std::string::npos);
    }
    CHECK(read_file(marker).empty());
    CHECK(kiln::testutil::run({"test", "-e", marker}).exit_code != 0);
  }

  SECTION("links in the tree stay links; a subdir through a link stays in the repository") {
    Output o = build_dockerfile(f, "FROM scratch\nADD " + u + " /repo/\n",
                                {"-o", "type=local,dest=" + f.path("out")});
    INFO(o.err);
    REQUIRE(o.exit_code == 0);
    Output l =
        kiln::testutil::run({"readlink", f.path("out/repo/etc-link"), f.path("out/repo/up-link")});
    CHECK(l.out == "/etc\n../../../../../../etc/passwd\n");
    // "#master:etc-link" resolves /etc inside the checkout, where there is none.
    o = build_dockerfile(f, "FROM scratch\nADD " + u + "#master:etc-link /repo/\n",
                         {"-o", "type=local,dest=" + f.path("out2")});
    CHECK(o.exit_code != 0);
    CHECK(o.err.find("is not a directory") != std::string::npos);
    CHECK(kiln::testutil::run({"test", "-e", f.path("out2/repo/passwd")}).exit_code != 0);
  }

  SECTION("Ctrl-C stops a build whose git server never answers") {
    server.hang();
    f.file("Dockerfile", "FROM scratch\nADD " + u + "#master /repo/\n");
    pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
      int fd = ::open(f.path("err.log").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      ::dup2(fd, 2);
      ::execl(KILN_BINARY, KILN_BINARY, "--root", f.root().c_str(), "build", "--progress=plain",
              f.ctx().c_str(), static_cast<char*>(nullptr));
      ::_exit(127);
    }
    for (int i = 0; i < 600 && server.requests() == 0; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    REQUIRE(server.requests() > 0);
    ::kill(pid, SIGINT);
    // Liveness, not speed: the build must end by itself within a minute.
    int status = 0;
    pid_t done = 0;
    for (int i = 0; i < 1200 && done == 0; ++i) {
      done = ::waitpid(pid, &status, WNOHANG);
      if (done == 0) {
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
      }
    }
    if (done == 0) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, &status, 0);
      FAIL("kiln build did not stop on SIGINT while git hung: " << read_file(f.path("err.log")));
    }
    CHECK(!(WIFEXITED(status) && WEXITSTATUS(status) == 0));
    // No git (or its remote helper) is left talking to the server.
    CHECK(kiln::testutil::run({"pgrep", "-f", server.url() + "/"}).exit_code == 1);
  }
}

TEST_CASE(
    "COPY --exclude from a stage made by ADD of a git repository (testExcludedFilesOnCopy, "
    "git half)",
    "[integration][buildkit]") {
  BuildFixture f;
  std::string repo = f.path("repo");
  git_script(repo,
             "mkdir dir1 dir2 dir3 && printf 2 >dir1/file-101.png && printf 3 >dir1/file-102.txt "
             "&& printf 4 >dir1/file-103.jpeg && printf 6 >dir2/file-201.pdf && "
             "printf 7 >dir2/file-202.jpeg && printf 8 >dir2/file-203.png && "
             "printf 9 >dir3/file-301.mp3 && printf 10 >dir3/file-302.mpeg && git init -q . && "
             "git add . && git commit -qm 0.1 && git tag 0.1 && git update-server-info");
  StaticFileServer server(repo);
  Output o = build_dockerfile(
      f,
      "FROM scratch AS base\nARG REPO=\"" + server.url() +
          "/.git\"\nARG TAG=\"0.1\"\nADD --keep-git-dir=true ${REPO}#${TAG} /\n"
          "FROM scratch as builder1\nCOPY --from=base --exclude=*/*.png --exclude=*/*.jpeg . /1\n"
          "FROM scratch as builder3\nCOPY --from=base --exclude=*.mp3 dir3/ /3/\n"
          "FROM scratch as builder5\nCOPY --from=base --exclude=*.mp* --exclude=*.jpeg "
          "--exclude=*.png --exclude=*.pdf dir* /5\n"
          "FROM scratch as builder6\nCOPY --from=base --exclude=* dir* /6\n"
          "FROM scratch\nCOPY --from=builder1 / /builder1\nCOPY --from=builder3 / /builder3\n"
          "COPY --from=builder5 / /builder5\nCOPY --from=builder6 / /builder6\n",
      {"-o", "type=local,dest=" + f.path("out")});
  INFO(o.err);
  REQUIRE(o.exit_code == 0);
  auto has = [&](const std::string& rel) {
    return kiln::testutil::run({"test", "-e", f.path("out/" + rel)}).exit_code == 0;
  };
  CHECK(!has("builder1/1/dir1/file-101.png"));
  CHECK(read_file(f.path("out/builder1/1/dir1/file-102.txt")) == "3");
  CHECK(!has("builder1/1/dir2/file-202.jpeg"));
  CHECK(read_file(f.path("out/builder1/1/dir2/file-201.pdf")) == "6");
  CHECK(has("builder1/1/.git/HEAD"));
  CHECK(!has("builder3/3/file-301.mp3"));
  CHECK(read_file(f.path("out/builder3/3/file-302.mpeg")) == "10");
  CHECK(read_file(f.path("out/builder5/5/file-102.txt")) == "3");
  CHECK(!has("builder5/5/file-302.mpeg"));
  CHECK(!has("builder5/5/file-201.pdf"));
  CHECK(kiln::testutil::run({"sh", "-c", "ls -A " + f.path("out/builder6/6") + " | wc -l"}).out ==
        "0\n");
}
