// The sandbox matches docker's defaults (seccomp, a private network for `kiln run`,
// signals proxied, -it needs a tty), and kill -9 leaves nothing unreclaimed.
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <thread>

#include <catch2/catch.hpp>

#include "tests/integration/build_fixture.h"
#include "tests/integration/run_fixture.h"

using kiln::testing::RunFixture;
using kiln::testutil::Output;

namespace {

// Starts `kiln --root ROOT args...` with stdout and stderr to `log`; returns its pid.
pid_t start_kiln(const RunFixture& f, const std::vector<std::string>& args,
                 const std::string& log) {
  std::vector<std::string> argv = {KILN_BINARY, "--root", f.root()};
  argv.insert(argv.end(), args.begin(), args.end());
  pid_t pid = ::fork();
  if (pid == 0) {
    int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    int null = ::open("/dev/null", O_RDONLY);
    ::dup2(null, 0);
    ::dup2(fd, 1);
    ::dup2(fd, 2);
    std::vector<char*> raw;
    for (auto& a : argv) {
      raw.push_back(a.data());
    }
    raw.push_back(nullptr);
    ::execv(raw[0], raw.data());
    ::_exit(127);
  }
  return pid;
}

int wait_exit_code(pid_t pid) {
  int status = 0;
  ::waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

// Processes in another mount namespace that mounts something of the store
// (container processes of the store).
int processes_in(const std::string& root) {
  std::error_code ec;
  auto own = std::filesystem::read_symlink("/proc/self/ns/mnt", ec);
  int count = 0;
  for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
    auto ns = std::filesystem::read_symlink(entry.path() / "ns/mnt", ec);
    if (!ec && ns != own &&
        kiln::testutil::read_file(entry.path() / "mountinfo").find(root + "/") !=
            std::string::npos) {
      ++count;
    }
  }
  return count;
}

std::string temp_entries(const RunFixture& f) {
  return kiln::testutil::run(
             {"sh", "-c",
              "cd " + f.root() + " && { ls -A tmp; ls snapshots | grep tmp-; } | tr '\\n' ' '"})
      .out;
}

}  // namespace

TEST_CASE("RUN and run have docker's seccomp profile: a user cannot unshare",
          "[integration][sandbox][seccomp]") {
  RunFixture f;
  const char* script = "grep Seccomp: /proc/self/status; busybox unshare -U -r true";
  Output denied = f.kiln({"run", "--rm", "-u", "app", "base:1", "sh", "-c", script});
  CHECK(denied.exit_code == 1);
  CHECK(denied.out == "Seccomp:\t2\n");
  CHECK(denied.err == "unshare: unshare(0x10000000): Operation not permitted\n");
  // --security-opt seccomp=unconfined lifts it, like docker's.
  Output allowed = f.kiln({"run", "--rm", "-u", "app", "--security-opt", "seccomp=unconfined",
                           "base:1", "sh", "-c", script});
  CHECK(allowed.exit_code == 0);
  CHECK(allowed.out == "Seccomp:\t0\n");
  // A profile file in docker's format.
  kiln::testutil::write_file(f.path("profile.json"),
                             R"({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [)"
                             R"({"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO"}]})");
  Output custom = f.kiln({"run", "--rm", "--security-opt", "seccomp=" + f.path("profile.json"),
                          "base:1", "mkdir", "/made"});
  CHECK(custom.exit_code == 1);
  CHECK(custom.err == "mkdir: can't create directory '/made': Operation not permitted\n");
  Output bad = f.kiln({"run", "--rm", "--security-opt", "apparmor=x", "base:1", "true"});
  CHECK(bad.exit_code == 1);
  CHECK(
      bad.err ==
      "error: invalid --security-opt 'apparmor=x' (kiln knows seccomp=unconfined|PROFILE.json)\n");
  // RUN steps get the same profile.
  f.build("sec:1", "FROM base:1\nUSER app\nRUN grep Seccomp: /proc/self/status > /tmp/status\n");
  CHECK(f.ok({"run", "--rm", "sec:1", "cat", "/tmp/status"}) == "Seccomp:\t2\n");
  std::string ctx = f.path("ctx-unshare");
  kiln::testutil::write_file(ctx + "/Dockerfile",
                             "FROM base:1\nUSER app\nRUN busybox unshare -U -r true\n");
  Output build = f.kiln({"build", "--progress=plain", ctx});
  CHECK(build.exit_code == 1);
  CHECK(build.err.find("unshare: unshare(0x10000000): Operation not permitted") !=
        std::string::npos);
  f.check_clean({});
}

TEST_CASE("run without --network joins the default network, not the host's namespace",
          "[integration][sandbox][network]") {
  RunFixture f;
  kiln::testutil::StepCounter server;  // an HTTP server on the host's 127.0.0.1
  Output private_net =
      f.kiln({"run", "--rm", "base:1", "sh", "-c", "ip -o link; " + server.hit("private")});
  CHECK(private_net.out.find("1: lo:") == 0);
  CHECK(private_net.out.find("2: eth0@") != std::string::npos);  // on the network `kiln`
  CHECK(std::count(private_net.out.begin(), private_net.out.end(), '\n') == 2);
  CHECK(private_net.err.find("Connection refused") != std::string::npos);
  CHECK(server.count("private") == 0);
  Output none = f.kiln({"run", "--rm", "--network", "none", "base:1", "ip", "-o", "link"});
  CHECK(none.out.find("1: lo:") == 0);
  CHECK(std::count(none.out.begin(), none.out.end(), '\n') == 1);
  f.ok({"run", "--rm", "--network", "host", "base:1", "sh", "-c", server.hit("host")});
  CHECK(server.count("host") == 1);
  f.check_clean({});
}

TEST_CASE("run -it with a stdin that is not a tty fails at once", "[integration][sandbox][tty]") {
  RunFixture f;
  Output o = f.kiln({"run", "--rm", "-it", "base:1", "sh"}, "echo hi\n");
  CHECK(o.exit_code == 1);
  CHECK(o.err == "error: the input device is not a TTY\n");
  CHECK(f.all_ids().empty());
  f.check_clean({});
}

TEST_CASE("SIGTERM and SIGINT to a foreground run go to the container",
          "[integration][sandbox][signals]") {
  RunFixture f;
  for (int signal : {SIGTERM, SIGINT}) {
    std::string log = f.path("run-" + std::to_string(signal) + ".log");
    pid_t pid = start_kiln(f,
                           {"run", "--rm", "base:1", "sh", "-c",
                            "trap 'echo got $1; exit 3' TERM INT; echo ready; "
                            "while true; do sleep 0.1; done",
                            "sh", signal == SIGTERM ? "TERM" : "INT"},
                           log);
    REQUIRE(RunFixture::eventually(
        [&] { return kiln::testutil::read_file(log).find("ready") != std::string::npos; }));
    ::kill(pid, signal);
    CHECK(wait_exit_code(pid) == 3);
    CHECK(kiln::testutil::read_file(log) ==
          std::string("ready\ngot ") + (signal == SIGTERM ? "TERM" : "INT") + "\n");
  }
  f.check_clean({});
}

TEST_CASE("a build killed with SIGKILL leaves nothing the next kiln does not reclaim",
          "[integration][sandbox][kill9]") {
  RunFixture f;
  std::string ctx = f.path("ctx-sleep");
  kiln::testutil::write_file(ctx + "/Dockerfile",
                             "FROM base:1\nRUN echo start > /started && sleep 45\n");
  pid_t pid = start_kiln(f, {"build", "--progress=plain", ctx}, f.path("build.log"));
  REQUIRE(RunFixture::eventually([&] { return processes_in(f.root()) > 0; }, 30));
  ::kill(pid, SIGKILL);
  wait_exit_code(pid);
  // The container dies with its owner: no process, no runc container.
  CHECK(RunFixture::eventually([&] { return processes_in(f.root()) == 0; }));
  CHECK(RunFixture::eventually([&] {
    return kiln::testutil::run({"runc", "--root", f.root() + "/runc", "list", "-q"}).out == "";
  }));
  CHECK(!f.store_mounts().empty());  // the rootfs overlay, until the next kiln
  CHECK(temp_entries(f) != "");
  f.ok({"images"});
  CHECK(f.store_mounts().empty());
  CHECK(temp_entries(f) == "");
  f.check_clean({});
}

// The container directories of the store (not .names or .runc).
static std::vector<std::string> container_dirs(const RunFixture& f) {
  std::vector<std::string> out;
  for (const auto& e : std::filesystem::directory_iterator(f.root() + "/containers")) {
    if (e.path().filename().string()[0] != '.') {
      out.push_back(e.path().filename().string());
    }
  }
  return out;
}

TEST_CASE("a kiln run --rm killed with SIGKILL is removed by the next kiln",
          "[integration][sandbox][kill9]") {
  RunFixture f;
  std::string log = f.path("run.log");
  pid_t pid = start_kiln(f, {"run", "--rm", "base:1", "sh", "-c", "echo ready; sleep 45"}, log);
  REQUIRE(RunFixture::eventually(
      [&] { return kiln::testutil::read_file(log).find("ready") != std::string::npos; }, 30));
  ::kill(pid, SIGKILL);
  wait_exit_code(pid);
  CHECK(RunFixture::eventually([&] { return processes_in(f.root()) == 0; }));
  CHECK(RunFixture::eventually([&] {
    return kiln::testutil::run({"runc", "--root", f.root() + "/containers/.runc", "list", "-q"})
               .out == "";
  }));
  CHECK(!f.store_mounts().empty());  // its rootfs, until the next kiln
  CHECK(container_dirs(f).size() == 1);
  // The next kiln reclaims it once the dead run's owner guard has exited (until
  // then the guard still holds the run's locks, and a reclaim leaves it be).
  // On a loaded machine the guard's `runc delete` can take a while: 30 s.
  bool reclaimed = RunFixture::eventually(
      [&] {
        f.ok({"images"});
        return f.store_mounts().empty() && container_dirs(f).empty();
      },
      30);
  if (!reclaimed) {
    std::string mounts;
    for (const auto& m : f.store_mounts()) {
      mounts += m + "\n";
    }
    INFO("mounts left:\n" << mounts << "container dirs: " << container_dirs(f).size());
    std::string holders = "for p in /proc/[0-9]*; do ls -l $p/fd 2>/dev/null | grep -qF '" +
                          f.root() + "' && echo $p $(tr '\\0' ' ' < $p/cmdline); done";
    INFO("processes with files of the store open:\n"
         << kiln::testutil::run({"sh", "-c", holders}).out);
    CHECK(reclaimed);
  }
  f.check_clean({});
}

TEST_CASE("a --rm container whose runner died before recording its start is reclaimed",
          "[integration][sandbox][kill9]") {
  // kill -9 of `kiln run --rm` after the container printed its first line but
  // before the runner recorded "running": state.json still says created, and the
  // runner had made run/. A plain `kiln create` (no run/) is left alone.
  RunFixture f;
  std::string dead = f.ok({"create", "--rm", "--network", "none", "base:1", "true"});
  std::string kept = f.ok({"create", "--rm", "--network", "none", "base:1", "true"});
  dead.pop_back();
  kept.pop_back();
  REQUIRE(kiln::testutil::run({"mkdir", f.root() + "/containers/" + dead + "/run"}).exit_code == 0);
  f.ok({"images"});
  CHECK(f.kiln({"inspect", dead}).exit_code != 0);
  CHECK(f.ok({"inspect", "-f", "{{.State.Status}}", kept}) == "created\n");
  f.ok({"rm", kept});
  f.check_clean({});
}

TEST_CASE("images, inspect and save work on a full disk", "[integration][sandbox][full]") {
  RunFixture f;
  std::string root = f.path("full");
  REQUIRE(kiln::testutil::run({"mkdir", "-p", root}).exit_code == 0);
  REQUIRE(kiln::testutil::run({"mount", "-t", "tmpfs", "-o", "size=8m", "tmpfs", root}).exit_code ==
          0);
  struct Unmount {
    std::string path;
    ~Unmount() { kiln::testutil::run({"umount", "-l", path}); }
  } unmount{root};
  REQUIRE(kiln::testutil::kiln(root, {"import", f.path("bb.tar"), "base:1"}).exit_code == 0);
  REQUIRE(kiln::testutil::kiln(root, {"images", "-q"}).exit_code == 0);
  // Fill it: dd stops at ENOSPC.
  kiln::testutil::run({"dd", "if=/dev/zero", "of=" + root + "/fill", "bs=64k"});
  CHECK(kiln::testutil::run({"sh", "-c", "echo x > " + root + "/probe"}).exit_code != 0);
  Output images = kiln::testutil::kiln(root, {"images"});
  CHECK(images.err == "");
  CHECK(images.exit_code == 0);
  CHECK(images.out.find("base ") != std::string::npos);
  Output inspect = kiln::testutil::kiln(root, {"inspect", "base:1"});
  CHECK(inspect.err == "");
  CHECK(inspect.exit_code == 0);
  Output save = kiln::testutil::kiln(root, {"save", "-o", f.path("saved.tar"), "base:1"});
  CHECK(save.err == "");
  CHECK(save.exit_code == 0);
  CHECK(kiln::testutil::run({"tar", "-tf", f.path("saved.tar"), "manifest.json"}).out ==
        "manifest.json\n");
}
