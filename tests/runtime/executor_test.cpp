// The OCI executor with the real runc, as root, on a busybox rootfs.
#include "runtime/executor.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <optional>

#include <catch2/catch.hpp>

#include "runtime/spawn.h"
#include "support/error.h"
#include "support/fs.h"
#include "tests/runtime/busybox_rootfs.h"

namespace rt = kiln::runtime;
using rt::testing::BusyboxRootfs;

namespace Catch {
template <>
struct StringMaker<rt::ExitStatus> {
  static std::string convert(const rt::ExitStatus& s) {
    return "{exit " + std::to_string(s.exit_code) + ", signal " + std::to_string(s.signal) + "}";
  }
};
}  // namespace Catch

namespace {

// A busybox rootfs, a state dir and a runc executor; checks on destruction that no
// state and no container is left.
struct Fixture {
  BusyboxRootfs root;
  std::string state = kiln::fs::join(root.dir(), "state");
  std::unique_ptr<rt::Executor> executor;
  std::vector<std::string> ids;
  std::string out;
  std::string err;

  Fixture() {
    auto made = rt::make_oci_executor({rt::RuntimeKind::runc, state, "", ""});
    REQUIRE(static_cast<bool>(made));
    executor = std::move(*made);
  }

  rt::RunRequest request(std::vector<std::string> args) {
    rt::RunRequest req;
    req.rootfs = root.path();
    req.process.args = std::move(args);
    req.process.hostname = "box";
    req.stdio.on_output = [this](rt::OutputStream stream, llvm::StringRef line) {
      (stream == rt::OutputStream::out ? out : err) += line.str() + "\n";
    };
    req.on_started = [this](const rt::StartedContainer& c) { ids.push_back(c.id); };
    return req;
  }

  rt::ExitStatus run_ok(const rt::RunRequest& req, const rt::CancelToken* cancel = nullptr) {
    auto status = executor->run(req, cancel);
    if (!status) {
      FAIL(kiln::error_message(status.takeError()));
    }
    return *status;
  }

  std::vector<std::string> state_entries() const {
    std::vector<std::string> names;
    DIR* dir = ::opendir(state.c_str());
    REQUIRE(dir != nullptr);
    while (dirent* e = ::readdir(dir)) {
      if (std::string(e->d_name) != "." && std::string(e->d_name) != "..") {
        names.push_back(e->d_name);
      }
    }
    ::closedir(dir);
    return names;
  }

  void check_clean() {
    CHECK(state_entries().empty());
    auto listed = rt::run_command({"/usr/sbin/runc", "list", "-q"});
    REQUIRE(static_cast<bool>(listed));
    for (const auto& id : ids) {
      CHECK(listed->output.find(id) == std::string::npos);
    }
  }
};

}  // namespace

TEST_CASE("echo prints through the callback", "[runtime][runc]") {
  Fixture f;
  CHECK(f.run_ok(f.request({"sh", "-c", "echo hi; echo oops >&2"})) == rt::ExitStatus{0, 0});
  CHECK(f.out == "hi\n");
  CHECK(f.err == "oops\n");
  CHECK(f.ids.size() == 1);
  f.check_clean();
}

TEST_CASE("id, pwd and env follow the spec", "[runtime][runc]") {
  Fixture f;
  auto req = f.request({"sh", "-c", "id; pwd; stat -c %u:%g .; env"});
  req.process.user = "app";
  req.process.cwd = "/home/app/work";
  req.process.env = {"FOO=bar"};
  CHECK(f.run_ok(req) == rt::ExitStatus{0, 0});
  CHECK(f.out ==
        "uid=1001(app) gid=1002(grp) groups=1002(grp),1003(extra)\n"
        "/home/app/work\n"
        "1001:1002\n"
        "HOSTNAME=box\n"
        "SHLVL=1\n"
        "HOME=/home/app\n"
        "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\n"
        "FOO=bar\n"
        "PWD=/home/app/work\n");
  CHECK(f.err == "");
  f.check_clean();
}

TEST_CASE("the container cannot see host files", "[runtime][runc]") {
  Fixture f;
  REQUIRE(!kiln::write_file_atomic(kiln::fs::join(f.root.dir(), "host-marker"), "x"));
  CHECK(f.run_ok(f.request({"ls", "/proc/1/root/.."})) == rt::ExitStatus{0, 0});
  CHECK(f.out == "bin\ndev\netc\nproc\nroot\nsys\ntmp\n");
  // runc's own mount points stay in the rootfs, as BuildKit leaves them in the RUN
  // layer (tests/conformance shows docker's BuildKit doing so); the /etc stubs go.
  CHECK(kiln::fs::exists(f.root.path() + "/proc"));
  CHECK(kiln::fs::exists(f.root.path() + "/dev"));
  CHECK(!kiln::fs::exists(f.root.path() + "/etc/hosts"));
  f.check_clean();
}

TEST_CASE("network none has only lo, up", "[runtime][runc]") {
  Fixture f;
  auto req = f.request({"ip", "link"});
  req.process.network = rt::NetworkMode::none;
  CHECK(f.run_ok(req) == rt::ExitStatus{0, 0});
  std::string names;
  llvm::SmallVector<llvm::StringRef, 8> lines;
  llvm::StringRef(f.out).split(lines, '\n', -1, false);
  for (llvm::StringRef line : lines) {
    if (!line.startswith(" ")) {
      names += line.split(": ").second.split(": ").first.str() + " " +
               (line.contains(",UP,") ? "up" : "down") + "\n";
    }
  }
  CHECK(names == "lo up\n");
  f.check_clean();
}

TEST_CASE("docker's seccomp profile denies unshare to a user", "[runtime][runc][seccomp]") {
  Fixture f;
  auto req = f.request({"sh", "-c",
                        "busybox grep '^Seccomp:' /proc/self/status; busybox unshare -U -r true; "
                        "echo rc=$?"});
  req.process.user = "app";
  CHECK(f.run_ok(req) == rt::ExitStatus{0, 0});
  CHECK(f.out == "Seccomp:\t2\nrc=1\n");
  CHECK(f.err == "unshare: unshare(0x10000000): Operation not permitted\n");
  f.check_clean();
}

TEST_CASE("seccomp unconfined lets a user unshare", "[runtime][runc][seccomp]") {
  Fixture f;
  auto req = f.request(
      {"sh", "-c", "busybox grep '^Seccomp:' /proc/self/status; busybox unshare -U -r id -u"});
  req.process.user = "app";
  req.process.seccomp.kind = rt::Seccomp::Kind::unconfined;
  CHECK(f.run_ok(req) == rt::ExitStatus{0, 0});
  CHECK(f.out == "Seccomp:\t0\n0\n");
  f.check_clean();
}

TEST_CASE("mount is not allowed", "[runtime][runc]") {
  Fixture f;
  CHECK(f.run_ok(f.request({"mount", "-t", "tmpfs", "tmpfs", "/tmp"})) == rt::ExitStatus{1, 0});
  CHECK(f.err == "mount: permission denied (are you root?)\n");
  f.check_clean();
}

TEST_CASE("exit codes propagate", "[runtime][runc]") {
  Fixture f;
  CHECK(f.run_ok(f.request({"sh", "-c", "exit 7"})) == rt::ExitStatus{7, 0});
  f.check_clean();
}

TEST_CASE("a killed process reports its signal", "[runtime][runc]") {
  Fixture f;
  auto req = f.request({"sh", "-c", "echo ready; exec sleep 30"});
  int pid = 0;
  req.on_started = [&](const rt::StartedContainer& c) {
    f.ids.push_back(c.id);
    pid = c.pid;
  };
  req.stdio.on_output = [&](rt::OutputStream, llvm::StringRef line) {
    if (line == "ready") {
      ::kill(pid, SIGKILL);
    }
  };
  auto status = f.run_ok(req);
  CHECK(status == rt::ExitStatus{0, SIGKILL});
  CHECK(status.code() == 137);
  f.check_clean();
}

TEST_CASE("a container dies with the process that started it", "[runtime][runc][kill9]") {
  BusyboxRootfs root;
  std::string state = kiln::fs::join(root.dir(), "state");
  std::string runc_root = kiln::fs::join(root.dir(), "runc");
  int started[2];
  REQUIRE(::pipe(started) == 0);
  pid_t owner = ::fork();
  if (owner == 0) {
    ::close(started[0]);
    auto executor = rt::make_oci_executor({rt::RuntimeKind::runc, state, "", runc_root, true});
    rt::RunRequest req;
    req.rootfs = root.path();
    req.process.args = {"sleep", "60"};
    req.on_started = [&](const rt::StartedContainer& c) {
      std::string line = std::to_string(c.pid) + "\n";
      (void)!::write(started[1], line.data(), line.size());
    };
    if (executor) {
      (void)(*executor)->run(req, nullptr);
    }
    ::_exit(1);
  }
  ::close(started[1]);
  char buf[32] = {};
  REQUIRE(::read(started[0], buf, sizeof(buf) - 1) > 0);
  ::close(started[0]);
  int container_pid = std::atoi(buf);
  REQUIRE(container_pid > 0);
  REQUIRE(::kill(owner, SIGKILL) == 0);
  REQUIRE(::waitpid(owner, nullptr, 0) == owner);
  // The guard deletes the container: its process goes, runc forgets it.
  bool gone = false;
  for (int i = 0; i < 200 && !gone; ++i) {
    auto listed = rt::run_command({"/usr/sbin/runc", "--root", runc_root, "list", "-q"});
    REQUIRE(static_cast<bool>(listed));
    ::waitpid(container_pid, nullptr, WNOHANG);  // a zombie child, if we are its subreaper
    gone = ::kill(container_pid, 0) != 0 && listed->output.empty();
    ::usleep(50000);
  }
  CHECK(gone);
  // The state dir is left to the next executor of `state`, which reclaims it once
  // it is old enough (a younger one may belong to a live run).
  CHECK(kiln::fs::exists(state));
  auto next = rt::make_oci_executor({rt::RuntimeKind::runc, state, "", runc_root, true});
  REQUIRE(static_cast<bool>(next));
  auto ls = rt::run_command({"/bin/sh", "-c", "ls " + state + " | wc -l"});
  REQUIRE(static_cast<bool>(ls));
  CHECK(ls->output == "1\n");
}

TEST_CASE("cancelling kills the container and cleans up", "[runtime][runc]") {
  Fixture f;
  rt::CancelToken cancel;
  auto req = f.request({"sh", "-c", "echo ready; sleep 30"});
  req.stdio.on_output = [&](rt::OutputStream, llvm::StringRef line) { cancel.cancel(); };
  auto start = std::chrono::steady_clock::now();
  auto status = f.executor->run(req, &cancel);
  REQUIRE(!status);
  CHECK(kiln::error_message(status.takeError()) == "cancelled");
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(10));
  CHECK(f.ids.size() == 1);
  CHECK(!kiln::fs::exists(f.root.path() + "/etc/hosts"));
  f.check_clean();
}

TEST_CASE("1 GB of output keeps memory small", "[runtime][runc]") {
  Fixture f;
  // Reset VmHWM (peak RSS) so the delta measures this run only.
  { std::ofstream("/proc/self/clear_refs") << "5"; }
  auto hwm_kb = [] {
    auto status = kiln::fs::read_file("/proc/self/status");
    REQUIRE(static_cast<bool>(status));
    auto pos = status->find("VmHWM:");
    REQUIRE(pos != std::string::npos);
    return std::stol(status->substr(pos + 6));
  };
  long before = hwm_kb();
  auto req =
      f.request({"sh", "-c",
                 "yes 0123456789012345678901234567890123456789012345678901234567890123456789012 "
                 "| head -c 1073741824"});
  size_t bytes = 0;
  size_t lines = 0;
  req.stdio.on_output = [&](rt::OutputStream, llvm::StringRef line) {
    bytes += line.size();
    ++lines;
  };
  CHECK(f.run_ok(req) == rt::ExitStatus{0, 0});
  long delta_kb = hwm_kb() - before;
  // 14510024 lines of 73 characters and '\n', then 48 characters without one.
  CHECK(lines == 14510025);
  CHECK(bytes == 14510024 * 73 + 48);
  CHECK(delta_kb < 64 * 1024);
  f.check_clean();
}

TEST_CASE("stdin, user errors, tty", "[runtime][runc]") {
  Fixture f;
  SECTION("stdin fd is passed to the process") {
    std::string input = kiln::fs::join(f.root.dir(), "input");
    REQUIRE(!kiln::write_file_atomic(input, "line one\nline two\n"));
    int fd = ::open(input.c_str(), O_RDONLY | O_CLOEXEC);
    REQUIRE(fd >= 0);
    auto req = f.request({"cat"});
    req.stdio.stdin_fd = fd;
    CHECK(f.run_ok(req) == rt::ExitStatus{0, 0});
    ::close(fd);
    CHECK(f.out == "line one\nline two\n");
  }
  SECTION("an unknown user is a clear error") {
    auto req = f.request({"true"});
    req.process.user = "ghost";
    auto status = f.executor->run(req, nullptr);
    REQUIRE(!status);
    CHECK(kiln::error_message(status.takeError()) ==
          "unable to find user ghost: no matching entries in passwd file");
  }
  SECTION("a tty gives a terminal") {
    auto req = f.request({"sh", "-c", "tty; echo $TERM"});
    req.process.tty = true;
    CHECK(f.run_ok(req) == rt::ExitStatus{0, 0});
    CHECK(f.out == "/dev/pts/0\r\nxterm\r\n");
  }
  f.check_clean();
}

TEST_CASE("a process that cannot start is a typed StartError", "[runtime][runc]") {
  Fixture f;
  REQUIRE(!kiln::write_file_atomic(f.root.path() + "/not-exec", "#!/bin/sh\n"));
  struct Case {
    std::vector<std::string> args;
    kiln::StartFailure failure;
  };
  for (const Case& c : {Case{{"no-such-command"}, kiln::StartFailure::not_found},
                        Case{{"/no/such/file"}, kiln::StartFailure::not_found},
                        Case{{"/not-exec"}, kiln::StartFailure::not_executable}}) {
    INFO(c.args[0]);
    auto status = f.executor->run(f.request(c.args), nullptr);
    REQUIRE(!status);
    std::optional<kiln::StartFailure> failure;
    llvm::handleAllErrors(
        status.takeError(), [&](const kiln::StartError& e) { failure = e.failure(); },
        [](const llvm::ErrorInfoBase&) {});
    CHECK(failure == c.failure);
  }
  f.check_clean();
}

TEST_CASE("runtime messages map to start failures as docker maps them", "[runtime]") {
  CHECK(rt::start_failure_of("exec: \"nope\": executable file not found in $PATH") ==
        kiln::StartFailure::not_found);
  CHECK(rt::start_failure_of("exec: \"/x\": stat /x: no such file or directory") ==
        kiln::StartFailure::not_found);
  CHECK(rt::start_failure_of("exec: \"/x\": permission denied") ==
        kiln::StartFailure::not_executable);
  CHECK(rt::start_failure_of("cgroup: device busy") == kiln::StartFailure::other);
  CHECK(rt::start_failure_of("") == kiln::StartFailure::other);
}

TEST_CASE("mounts, read-only rootfs and /etc files", "[runtime][runc]") {
  Fixture f;
  std::string shared = kiln::fs::join(f.root.dir(), "shared");
  REQUIRE(!kiln::fs::make_dirs(shared));
  REQUIRE(!kiln::write_file_atomic(shared + "/f", "from host\n"));
  auto req = f.request({"sh", "-c",
                        "cat /src/f /etc/hosts /etc/resolv.conf /etc/hostname; echo x > /scratch/y "
                        "&& cat /scratch/y; echo z > /src/g; echo z > /z"});
  req.process.rootfs_access = rt::Access::read_only;
  req.process.hosts = "127.0.0.1 localhost\n";
  req.process.resolv_conf = "nameserver 127.0.0.53\n";
  req.process.mounts = {
      {rt::MountSpec::Kind::bind, shared, "/src", rt::Access::read_only, 0},
      {rt::MountSpec::Kind::tmpfs, "", "/scratch", rt::Access::read_write, 1 << 20}};
  CHECK(f.run_ok(req) == rt::ExitStatus{1, 0});
  CHECK(f.out == "from host\n127.0.0.1 localhost\nnameserver 127.0.0.53\nbox\nx\n");
  CHECK(f.err ==
        "sh: can't create /src/g: Read-only file system\n"
        "sh: can't create /z: Read-only file system\n");
  f.check_clean();
}

TEST_CASE("crun's refusal of hybrid cgroups is explained", "[runtime][crun]") {
  if (!kiln::fs::exists("/sys/fs/cgroup/unified")) {
    return;  // not a hybrid host: crun may work here
  }
  BusyboxRootfs root;
  std::string state = kiln::fs::join(root.dir(), "state");
  auto executor = rt::make_oci_executor({rt::RuntimeKind::crun, state, "", ""});
  REQUIRE(static_cast<bool>(executor));
  rt::RunRequest req;
  req.rootfs = root.path();
  req.process.args = {"true"};
  auto status = (*executor)->run(req, nullptr);
  REQUIRE(!status);
  CHECK(kiln::error_message(status.takeError()) ==
        "crun cannot run on this host's hybrid cgroup v1/v2 layout; use runc (the default)");
  auto listed = rt::run_command({"/usr/bin/crun", "list", "-q"});
  REQUIRE(static_cast<bool>(listed));
  CHECK(listed->output == "");
}

TEST_CASE("runtime names parse", "[runtime]") {
  CHECK(*rt::parse_runtime_kind("") == rt::RuntimeKind::runc);
  CHECK(*rt::parse_runtime_kind("crun") == rt::RuntimeKind::crun);
  auto bad = rt::parse_runtime_kind("kata");
  REQUIRE(!bad);
  CHECK(kiln::error_message(bad.takeError()) ==
        "unknown OCI runtime 'kata' (expected 'runc' or 'crun')");
}
