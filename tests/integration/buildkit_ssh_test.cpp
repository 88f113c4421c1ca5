// RUN --mount=type=ssh with `kiln build --ssh` (BuildKit's dockerfile_ssh_test.go:
// testSSHSocketParams, testSSHFileDescriptorsClosed), with a real ssh-agent the
// test starts and stops by PID, and the host's ssh-add run inside the RUN through
// its own loader (the busybox base has no ssh client).
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <thread>

#include <catch2/catch.hpp>

#include "tests/integration/build_fixture.h"

using kiln::testutil::BuildFixture;
using kiln::testutil::Output;
using kiln::testutil::read_file;
using kiln::testutil::run;

namespace {

/// An ssh-agent in debug mode (its log in `log()`) holding one new ed25519 key.
class Agent {
 public:
  explicit Agent(const std::string& dir) : socket_(dir + "/agent.sock"), log_(dir + "/agent.log") {
    run({"mkdir", "-p", dir});
    Output k =
        run({"ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "kiln-test", "-f", dir + "/key"});
    REQUIRE(k.exit_code == 0);
    pid_ = ::fork();
    REQUIRE(pid_ >= 0);
    if (pid_ == 0) {
      int fd = ::open(log_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      ::dup2(fd, 1);
      ::dup2(fd, 2);
      ::execlp("ssh-agent", "ssh-agent", "-d", "-a", socket_.c_str(), static_cast<char*>(nullptr));
      ::_exit(127);
    }
    struct stat st {};
    for (int i = 0; i < 200 && ::stat(socket_.c_str(), &st) != 0; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    REQUIRE(S_ISSOCK(st.st_mode));
    Output add = run({"ssh-add", dir + "/key"}, "", {"SSH_AUTH_SOCK=" + socket_});
    INFO(add.err);
    REQUIRE(add.exit_code == 0);
  }
  ~Agent() {
    ::kill(pid_, SIGTERM);
    ::waitpid(pid_, nullptr, 0);
  }
  const std::string& socket() const { return socket_; }
  std::string log() const { return read_file(log_); }
  /// `ssh-add -l` against the agent, from the host.
  std::string list() const { return run({"ssh-add", "-l"}, "", {"SSH_AUTH_SOCK=" + socket_}).out; }

 private:
  std::string socket_;
  std::string log_;
  pid_t pid_ = -1;
};

/// Copies the host's ssh-add with its libraries and loader into CONTEXT/sshbin, to be
/// run in a RUN as `/h/ld.so --library-path /h /h/ssh-add`.
void add_ssh_add(const BuildFixture& f) {
  Output o = run({"sh", "-ec",
                  "d='" + f.ctx() +
                      "/sshbin'; mkdir -p \"$d\"; cp /usr/bin/ssh-add \"$d\"/; "
                      "for l in $(ldd /usr/bin/ssh-add | grep -o '/[^ ]*'); do "
                      "case \"$l\" in */ld-linux*) cp -L \"$l\" \"$d\"/ld.so;; "
                      "*) cp -L \"$l\" \"$d\"/;; esac; done"});
  INFO(o.err);
  REQUIRE(o.exit_code == 0);
}

const char* kSshAdd = "/h/ld.so --library-path /h /h/ssh-add";

}  // namespace

TEST_CASE(
    "RUN --mount=type=ssh gives a socket with the mount's owner and mode "
    "(testSSHSocketParams)",
    "[integration][buildkit]") {
  BuildFixture f;
  Agent agent(f.path("agent"));
  f.file("Dockerfile",
         "FROM busybox:local\n"
         "RUN --mount=type=ssh,mode=741,uid=100,gid=102 "
         "[ \"$(stat -c \"%u %g %f\" $SSH_AUTH_SOCK)\" = \"100 102 c1e1\" ] && "
         "[ \"$SSH_AUTH_SOCK\" = /run/buildkit/ssh_agent.0 ]\n"
         "RUN --mount=type=ssh,id=other,target=/tmp/agent [ \"$SSH_AUTH_SOCK\" = /tmp/agent ] && "
         "[ -S /tmp/agent ]\n");
  f.build_ok({"--ssh", "default=" + agent.socket(), "--ssh", "other=" + agent.socket()});
}

TEST_CASE(
    "ssh-add -l in a RUN lists the agent's key, and the agent sees each client close "
    "(testSSHFileDescriptorsClosed)",
    "[integration][buildkit]") {
  BuildFixture f;
  Agent agent(f.path("agent"));
  add_ssh_add(f);
  std::string add = kSshAdd;
  f.file("Dockerfile",
         "FROM busybox:local\n"
         "RUN --mount=type=ssh --mount=type=bind,source=sshbin,target=/h " +
             add + " -l > /keys && for i in 1 2 3; do " + add +
             " -l >/dev/null; sleep 0.2; done && ls /proc/self/fd > /fds\n"
             "FROM scratch\nCOPY --from=0 /keys /fds /\n");
  f.build_ok({"--ssh", "default", "-o", "type=local,dest=" + f.path("out")},
             {"SSH_AUTH_SOCK=" + agent.socket()});
  CHECK(read_file(f.path("out/keys")) == agent.list());
  CHECK(agent.list().find("kiln-test") != std::string::npos);
  // Every connection was closed before the next: the agent never held two.
  std::string log = agent.log();
  INFO(log);
  CHECK(log.find("process_message: socket 1") != std::string::npos);
  CHECK(log.find("process_message: socket 2") == std::string::npos);
  CHECK(log.find("process_message: socket 3") == std::string::npos);
  // Nothing of the relay's is open in the RUN's process (ls's own directory is 3).
  CHECK(read_file(f.path("out/fds")) == "0\n1\n2\n3\n");
}

TEST_CASE(
    "a required ssh mount without its --ssh fails as BuildKit does, an optional one is "
    "left out",
    "[integration][buildkit]") {
  BuildFixture f;
  Agent agent(f.path("agent"));
  f.file("Dockerfile", "FROM busybox:local\nRUN --mount=type=ssh,required=true true\n");
  Output o = f.build({});
  CHECK(o.exit_code != 0);
  CHECK(o.err.find("no SSH key \"default\" forwarded from the client") != std::string::npos);
  o = f.build({"--ssh", "other=" + agent.socket()});
  CHECK(o.exit_code != 0);
  CHECK(o.err.find("unset ssh forward key default") != std::string::npos);

  f.file("Dockerfile",
         "FROM busybox:local\nRUN --mount=type=ssh [ ! -e /run/buildkit/ssh_agent.0 ]\n");
  f.build_ok({});

  // A key file instead of an agent socket is refused, saying what to do.
  o = f.build({"--ssh", "default=" + f.path("agent/key")});
  CHECK(o.exit_code != 0);
  CHECK(o.err.find("is not an ssh-agent socket") != std::string::npos);
}
