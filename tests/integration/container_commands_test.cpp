// The rest of docker's everyday container surface (issue 16): create + start,
// ps --filter, --label, wait, rename, pause/unpause, top, stats --no-stream,
// --memory/--cpus, run --help's positionals and an unknown command's message.
#include <nlohmann/json.hpp>

#include "tests/integration/run_fixture.h"

namespace {

using kiln::testing::RunFixture;
using kiln::testutil::Output;

}  // namespace

TEST_CASE("create, start, cp, ps --filter, wait, rename, pause, top, stats",
          "[integration][run][commands]") {
  RunFixture f;
  std::string id =
      RunFixture::trim(f.ok({"create", "--name", "job", "--label", "tier=back", "-m", "64m",
                             "--cpus", "0.5", "base:1", "sh", "-c", "sleep 600"}));
  f.ok({"create", "--name", "other", "base:1", "cat", "/in.txt"});
  // cp into a created container, then out of it once it ran.
  kiln::testutil::write_file(f.path("in.txt"), "from the host\n");
  f.ok({"cp", f.path("in.txt"), "other:/in.txt"});
  f.ok({"start", "other"});
  CHECK(f.ok({"wait", "other"}) == "0\n");
  CHECK(f.ok({"logs", "other"}) == "from the host\n");
  f.ok({"cp", "other:/in.txt", f.path("out.txt")});
  CHECK(kiln::testutil::read_file(f.path("out.txt")) == "from the host\n");
  CHECK(f.kiln({"cp", "other:/nope", f.path("x")}).err ==
        "error: Could not find the file /nope in container\n");
  CHECK(f.ok({"ps", "-q", "--filter", "status=created", "--filter", "label=tier=back"}) ==
        id.substr(0, 12) + "\n");
  CHECK(f.ok({"ps", "-aq", "--filter", "name=oth"}).size() == 13);
  CHECK(f.ok({"start", "job"}) == "job\n");
  CHECK(f.ok({"ps", "--filter", "ancestor=base:1", "--filter", "status=running", "--format",
              "{{.Names}} {{.Labels}} {{.Networks}}"}) == "job tier=back kiln\n");
  CHECK(f.kiln({"ps", "--filter", "colour=red"}).err == "error: invalid filter 'colour'\n");
  auto inspect = nlohmann::json::parse(f.ok({"inspect", "job"}));
  CHECK(inspect[0]["HostConfig"]["NetworkMode"] == "kiln");
  std::string top = f.ok({"top", "job"});
  CHECK(top.find("sleep 600") != std::string::npos);
  // cp out of a running container.
  f.ok({"exec", "job", "sh", "-c", "mkdir /d && echo x > /d/f"});
  f.ok({"cp", "job:/d", f.path("d")});
  CHECK(kiln::testutil::read_file(f.path("d/f")) == "x\n");
  std::string stats = f.ok({"stats", "--no-stream", "job"});
  CHECK(stats.find("/ 64MiB") != std::string::npos);
  CHECK(stats.find("   job   ") != std::string::npos);
  CHECK(f.ok({"pause", "job"}) == "job\n");
  // Paused shows as docker shows it: ps STATUS, State.Status/Paused, the status filter.
  CHECK(f.ok({"ps", "--format", "{{.Status}}"}).find("(Paused)") != std::string::npos);
  CHECK(f.ok({"inspect", "-f", "{{.State.Status}} {{.State.Paused}}", "job"}) == "paused true\n");
  CHECK(f.ok({"ps", "-q", "--filter", "status=paused"}).size() == 13);
  CHECK(f.ok({"unpause", "job"}) == "job\n");
  CHECK(f.ok({"inspect", "-f", "{{.State.Status}} {{.State.Paused}}", "job"}) == "running false\n");
  CHECK(f.ok({"ps", "-q", "--filter", "status=paused"}).empty());
  f.ok({"rename", "job", "task"});
  CHECK(f.kiln({"inspect", "job"}).exit_code != 0);
  CHECK(f.ok({"ps", "--format", "{{.Names}}"}) == "task\n");
  f.ok({"run", "-d", "--name", "short", "base:1", "sh", "-c", "sleep 1; exit 3"});
  CHECK(f.ok({"wait", "short"}) == "3\n");
  f.check_clean({});
}

TEST_CASE("run --help names its positionals, and an unknown command is named",
          "[integration][run]") {
  RunFixture f;
  CHECK(f.ok({"run", "--help"}).find("Usage: kiln run [OPTIONS] IMAGE [COMMAND] [ARG...]") !=
        std::string::npos);
  CHECK(f.ok({"run", "--help"}).find("127.0.0.1") != std::string::npos);
  Output unknown = f.kiln({"swarm", "up"});
  CHECK(unknown.exit_code == 1);
  CHECK(unknown.err == "kiln: 'swarm' is not a kiln command.\nSee 'kiln --help'\n");
  // run -h is --hostname, as in docker.
  CHECK(f.ok({"run", "--rm", "--network", "none", "-h", "box", "base:1", "hostname"}) == "box\n");
}

TEST_CASE("run --init runs docker-init as PID 1, which passes stop's SIGTERM on",
          "[integration][run]") {
  RunFixture f;
  CHECK(f.ok({"run", "--rm", "--init", "--network", "none", "base:1", "cat", "/proc/1/comm"}) ==
        "docker-init\n");
  CHECK(f.ok({"run", "--rm", "--init", "--network", "none", "base:1", "sh", "-c",
              "tr '\\0' ' ' < /proc/1/cmdline"}) ==
        "/sbin/docker-init -- sh -c tr '\\0' ' ' < /proc/1/cmdline ");
  // sleep as PID 1 ignores SIGTERM and is killed after the timeout (137); under
  // the init the TERM reaches it and it dies of it (143).
  std::string with = f.ok({"run", "-d", "--init", "--network", "none", "base:1", "sleep", "60"});
  std::string without = f.ok({"run", "-d", "--network", "none", "base:1", "sleep", "60"});
  with.pop_back();
  without.pop_back();
  f.ok({"stop", "-t", "3", with, without});
  CHECK(f.ok({"inspect", "-f", "{{.State.ExitCode}}", with}) == "143\n");
  CHECK(f.ok({"inspect", "-f", "{{.State.ExitCode}}", without}) == "137\n");
  f.ok({"rm", with, without});
  // The init binary's mount leaves no stub in the image's files.
  CHECK(f.kiln({"run", "--rm", "--network", "none", "base:1", "test", "-e", "/sbin/docker-init"})
            .exit_code == 1);
  Output missing = kiln::testutil::run(
      {KILN_BINARY, "--root", f.root(), "run", "--rm", "--init", "base:1", "true"}, "",
      {"KILN_INIT_PATH=/nonexistent/tini"});
  CHECK(missing.exit_code != 0);
  CHECK(missing.err.find("--init needs a static init binary at '/nonexistent/tini'") !=
        std::string::npos);
}
