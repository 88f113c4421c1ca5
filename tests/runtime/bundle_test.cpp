#include "runtime/bundle.h"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

namespace rt = kiln::runtime;
using Env = std::vector<std::string>;

TEST_CASE("environment gets docker's defaults", "[runtime][bundle]") {
  CHECK(rt::complete_env({}, "abc", "/root", false) ==
        Env{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "HOSTNAME=abc",
            "HOME=/root"});
  CHECK(rt::complete_env({"A=1", "PATH=/x", "HOME=/h", "B="}, "abc", "/root", true) ==
        Env{"PATH=/x", "HOSTNAME=abc", "TERM=xterm", "A=1", "HOME=/h", "B="});
  // No hostname (a build step, like BuildKit's RUN): no HOSTNAME variable.
  CHECK(rt::complete_env({}, "", "/root", false) ==
        Env{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "HOME=/root"});
}

TEST_CASE("default hosts name localhost and the hostname", "[runtime][bundle]") {
  CHECK(rt::default_hosts("box") ==
        "127.0.0.1\tlocalhost box\n::1\tlocalhost ip6-localhost ip6-loopback\n");
}

TEST_CASE("config.json carries the sandbox settings", "[runtime][bundle]") {
  rt::ProcessSpec process;
  process.args = {"sh", "-c", "echo hi"};
  process.cwd = "/work";
  process.network = rt::NetworkMode::none;
  process.rootfs_access = rt::Access::read_only;
  process.mounts = {{rt::MountSpec::Kind::bind, "/host/src", "/src", rt::Access::read_only, 0},
                    {rt::MountSpec::Kind::tmpfs, "", "/scratch", rt::Access::read_write, 1048576}};
  rt::BundleConfig config{"/r",
                          &process,
                          {1001, 1002, {1002, 1003}, "/home/app"},
                          "box",
                          {"A=1"},
                          "/s/hosts",
                          "/s/resolv.conf",
                          "/s/hostname"};
  auto spec = nlohmann::json::parse(rt::make_runtime_config(config));
  CHECK(spec["process"]["user"].dump() ==
        R"({"additionalGids":[1002,1003],"gid":1002,"uid":1001})");
  CHECK(spec["process"]["args"].dump() == R"(["sh","-c","echo hi"])");
  CHECK(spec["process"]["cwd"] == "/work");
  CHECK(spec["process"]["noNewPrivileges"] == false);
  CHECK(spec["process"]["rlimits"].dump() ==
        R"([{"hard":1048576,"soft":1048576,"type":"RLIMIT_NOFILE"}])");
  CHECK(spec["process"]["capabilities"]["bounding"].dump() ==
        R"(["CAP_CHOWN","CAP_DAC_OVERRIDE","CAP_FSETID","CAP_FOWNER","CAP_MKNOD","CAP_NET_RAW",)"
        R"("CAP_SETGID","CAP_SETUID","CAP_SETFCAP","CAP_SETPCAP","CAP_NET_BIND_SERVICE",)"
        R"("CAP_SYS_CHROOT","CAP_KILL","CAP_AUDIT_WRITE"])");
  CHECK(spec["root"].dump() == R"({"path":"/r","readonly":true})");
  CHECK(spec["hostname"] == "box");
  CHECK(spec["linux"]["namespaces"].dump() ==
        R"([{"type":"pid"},{"type":"ipc"},{"type":"uts"},{"type":"mount"},{"type":"network"}])");
  CHECK(spec["linux"]["readonlyPaths"].dump() ==
        R"(["/proc/bus","/proc/fs","/proc/irq","/proc/sys","/proc/sysrq-trigger"])");
  std::string mounts;
  for (const auto& m : spec["mounts"]) {
    mounts += m["destination"].get<std::string>() + " " + m["type"].get<std::string>() + " " +
              m["source"].get<std::string>() + " " + m["options"].dump() + "\n";
  }
  CHECK(mounts ==
        "/proc proc proc [\"nosuid\",\"noexec\",\"nodev\"]\n"
        "/dev tmpfs tmpfs [\"nosuid\",\"strictatime\",\"mode=755\",\"size=65536k\"]\n"
        "/dev/pts devpts devpts "
        "[\"nosuid\",\"noexec\",\"newinstance\",\"ptmxmode=0666\",\"mode=0620\",\"gid=5\"]\n"
        "/sys sysfs sysfs [\"nosuid\",\"noexec\",\"nodev\",\"ro\"]\n"
        "/sys/fs/cgroup cgroup cgroup [\"ro\",\"nosuid\",\"noexec\",\"nodev\"]\n"
        "/dev/mqueue mqueue mqueue [\"nosuid\",\"noexec\",\"nodev\"]\n"
        "/dev/shm tmpfs shm [\"nosuid\",\"noexec\",\"nodev\",\"mode=1777\",\"size=65536k\"]\n"
        "/etc/hosts bind /s/hosts [\"rbind\",\"rprivate\",\"rw\"]\n"
        "/etc/resolv.conf bind /s/resolv.conf [\"rbind\",\"rprivate\",\"rw\"]\n"
        "/etc/hostname bind /s/hostname [\"rbind\",\"rprivate\",\"rw\"]\n"
        "/src bind /host/src [\"rbind\",\"rprivate\",\"ro\"]\n"
        "/scratch tmpfs tmpfs [\"nosuid\",\"nodev\",\"rw\",\"size=1048576\"]\n");
}

TEST_CASE("host network keeps the host's namespace", "[runtime][bundle]") {
  rt::ProcessSpec process;
  process.args = {"true"};
  rt::BundleConfig config{"/r", &process, {}, "h", {}, "/a", "/b", "/c"};
  auto spec = nlohmann::json::parse(rt::make_runtime_config(config));
  CHECK(spec["linux"]["namespaces"].dump() ==
        R"([{"type":"pid"},{"type":"ipc"},{"type":"uts"},{"type":"mount"}])");
  CHECK(spec["root"]["readonly"] == false);
}
