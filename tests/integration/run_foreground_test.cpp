// `kiln run` in the foreground and `kiln commit`, with real runc, as root.
#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "tests/integration/run_fixture.h"

using kiln::testing::RunFixture;
using kiln::testutil::Output;

TEST_CASE("run prints, keeps flags after IMAGE for the command, propagates exit codes",
          "[integration][run]") {
  RunFixture f;
  CHECK(f.ok({"run", "--rm", "base:1", "sh", "-c", "echo hi"}) == "hi\n");
  // -e before IMAGE is kiln's; -c after it is the command's.
  CHECK(f.ok({"run", "--rm", "-e", "A=1", "-e", "B=2", "base:1", "sh", "-c", "echo $A$B"}) ==
        "12\n");
  CHECK(f.kiln({"run", "--rm", "base:1", "sh", "-c", "exit 7"}).exit_code == 7);
  Output missing = f.kiln({"run", "--rm", "base:1", "no-such-command"});
  CHECK(missing.exit_code == 127);
  CHECK(missing.err.find("executable file not found") != std::string::npos);
  Output bad_flag = f.kiln({"run", "--bogus", "base:1", "true"});
  CHECK(bad_flag.exit_code == 1);
  CHECK(bad_flag.err == "error: unknown flag: --bogus\n");
  CHECK(f.kiln({"run", "--rm", "no-such-image:1", "true"}).exit_code == 1);
  // --rm leaves no container behind.
  CHECK(f.all_ids().empty());
  f.check_clean({});
}

TEST_CASE("id, pwd and env follow the image config and -u, -w, -e", "[integration][run]") {
  RunFixture f;
  f.build("cfg:1", "FROM base:1\nENV FOO=image GREETING=hello\nWORKDIR /srv\nUSER app\n");
  CHECK(f.ok({"run", "--rm", "cfg:1", "sh", "-c", "id; pwd; echo $FOO $GREETING $HOME"}) ==
        "uid=1001(app) gid=1002(grp) groups=1002(grp),1003(extra)\n/srv\nimage hello /home/app\n");
  CHECK(f.ok({"run", "--rm", "-u", "0:0", "-w", "/work/dir", "-e", "FOO=flag", "cfg:1", "sh", "-c",
              "id; pwd; echo $FOO $GREETING"}) ==
        "uid=0(root) gid=0(root) groups=0(root)\n/work/dir\nflag hello\n");
  std::string env = f.ok({"run", "--rm", "cfg:1", "env"});
  CHECK(env.find("PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\n") !=
        std::string::npos);
  CHECK(env.find("HOSTNAME=") != std::string::npos);
  kiln::testutil::write_file(f.path("vol/in.txt"), "from host\n");
  kiln::testutil::write_file(f.path("env.list"), "# comment\nFROM_FILE=yes\nFOO=file\n");
  CHECK(f.ok({"run", "--rm", "-v", f.path("vol") + ":/data:ro", "--env-file", f.path("env.list"),
              "cfg:1", "sh", "-c",
              "cat /data/in.txt; echo $FROM_FILE $FOO; touch /data/x 2>/dev/null || echo ro"}) ==
        "from host\nyes file\nro\n");
  CHECK(f.ok({"run", "--rm", "-u", "0", "-v", f.path("vol") + ":/data", "cfg:1", "sh", "-c",
              "echo written > /data/out.txt"}) == "");
  CHECK(kiln::testutil::read_file(f.path("vol/out.txt")) == "written\n");
  // --entrypoint replaces the command's start; the arguments follow it.
  CHECK(f.ok({"run", "--rm", "--entrypoint", "echo", "cfg:1", "a", "b"}) == "a b\n");
  f.check_clean({});
}

TEST_CASE("the sandbox: no host files, network none, no mount, a tty with -t",
          "[integration][run]") {
  RunFixture f;
  std::string listing = f.ok({"run", "--rm", "base:1", "ls", "/proc/1/root/.."});
  CHECK(listing.find("bin\n") != std::string::npos);
  CHECK(listing.find("work\n") == std::string::npos);  // the host's /work
  CHECK(listing.find("boot\n") == std::string::npos);
  std::string links = f.ok({"run", "--rm", "--network", "none", "base:1", "ip", "-o", "link"});
  CHECK(links.find("1: lo:") == 0);
  CHECK(std::count(links.begin(), links.end(), '\n') == 1);
  Output mount = f.kiln({"run", "--rm", "base:1", "mount", "-t", "tmpfs", "none", "/mnt"});
  CHECK(mount.exit_code != 0);
  CHECK(f.ok({"run", "--rm", "-t", "base:1", "sh", "-c", "test -t 1 && echo tty"}) == "tty\r\n");
  CHECK(f.ok({"run", "--rm", "base:1", "sh", "-c", "test -t 1 || echo no-tty"}) == "no-tty\n");
  // -i hands stdin over; without it the process reads nothing.
  CHECK(f.ok({"run", "--rm", "-i", "base:1", "cat"}, "from stdin\n") == "from stdin\n");
  CHECK(f.ok({"run", "--rm", "base:1", "cat"}, "ignored\n") == "");
  f.check_clean({});
}

TEST_CASE("a container run without --rm is kept, listed and committed to a new image",
          "[integration][run][commit]") {
  RunFixture f;
  Output first = f.kiln({"run", "--name", "maker", "base:1", "sh", "-c",
                         "echo made > /made.txt && rm /bin/vi && exit 3"});
  CHECK(first.exit_code == 3);
  std::string ps = f.ok({"ps", "-a"});
  CHECK(ps.find("Exited (3) ") != std::string::npos);
  CHECK(ps.find("maker") != std::string::npos);
  CHECK(f.ok({"ps"}).find("maker") == std::string::npos);  // not running
  auto inspect = nlohmann::json::parse(f.ok({"inspect", "maker"}));
  CHECK(inspect[0]["Name"] == "/maker");
  CHECK(inspect[0]["State"]["ExitCode"] == 3);
  CHECK(inspect[0]["Path"] == "sh");

  std::string image_id =
      RunFixture::trim(f.ok({"commit", "-m", "made it", "-c", "CMD [\"cat\", \"/made.txt\"]", "-c",
                             "ENV MADE=yes", "maker", "made:1"}));
  CHECK(image_id.rfind("sha256:", 0) == 0);
  CHECK(f.ok({"run", "--rm", "made:1"}) == "made\n");
  CHECK(f.ok({"run", "--rm", "made:1", "sh", "-c", "echo $MADE; test -e /bin/vi || echo gone"}) ==
        "yes\ngone\n");
  std::string history = f.ok({"history", "--no-trunc", "made:1"});
  CHECK(history.find("sh -c echo made > /made.txt && rm /bin/vi && exit 3") != std::string::npos);
  CHECK(history.find("made it") != std::string::npos);
  // The container is still there and can be committed again; its changes stay.
  CHECK(f.ok({"ps", "-a", "-q"}).size() == 13);
  f.ok({"rm", "maker"});
  CHECK(f.ok({"ps", "-a", "-q"}) == "");
  f.check_clean({});
}
