// `kiln build` end to end on the busybox base with real runc: instructions,
// cache hits (counted by a loopback server the RUN steps call), one-file edits,
// unused stages, parallel stages, mounts, secrets, reproducibility, errors.

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "tests/integration/build_fixture.h"

using kiln::testutil::BuildFixture;
using kiln::testutil::Output;
using kiln::testutil::run;
using kiln::testutil::StepCounter;

namespace {

std::string image_id(const BuildFixture& f, const std::string& ref) {
  return inspect(f, ref)["Id"].get<std::string>();
}

bool exists(const std::string& path) {
  struct stat st {};
  return ::lstat(path.c_str(), &st) == 0;
}

// Mount points under `root` still listed in /proc/mounts.
int mounts_under(const std::string& root) {
  std::ifstream in("/proc/mounts");
  std::string line;
  int n = 0;
  while (std::getline(in, line)) {
    n += line.find(root) != std::string::npos ? 1 : 0;
  }
  return n;
}

}  // namespace

TEST_CASE("every instruction builds into the image config, and a rebuild runs nothing",
          "[integration][build]") {
  BuildFixture f;
  StepCounter counter;
  f.file("app.txt", "app\n");
  f.file("Dockerfile", R"(# syntax=docker/dockerfile:1
ARG BASE=busybox:local
FROM ${BASE} AS base
MAINTAINER kiln tests
LABEL org.example.name="demo app" version=1
ENV APP_HOME=/srv/app PATH=/usr/local/bin:/usr/bin:/bin
ARG GREETING=hello
WORKDIR $APP_HOME
COPY app.txt ./
ADD app.txt /opt/added.txt
RUN )" + counter.hit("run1") +
                           R"( && echo "$GREETING" > greeting.txt
RUN <<EOF
)" + counter.hit("heredoc") +
                           R"(
echo from-heredoc > heredoc.txt
EOF
USER app
EXPOSE 8080/tcp 53/udp
VOLUME /data
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=5s --timeout=2s --retries=2 CMD true
SHELL ["/bin/sh", "-e", "-c"]
ONBUILD RUN echo child
ENTRYPOINT ["/bin/sh", "-c"]
CMD ["cat /srv/app/greeting.txt"]
)");
  f.build_ok({"-t", "demo:1", "--build-arg", "GREETING=hi"});
  CHECK(counter.count("run1") == 1);
  CHECK(counter.count("heredoc") == 1);

  auto cfg = inspect(f, "demo:1")["Config"];
  // BuildKit puts the default PATH first; ENV PATH replaces it in place.
  CHECK(cfg["Env"] == nlohmann::json({"PATH=/usr/local/bin:/usr/bin:/bin", "APP_HOME=/srv/app"}));
  CHECK(cfg["WorkingDir"] == "/srv/app");
  CHECK(cfg["User"] == "app");
  CHECK(cfg["Labels"]["org.example.name"] == "demo app");
  CHECK(cfg["Labels"]["version"] == "1");
  CHECK(cfg["ExposedPorts"].contains("8080/tcp"));
  CHECK(cfg["ExposedPorts"].contains("53/udp"));
  CHECK(cfg["Volumes"].contains("/data"));
  CHECK(cfg["StopSignal"] == "SIGTERM");
  CHECK(cfg["Healthcheck"]["Test"] == nlohmann::json({"CMD-SHELL", "true"}));
  CHECK(cfg["Shell"] == nlohmann::json({"/bin/sh", "-e", "-c"}));
  CHECK(cfg["OnBuild"] == nlohmann::json({"RUN echo child"}));
  CHECK(cfg["Entrypoint"] == nlohmann::json({"/bin/sh", "-c"}));
  CHECK(cfg["Cmd"] == nlohmann::json({"cat /srv/app/greeting.txt"}));

  f.build_ok({"-o", "type=local,dest=" + f.path("out"), "--build-arg", "GREETING=hi"});
  CHECK(out_file(f, "out", "srv/app/greeting.txt") == "hi\n");
  CHECK(out_file(f, "out", "srv/app/app.txt") == "app\n");
  CHECK(out_file(f, "out", "opt/added.txt") == "app\n");
  CHECK(out_file(f, "out", "srv/app/heredoc.txt") == "from-heredoc\n");

  // The same build again: every step from the cache, nothing runs, same image.
  std::string id = image_id(f, "demo:1");
  Output second = f.build_ok({"-t", "demo:1", "--build-arg", "GREETING=hi"});
  CHECK(counter.count("run1") == 1);
  CHECK(counter.count("heredoc") == 1);
  CHECK(second.err.find("CACHED") != std::string::npos);
  CHECK(image_id(f, "demo:1") == id);

  // A changed build arg used by the RUN re-runs it (and what follows).
  f.build_ok({"-t", "demo:2", "--build-arg", "GREETING=bye"});
  CHECK(counter.count("run1") == 2);
  CHECK(counter.count("heredoc") == 2);

  // --no-cache runs everything again.
  f.build_ok({"--no-cache", "--build-arg", "GREETING=hi"});
  CHECK(counter.count("run1") == 3);
}

TEST_CASE("a one-file edit re-runs only the steps that read it, unused stages never run",
          "[integration][build]") {
  BuildFixture f;
  StepCounter counter;
  f.file("a.txt", "a1\n");
  f.file("b.txt", "b1\n");
  f.file("unused.txt", "u1\n");
  f.file("Dockerfile", "FROM busybox:local AS unused\nCOPY unused.txt /\nRUN " +
                           counter.hit("unused") + "\nFROM busybox:local\nCOPY a.txt /\nRUN " +
                           counter.hit("a") + "\nCOPY b.txt /\nRUN " + counter.hit("b") + "\n");
  f.build_ok({"-t", "edit:1"});
  CHECK(counter.count("a") == 1);
  CHECK(counter.count("b") == 1);
  CHECK(counter.count("unused") == 0);

  f.file("b.txt", "b2\n");
  f.build_ok({"-t", "edit:1"});
  CHECK(counter.count("a") == 1);
  CHECK(counter.count("b") == 2);

  // mtime alone never counts.
  REQUIRE(run({"touch", "-d", "2001-01-01", f.ctx() + "/a.txt"}).exit_code == 0);
  f.build_ok({"-t", "edit:1"});
  CHECK(counter.count("a") == 1);
  CHECK(counter.count("b") == 2);

  // A change in the unused stage rebuilds nothing.
  std::string id = image_id(f, "edit:1");
  f.file("unused.txt", "u2\n");
  f.build_ok({"-t", "edit:1"});
  CHECK(counter.count("unused") == 0);
  CHECK(counter.count("a") == 1);
  CHECK(counter.count("b") == 2);
  CHECK(image_id(f, "edit:1") == id);

  // --target builds the named stage only.
  f.build_ok({"--target", "unused", "-t", "edit:unused"});
  CHECK(counter.count("unused") == 1);
  CHECK(counter.count("a") == 1);
}

TEST_CASE("independent stages run at the same time", "[integration][build]") {
  BuildFixture f;
  StepCounter counter;
  auto stage = [&](const std::string& n) {
    return "FROM busybox:local AS " + n + "\nRUN " + counter.hit(n + "-start") + " && sleep 1 && " +
           counter.hit(n + "-end") + " && echo " + n + " > /" + n + "\n";
  };
  f.file("Dockerfile", stage("one") + stage("two") +
                           "FROM busybox:local\nCOPY --from=one /one /\nCOPY --from=two /two /\n");
  f.build_ok({"-o", "type=local,dest=" + f.path("out")});
  CHECK(out_file(f, "out", "one") == "one\n");
  CHECK(out_file(f, "out", "two") == "two\n");
  auto s1 = counter.times("one-start"), e1 = counter.times("one-end");
  auto s2 = counter.times("two-start"), e2 = counter.times("two-end");
  REQUIRE(s1.size() == 1);
  REQUIRE(s2.size() == 1);
  REQUIRE(e1.size() == 1);
  REQUIRE(e2.size() == 1);
  // The intervals overlap: each started before the other ended.
  CHECK(s1[0] < e2[0]);
  CHECK(s2[0] < e1[0]);
}

TEST_CASE("RUN mounts: cache persists, bind reads stages and context, tmpfs leaves nothing",
          "[integration][build]") {
  BuildFixture f;
  f.file("data/input.txt", "from-context\n");
  f.file("Dockerfile", R"(FROM busybox:local AS helper
RUN echo from-stage > /made.txt
FROM busybox:local
ARG BUST
RUN --mount=type=cache,target=/cache,id=c1 sh -c 'echo x >> /cache/log && wc -l < /cache/log > /count'
RUN --mount=type=bind,from=helper,source=/made.txt,target=/m.txt cat /m.txt > /copied.txt
RUN --mount=type=bind,source=data,target=/ctx cat /ctx/input.txt > /ctx-copy.txt
RUN --mount=type=tmpfs,target=/scratch sh -c 'echo temp > /scratch/t && cat /scratch/t > /tmpfs-ok'
)");
  f.build_ok({"-o", "type=local,dest=" + f.path("out1")});
  CHECK(out_file(f, "out1", "count") == "1\n");
  CHECK(out_file(f, "out1", "copied.txt") == "from-stage\n");
  CHECK(out_file(f, "out1", "ctx-copy.txt") == "from-context\n");
  CHECK(out_file(f, "out1", "tmpfs-ok") == "temp\n");
  CHECK(!exists(f.path("out1") + "/scratch/t"));
  CHECK(!exists(f.path("out1") + "/cache/log"));
  // The cache mount keeps its contents across builds (the RUN runs again because
  // BUST changes; --no-cache would start it empty, as BuildKit does).
  f.build_ok({"--build-arg", "BUST=2", "-o", "type=local,dest=" + f.path("out2")});
  CHECK(out_file(f, "out2", "count") == "2\n");
}

TEST_CASE("secrets are readable in RUN and absent from layers and history",
          "[integration][build]") {
  BuildFixture f;
  const std::string secret = "s3cr3t-value-8c1f";
  kiln::testutil::write_file(f.path("secret.txt"), secret);
  f.file("Dockerfile", R"DF(FROM busybox:local
RUN --mount=type=secret,id=token sh -c 'test "$(wc -c < /run/secrets/token)" -eq 17 && echo ok > /checked'
RUN --mount=type=secret,id=envtok,env=TOKEN sh -c 'test "${#TOKEN}" -eq 14 && echo ok > /checked-env'
)DF");
  std::vector<std::string> secrets = {"--secret", "id=token,src=" + f.path("secret.txt"),
                                      "--secret", "id=envtok,env=KILN_TEST_TOKEN"};
  std::vector<std::string> args = {"-t", "sec:1"};
  args.insert(args.end(), secrets.begin(), secrets.end());
  f.build_ok(args, {"KILN_TEST_TOKEN=env-s3cr3t-42x"});
  Output save = kiln::testutil::kiln(f.root(), {"save", "-o", f.path("img.tar"), "sec:1"});
  REQUIRE(save.exit_code == 0);
  REQUIRE(run({"mkdir", "-p", f.path("x")}).exit_code == 0);
  REQUIRE(run({"tar", "-xf", f.path("img.tar"), "-C", f.path("x")}).exit_code == 0);
  // Every blob, decompressed when it is gzip: no secret bytes anywhere.
  Output grep = run({"sh", "-c",
                     "cd " + f.path("x") +
                         " && for b in $(find . -type f); do (gzip -dc $b 2>/dev/null || cat $b); "
                         "done | grep -c -a -e s3cr3t-value -e env-s3cr3t || true"});
  CHECK(grep.out == "0\n");
  Output history = kiln::testutil::kiln(f.root(), {"history", "--no-trunc", "sec:1"});
  REQUIRE(history.exit_code == 0);
  CHECK(history.out.find(secret) == std::string::npos);
  CHECK(history.out.find("env-s3cr3t") == std::string::npos);
  args = {"-o", "type=local,dest=" + f.path("out")};
  args.insert(args.end(), secrets.begin(), secrets.end());
  f.build_ok(args, {"KILN_TEST_TOKEN=env-s3cr3t-42x"});
  CHECK(out_file(f, "out", "checked") == "ok\n");
  CHECK(out_file(f, "out", "checked-env") == "ok\n");
  CHECK(!exists(f.path("out") + "/run/secrets/token"));
}

TEST_CASE("SOURCE_DATE_EPOCH gives the same image in two fresh stores", "[integration][build]") {
  BuildFixture a;
  BuildFixture b;
  std::string dockerfile =
      "FROM busybox:local\nCOPY f.txt /f.txt\nRUN echo built > /built && mkdir -p /d/e\nENV X=1\n";
  for (const BuildFixture* f : {&a, &b}) {
    f->file("Dockerfile", dockerfile);
    f->file("f.txt", "same\n");
  }
  // Different mtimes after the epoch do not matter: both are clamped to it.
  REQUIRE(run({"touch", "-d", "2025-05-05", b.ctx() + "/f.txt"}).exit_code == 0);
  a.build_ok({"-t", "repro:1", "--iidfile", a.path("iid"), "--metadata-file", a.path("meta.json")},
             {"SOURCE_DATE_EPOCH=1700000000"});
  b.build_ok(
      {"-t", "repro:1", "--build-arg", "SOURCE_DATE_EPOCH=1700000000", "--iidfile", b.path("iid")});
  std::string id = kiln::testutil::read_file(a.path("iid"));
  CHECK(id.rfind("sha256:", 0) == 0);
  CHECK(id == kiln::testutil::read_file(b.path("iid")));
  auto meta = nlohmann::json::parse(kiln::testutil::read_file(a.path("meta.json")));
  CHECK(meta["containerimage.config.digest"] == id);
  CHECK(meta["containerimage.digest"].get<std::string>().rfind("sha256:", 0) == 0);
  CHECK(inspect(a, "repro:1")["Created"] == "2023-11-14T22:13:20Z");
  // -q prints only the image ID.
  Output q = run({KILN_BINARY, "--root", a.root(), "build", "-q", a.ctx()}, "",
                 {"SOURCE_DATE_EPOCH=1700000000"});
  REQUIRE(q.exit_code == 0);
  CHECK(q.out == id + "\n");
}

TEST_CASE("outputs: docker and oci archives that skopeo reads, rootfs tar",
          "[integration][build]") {
  BuildFixture f;
  f.file("Dockerfile", "FROM busybox:local\nRUN echo out > /out.txt\n");
  f.build_ok({"-t", "outs:1", "--output", "type=docker,dest=" + f.path("d.tar"), "--output",
              "type=oci,dest=" + f.path("o.tar"), "--output", "type=tar,dest=" + f.path("fs.tar")});
  Output sk = run({"skopeo", "inspect", "docker-archive:" + f.path("d.tar")});
  INFO(sk.err);
  CHECK(sk.exit_code == 0);
  Output oci = run({"skopeo", "inspect", "oci-archive:" + f.path("o.tar")});
  INFO(oci.err);
  CHECK(oci.exit_code == 0);
  Output list = run({"tar", "-tf", f.path("fs.tar")});
  CHECK(list.out.find("out.txt") != std::string::npos);
  // The docker archive loads into a fresh store with the same image ID.
  kiln::testutil::TempDir other;
  Output load = kiln::testutil::kiln(other.path(), {"load", "-i", f.path("d.tar")});
  INFO(load.err);
  REQUIRE(load.exit_code == 0);
  Output id = kiln::testutil::kiln(other.path(), {"images", "-q", "--no-trunc"});
  CHECK(id.out.find(image_id(f, "outs:1")) != std::string::npos);
}

TEST_CASE("a failing RUN shows its output, the Dockerfile lines and the exit code",
          "[integration][build]") {
  BuildFixture f;
  f.file("Dockerfile", "FROM busybox:local\nRUN echo fine\nRUN echo oops-output && exit 3\n");
  Output o = f.build({});
  CHECK(o.exit_code != 0);
  CHECK(o.err.find("oops-output") != std::string::npos);
  CHECK(o.err.find("Dockerfile:3") != std::string::npos);
  CHECK(o.err.find(">>> RUN echo oops-output && exit 3") != std::string::npos);
  CHECK(o.err.find("process \"/bin/sh -c echo oops-output && exit 3\" did not complete "
                   "successfully: exit code: 3") != std::string::npos);

  f.file("Dockerfile", "FROM busybox:local\nCOPY nothere.txt /\n");
  o = f.build({});
  CHECK(o.exit_code != 0);
  CHECK(o.err.find("nothere.txt") != std::string::npos);
  CHECK(o.err.find("not found") != std::string::npos);

  f.file("ignored.txt", "x");
  f.file(".dockerignore", "ignored.txt\n");
  f.file("Dockerfile", "FROM busybox:local\nCOPY ignored.txt /\n");
  o = f.build({});
  CHECK(o.exit_code != 0);
  CHECK(o.err.find("ignored.txt") != std::string::npos);
  CHECK(o.err.find(".dockerignore") != std::string::npos);

  f.file("Dockerfile", "FROM nosuchimage:local\n");
  o = f.build({});
  CHECK(o.exit_code != 0);
  CHECK(o.err.find("nosuchimage") != std::string::npos);
}

TEST_CASE("Ctrl-C during a RUN stops the build and leaves no mounts or containers",
          "[integration][build]") {
  BuildFixture f;
  StepCounter counter;
  f.file("Dockerfile", "FROM busybox:local\nRUN " + counter.hit("started") +
                           " && sleep 60 && echo kiln-sigint\n");
  std::string err_path = f.path("err.log");
  pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    int fd = ::open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ::dup2(fd, 2);
    ::execl(KILN_BINARY, KILN_BINARY, "--root", f.root().c_str(), "build", "--progress=plain",
            f.ctx().c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (counter.count("started") == 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  REQUIRE(counter.count("started") == 1);
  auto t0 = std::chrono::steady_clock::now();
  ::kill(pid, SIGINT);
  int status = 0;
  REQUIRE(::waitpid(pid, &status, 0) == pid);
  CHECK(std::chrono::steady_clock::now() - t0 < std::chrono::seconds(10));
  CHECK(!(WIFEXITED(status) && WEXITSTATUS(status) == 0));
  CHECK(mounts_under(f.root()) == 0);
  // No container state of kiln's is left for this store, and the process is gone.
  Output ls = run({"sh", "-c", "ls -A " + f.root() + "/tmp/exec 2>/dev/null | wc -l"});
  CHECK(ls.out == "0\n");
  Output ps = run({"sh", "-c", "ps -eo args | grep -c '[k]iln-sigint' || true"});
  CHECK(ps.out == "0\n");
  // The store still works.
  f.file("Dockerfile", "FROM busybox:local\nRUN echo after\n");
  f.build_ok({});
}

TEST_CASE("an unchanged COPY below a changed step reuses its layer, others apply to the base",
          "[integration][build]") {
  BuildFixture f;
  StepCounter counter;
  f.file("big.bin", std::string(200000, 'b'));
  f.file("src/a.txt", "a\n");
  f.file("src/sub/b.txt", "b\n");
  f.file("conf", "c\n");
  f.file("Dockerfile", "FROM busybox:local\nARG V\nRUN " + counter.hit("v") +
                           " && echo $V > /v\nCOPY big.bin /app/big.bin\nCOPY src /app/src\n"
                           "COPY conf /etc/\nRUN cat /app/src/a.txt /app/src/sub/b.txt /etc/conf "
                           "/v > /all && ls /etc > /etc.list\n");
  f.build_ok({"--build-arg", "V=1", "-t", "link:1", "-o", "type=local,dest=" + f.path("out1")});
  f.build_ok({"--build-arg", "V=2", "-t", "link:2", "-o", "type=local,dest=" + f.path("out2")});
  CHECK(counter.count("v") == 2);
  auto l1 = inspect(f, "link:1")["RootFS"]["Layers"];
  auto l2 = inspect(f, "link:2")["RootFS"]["Layers"];
  REQUIRE(l1.size() == 6);
  REQUIRE(l2.size() == 6);
  CHECK(l1[1] != l2[1]);  // RUN echo $V
  CHECK(l1[2] == l2[2]);  // COPY big.bin: the same layer over a new base
  CHECK(l1[3] == l2[3]);  // COPY src
  // The result is what copying into the base gives; /etc keeps the base's files.
  CHECK(out_file(f, "out2", "all") == "a\nb\nc\n2\n");
  CHECK(out_file(f, "out2", "app/big.bin").size() == 200000);
  std::string etc = out_file(f, "out2", "etc.list");
  CHECK(etc.find("passwd") != std::string::npos);
  CHECK(etc.find("conf") != std::string::npos);
  struct stat st {};
  REQUIRE(::stat(f.path("out2/app/src/sub").c_str(), &st) == 0);
  CHECK((st.st_mode & 07777) == 0755);

  // --no-cache makes every layer anew and gives the same file system.
  f.build_ok({"--no-cache", "--build-arg", "V=2", "-t", "link:3", "-o",
              "type=local,dest=" + f.path("out3")});
  CHECK(counter.count("v") == 3);
  CHECK(run({"diff", "-r", f.path("out2"), f.path("out3")}).exit_code == 0);
  // skopeo reads the image with the shared layers back from a docker archive.
  f.build_ok({"--build-arg", "V=2", "-t", "link:2", "-o", "type=docker,dest=" + f.path("l.tar")});
  Output sk = run({"skopeo", "inspect", "docker-archive:" + f.path("l.tar")});
  INFO(sk.err);
  CHECK(sk.exit_code == 0);
  // (--no-cache made the link layers anew: the tag now names those.)
  auto layers = inspect(f, "link:2")["RootFS"]["Layers"];
  REQUIRE(layers.size() == 6);
  CHECK(sk.out.find(layers[3].get<std::string>()) != std::string::npos);
}

TEST_CASE("a COPY of an edited directory shares the unchanged files of its last layer",
          "[integration][build]") {
  BuildFixture f;
  for (int i = 0; i < 20; ++i) {
    f.file("src/f" + std::to_string(i), "file " + std::to_string(i) + "\n");
  }
  f.file("Dockerfile",
         "FROM busybox:local\nCOPY src /app/src\nRUN cat /app/src/f0 /app/src/f7 > /seen\n");
  // Files written within a second of hashing are not trusted by the stat cache.
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  f.build_ok({"-t", "inc:1"});

  // Same size, and the old mtime back: only the ctime and the contents differ.
  f.file("src/f7", "FILE 7\n");
  REQUIRE(run({"touch", "-r", f.ctx() + "/src/f6", f.ctx() + "/src/f7"}).exit_code == 0);
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  Output o =
      f.build_ok({"-t", "inc:2", "-o", "type=local,dest=" + f.path("out")}, {"KILN_TRACE=1"});
  CHECK(o.err.find("(19 files shared with the last one)") != std::string::npos);
  CHECK(out_file(f, "out", "seen") == "file 0\nFILE 7\n");
  CHECK(out_file(f, "out", "app/src/f7") == "FILE 7\n");
  CHECK(out_file(f, "out", "app/src/f19") == "file 19\n");

  // The first image keeps its own files.
  Output first =
      kiln::testutil::kiln(f.root(), {"run", "--rm", "inc:1", "cat", "/app/src/f7", "/app/src/f3"});
  CHECK(first.out == "file 7\nfile 3\n");
}
