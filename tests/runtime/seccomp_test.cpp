#include "runtime/seccomp.h"

#include <algorithm>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "runtime/bundle.h"
#include "support/error.h"

namespace rt = kiln::runtime;
using nlohmann::json;

namespace {

// The action the filter `seccomp` takes for an argument-free call of `name`.
std::string action_for(const json& seccomp, const std::string& name) {
  for (const json& rule : seccomp["syscalls"]) {
    auto names = rule["names"].get<std::vector<std::string>>();
    if (std::find(names.begin(), names.end(), name) != names.end()) {
      return rule["action"].get<std::string>() +
             (rule.contains("args") && !rule["args"].empty() ? " if " + rule["args"].dump() : "");
    }
  }
  return seccomp["defaultAction"].get<std::string>() + " " + seccomp["defaultErrnoRet"].dump();
}

}  // namespace

TEST_CASE("docker's default profile allows the usual and denies namespaces", "[runtime][seccomp]") {
  json seccomp = json::parse(rt::docker_default_seccomp());
  CHECK(seccomp["defaultAction"] == "SCMP_ACT_ERRNO");
  CHECK(seccomp["defaultErrnoRet"] == 1);
  CHECK(seccomp["architectures"].dump() ==
        R"(["SCMP_ARCH_X86_64","SCMP_ARCH_X86","SCMP_ARCH_X32"])");
  for (const char* denied : {"unshare", "mount", "umount2", "keyctl", "add_key", "request_key",
                             "bpf", "setns", "kexec_load", "reboot", "init_module", "swapon",
                             "perf_event_open", "userfaultfd", "open_by_handle_at", "pivot_root"}) {
    CHECK(action_for(seccomp, denied) == "SCMP_ACT_ERRNO 1");
  }
  for (const char* allowed : {"read", "openat", "execve", "chroot", "ptrace", "arch_prctl",
                              "seccomp", "io_uring_setup", "setuid"}) {
    CHECK(action_for(seccomp, allowed) == "SCMP_ACT_ALLOW");
  }
  CHECK(action_for(seccomp, "clone") ==
        R"(SCMP_ACT_ALLOW if [{"index":0,"op":"SCMP_CMP_MASKED_EQ","value":2114060288,)"
        R"("valueTwo":0}])");
  CHECK(action_for(seccomp, "socket") ==
        R"(SCMP_ACT_ALLOW if [{"index":0,"op":"SCMP_CMP_NE","value":40,"valueTwo":0}])");
  CHECK(action_for(seccomp, "clone3") == "SCMP_ACT_ERRNO");
}

TEST_CASE("a docker profile resolves arches, capabilities and kernels", "[runtime][seccomp]") {
  const char* profile = R"({
    "defaultAction": "SCMP_ACT_ERRNO",
    "archMap": [{"architecture": "SCMP_ARCH_X86_64", "subArchitectures": ["SCMP_ARCH_X86"]},
                {"architecture": "SCMP_ARCH_AARCH64", "subArchitectures": ["SCMP_ARCH_ARM"]}],
    "syscalls": [
      {"names": ["read", "write"], "action": "SCMP_ACT_ALLOW"},
      {"name": "getpid", "action": "SCMP_ACT_ALLOW"},
      {"names": ["mount"], "action": "SCMP_ACT_ALLOW", "includes": {"caps": ["CAP_SYS_ADMIN"]}},
      {"names": ["chroot"], "action": "SCMP_ACT_ALLOW", "includes": {"caps": ["CAP_SYS_CHROOT"]}},
      {"names": ["s390_x"], "action": "SCMP_ACT_ALLOW", "includes": {"arches": ["s390x"]}},
      {"names": ["arch_prctl"], "action": "SCMP_ACT_ALLOW", "includes": {"arches": ["amd64"]}},
      {"names": ["future"], "action": "SCMP_ACT_ALLOW", "includes": {"minKernel": "99.0"}},
      {"names": ["ptrace"], "action": "SCMP_ACT_ALLOW", "includes": {"minKernel": "4.8"}},
      {"names": ["clone3"], "action": "SCMP_ACT_ERRNO", "errnoRet": 38,
       "excludes": {"caps": ["CAP_SYS_ADMIN"]}},
      {"names": ["kill"], "action": "SCMP_ACT_ERRNO", "excludes": {"caps": ["CAP_KILL"]}}
    ]})";
  auto converted = rt::seccomp_from_profile(profile);
  REQUIRE(static_cast<bool>(converted));
  CHECK(*converted ==
        R"({"architectures":["SCMP_ARCH_X86_64","SCMP_ARCH_X86"],"defaultAction":"SCMP_ACT_ERRNO",)"
        R"("syscalls":[{"action":"SCMP_ACT_ALLOW","names":["read","write"]},)"
        R"({"action":"SCMP_ACT_ALLOW","names":["getpid"]},)"
        R"({"action":"SCMP_ACT_ALLOW","names":["chroot"]},)"
        R"({"action":"SCMP_ACT_ALLOW","names":["arch_prctl"]},)"
        R"({"action":"SCMP_ACT_ALLOW","names":["ptrace"]},)"
        R"({"action":"SCMP_ACT_ERRNO","errnoRet":38,"names":["clone3"]}]})");
}

TEST_CASE("a profile that is not one fails", "[runtime][seccomp]") {
  auto bad = rt::seccomp_from_profile("[1]");
  REQUIRE(!bad);
  CHECK(kiln::error_message(bad.takeError()) ==
        "not a seccomp profile: expected a JSON object with 'defaultAction'");
  auto missing = rt::parse_security_opt("seccomp=/nonexistent/profile.json");
  REQUIRE(!missing);
  CHECK(kiln::error_message(missing.takeError()) ==
        "seccomp profile '/nonexistent/profile.json': open '/nonexistent/profile.json': No such "
        "file or directory");
  auto unconfined = rt::parse_security_opt("seccomp=unconfined");
  REQUIRE(static_cast<bool>(unconfined));
  CHECK(unconfined->kind == rt::Seccomp::Kind::unconfined);
  auto apparmor = rt::parse_security_opt("apparmor=unconfined");
  REQUIRE(!apparmor);
  CHECK(
      kiln::error_message(apparmor.takeError()) ==
      "invalid --security-opt 'apparmor=unconfined' (kiln knows seccomp=unconfined|PROFILE.json)");
}

TEST_CASE("config.json carries the seccomp policy", "[runtime][seccomp][bundle]") {
  rt::ProcessSpec process;
  process.args = {"true"};
  rt::BundleConfig config{"/r", &process, {}, "h", {}, "/a", "/b", "/c"};
  auto spec = json::parse(rt::make_runtime_config(config));
  CHECK(spec["linux"]["seccomp"] == json::parse(rt::docker_default_seccomp()));
  process.seccomp = {rt::Seccomp::Kind::unconfined, ""};
  spec = json::parse(rt::make_runtime_config(config));
  CHECK(!spec["linux"].contains("seccomp"));
  process.seccomp = {rt::Seccomp::Kind::custom, R"({"defaultAction":"SCMP_ACT_ALLOW"})"};
  spec = json::parse(rt::make_runtime_config(config));
  CHECK(spec["linux"]["seccomp"].dump() == R"({"defaultAction":"SCMP_ACT_ALLOW"})");
}
