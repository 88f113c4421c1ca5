// Volumes and mounts of `kiln run`: named volumes that outlive containers and are
// seeded from the image, single-file binds, --mount, --tmpfs, --volumes-from
// (issue 16).
#include <nlohmann/json.hpp>

#include "tests/integration/run_fixture.h"

namespace {

using kiln::testing::RunFixture;
using kiln::testutil::Output;

}  // namespace

TEST_CASE(
    "a named volume keeps data across containers, is seeded from the image, "
    "and is not removed while in use",
    "[integration][volume]") {
  RunFixture f;
  f.build("seed:1", "FROM base:1\nRUN mkdir -p /data && echo from-image > /data/seed.txt\n");
  // First use creates the volume and copies the image's /data into it.
  CHECK(f.ok({"run", "--rm", "-v", "appdata:/data", "seed:1", "sh", "-c",
              "cat /data/seed.txt && echo written > /data/new.txt"}) == "from-image\n");
  CHECK(f.ok({"volume", "ls", "-q"}) == "appdata\n");
  auto inspect = nlohmann::json::parse(f.ok({"volume", "inspect", "appdata"}));
  CHECK(inspect[0]["Mountpoint"] == f.root() + "/volumes/appdata/_data");
  CHECK(inspect[0]["Driver"] == "local");
  // Another container (another image) sees what the first wrote; not re-seeded.
  CHECK(f.ok({"run", "--rm", "-v", "appdata:/data", "base:1", "ls", "/data"}) ==
        "new.txt\nseed.txt\n");
  // Read-only.
  Output ro = f.kiln({"run", "--rm", "-v", "appdata:/data:ro", "base:1", "touch", "/data/x"});
  CHECK(ro.exit_code != 0);
  // In use by a container (even a stopped one): refused.
  std::string id = RunFixture::trim(
      f.ok({"create", "--name", "holder", "-v", "appdata:/data", "base:1", "true"}));
  auto c = nlohmann::json::parse(f.ok({"inspect", "holder"}));
  CHECK(c[0]["Mounts"][0]["Type"] == "volume");
  CHECK(c[0]["Mounts"][0]["Name"] == "appdata");
  CHECK(c[0]["Mounts"][0]["Destination"] == "/data");
  Output refused = f.kiln({"volume", "rm", "appdata"});
  CHECK(refused.exit_code == 1);
  CHECK(refused.err == "error: remove appdata: volume is in use - [" + id + "]\n");
  // --volumes-from takes the holder's volume.
  CHECK(f.ok({"run", "--rm", "--volumes-from", "holder", "base:1", "cat", "/data/new.txt"}) ==
        "written\n");
  f.ok({"rm", "holder"});
  CHECK(f.ok({"volume", "rm", "appdata"}) == "appdata\n");
  CHECK(f.ok({"volume", "ls", "-q"}) == "");
  f.check_clean({});
}

TEST_CASE("single-file binds, --mount bind|tmpfs|volume and --tmpfs", "[integration][volume]") {
  RunFixture f;
  kiln::testutil::write_file(f.path("conf/app.conf"), "key=value\n");
  CHECK(f.ok({"run", "--rm", "-v", f.path("conf/app.conf") + ":/etc/app.conf:ro", "base:1", "cat",
              "/etc/app.conf"}) == "key=value\n");
  // A writable single-file bind writes through to the host's file.
  f.ok({"run", "--rm", "-v", f.path("conf/app.conf") + ":/app.conf", "base:1", "sh", "-c",
        "echo changed > /app.conf"});
  CHECK(kiln::testutil::read_file(f.path("conf/app.conf")) == "changed\n");
  CHECK(f.ok({"run", "--rm", "--mount",
              "type=bind,src=" + f.path("conf/app.conf") + ",dst=/m.conf,readonly", "base:1", "cat",
              "/m.conf"}) == "changed\n");
  Output missing =
      f.kiln({"run", "--rm", "--mount", "type=bind,src=/no/such/file,dst=/x", "base:1", "true"});
  CHECK(missing.exit_code == 1);
  CHECK(missing.err.find("bind source path does not exist: /no/such/file") != std::string::npos);
  std::string mounts = f.ok({"run", "--rm", "--tmpfs", "/scratch:size=1m", "--mount",
                             "type=tmpfs,dst=/t2", "base:1", "grep", "tmpfs /", "/proc/mounts"});
  CHECK(mounts.find("tmpfs /scratch tmpfs") != std::string::npos);
  CHECK(mounts.find("size=1024k") != std::string::npos);
  CHECK(mounts.find("tmpfs /t2 tmpfs") != std::string::npos);
  f.ok({"run", "--rm", "--mount", "type=volume,src=cache,dst=/cache", "base:1", "touch",
        "/cache/hit"});
  CHECK(f.ok({"run", "--rm", "-v", "cache:/c", "base:1", "ls", "/c"}) == "hit\n");
  // An anonymous volume (of a container removed without --rm), removed by prune.
  f.ok({"run", "--name", "anon", "-v", "/anon", "base:1", "true"});
  f.ok({"rm", "anon"});
  CHECK(f.ok({"volume", "ls", "-q"}).size() == std::string("cache\n").size() + 65);
  // Without -f prune asks first, as docker does; anything but y/yes keeps them.
  auto declined = f.kiln({"volume", "prune"}, "n\n");
  CHECK(declined.exit_code == 0);
  CHECK(declined.out == "");
  CHECK(declined.err ==
        "WARNING! This will remove anonymous local volumes not used by at least one container.\n"
        "Are you sure you want to continue? [y/N] ");
  CHECK(f.ok({"volume", "ls", "-q"}).size() == std::string("cache\n").size() + 65);
  std::string pruned = f.ok({"volume", "prune", "-f"});
  CHECK(pruned.rfind("Deleted Volumes:\n", 0) == 0);
  CHECK(f.ok({"volume", "ls", "-q"}) == "cache\n");
  f.check_clean({});
}

TEST_CASE("run --rm and rm -v remove anonymous volumes and keep named ones",
          "[integration][volume]") {
  RunFixture f;
  f.ok({"run", "--rm", "--network", "none", "-v", "/anon", "-v", "keep:/keep", "base:1", "sh", "-c",
        "echo x > /anon/f && echo y > /keep/f"});
  CHECK(f.ok({"volume", "ls", "-q"}) == "keep\n");
  // Without --rm the anonymous volume outlives the container, as in docker.
  f.ok({"run", "--name", "stays", "--network", "none", "-v", "/anon2", "base:1", "true"});
  f.ok({"rm", "stays"});
  std::string left = f.ok({"volume", "ls", "-q"});
  CHECK(left.find("keep\n") != std::string::npos);
  CHECK(left.size() == 5 + 65);  // keep and one 64-hex anonymous name
  // rm -v takes the anonymous ones along, and never a named one.
  f.ok({"run", "--name", "gone", "--network", "none", "-v", "/anon3", "-v", "keep:/keep", "base:1",
        "true"});
  f.ok({"rm", "-v", "gone"});
  CHECK(f.ok({"volume", "ls", "-q"}) == left);
}
