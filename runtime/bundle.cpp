#include "runtime/bundle.h"

#include <sys/resource.h>

#include <algorithm>

#include <nlohmann/json.hpp>

#include "runtime/seccomp.h"

namespace kiln::runtime {
namespace {

using nlohmann::json;

llvm::StringRef env_key(llvm::StringRef entry) { return entry.split('=').first; }

json default_capabilities() {
  json list = json::array();
  for (const char* cap : docker_capabilities()) {
    list.push_back(cap);
  }
  return {{"bounding", list}, {"effective", list}, {"permitted", list}};
}

json mount(llvm::StringRef dest, llvm::StringRef type, llvm::StringRef source,
           std::vector<std::string> options) {
  return {{"destination", dest.str()},
          {"type", type.str()},
          {"source", source.str()},
          {"options", std::move(options)}};
}

// Docker's standard mounts (moby oci/defaults.go), /sys read-only, cgroup read-only.
json standard_mounts() {
  json m = json::array();
  m.push_back(mount("/proc", "proc", "proc", {"nosuid", "noexec", "nodev"}));
  m.push_back(
      mount("/dev", "tmpfs", "tmpfs", {"nosuid", "strictatime", "mode=755", "size=65536k"}));
  m.push_back(mount("/dev/pts", "devpts", "devpts",
                    {"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"}));
  m.push_back(mount("/sys", "sysfs", "sysfs", {"nosuid", "noexec", "nodev", "ro"}));
  m.push_back(mount("/sys/fs/cgroup", "cgroup", "cgroup", {"ro", "nosuid", "noexec", "nodev"}));
  m.push_back(mount("/dev/mqueue", "mqueue", "mqueue", {"nosuid", "noexec", "nodev"}));
  m.push_back(
      mount("/dev/shm", "tmpfs", "shm", {"nosuid", "noexec", "nodev", "mode=1777", "size=65536k"}));
  return m;
}

json extra_mount(const MountSpec& spec) {
  std::string access = spec.access == Access::read_only ? "ro" : "rw";
  if (spec.kind == MountSpec::Kind::tmpfs) {
    std::vector<std::string> options = {"nosuid", "nodev", access};
    if (spec.tmpfs_size_bytes != 0) {
      options.push_back("size=" + std::to_string(spec.tmpfs_size_bytes));
    }
    return mount(spec.destination, "tmpfs", "tmpfs", options);
  }
  return mount(spec.destination, "bind", spec.source, {"rbind", "rprivate", access});
}

// Docker's device cgroup rules: deny all, allow the standard devices.
json device_rules() {
  json rules = json::array();
  rules.push_back({{"allow", false}, {"access", "rwm"}});
  auto allow = [&](const char* type, int64_t major, int64_t minor, const char* access) {
    json rule = {{"allow", true}, {"type", type}, {"major", major}, {"access", access}};
    if (minor >= 0) {
      rule["minor"] = minor;
    }
    rules.push_back(rule);
  };
  allow("c", 1, 5, "rwm");     // /dev/zero
  allow("c", 1, 3, "rwm");     // /dev/null
  allow("c", 1, 9, "rwm");     // /dev/urandom
  allow("c", 1, 8, "rwm");     // /dev/random
  allow("c", 5, 0, "rwm");     // /dev/tty
  allow("c", 5, 1, "rwm");     // /dev/console
  allow("c", 5, 2, "rwm");     // /dev/ptmx
  allow("c", 1, 7, "rwm");     // /dev/full
  allow("c", 136, -1, "rwm");  // /dev/pts/*
  allow("c", 10, 200, "rwm");  // /dev/net/tun
  return rules;
}

json resources(const ProcessSpec& process) {
  json out = {{"devices", device_rules()}};
  if (process.memory_limit > 0) {
    out["memory"] = {{"limit", process.memory_limit}};
  }
  if (process.cpus > 0) {
    constexpr int64_t kPeriod = 100000;
    out["cpu"] = {{"quota", static_cast<int64_t>(process.cpus * kPeriod)}, {"period", kPeriod}};
  }
  return out;
}

json linux_section(const ProcessSpec& process) {
  json namespaces =
      json::array({{{"type", "pid"}}, {{"type", "ipc"}}, {{"type", "uts"}}, {{"type", "mount"}}});
  if (!process.netns_path.empty()) {
    namespaces.push_back({{"type", "network"}, {"path", process.netns_path}});
  } else if (process.network == NetworkMode::none) {
    namespaces.push_back({{"type", "network"}});
  }
  json section = {
      {"namespaces", namespaces},
      {"resources", resources(process)},
      {"maskedPaths",
       {"/proc/asound", "/proc/acpi", "/proc/kcore", "/proc/keys", "/proc/latency_stats",
        "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/proc/scsi", "/sys/firmware",
        "/sys/devices/virtual/powercap"}},
      {"readonlyPaths", {"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"}},
  };
  switch (process.seccomp.kind) {
    case Seccomp::Kind::docker_default:
      section["seccomp"] = json::parse(docker_default_seccomp());
      break;
    case Seccomp::Kind::custom:
      section["seccomp"] = json::parse(process.seccomp.oci_json, nullptr, false);
      break;
    case Seccomp::Kind::unconfined:
      break;
  }
  return section;
}

}  // namespace

llvm::ArrayRef<const char*> docker_capabilities() {
  static const char* const kCaps[] = {
      "CAP_CHOWN",   "CAP_DAC_OVERRIDE", "CAP_FSETID",           "CAP_FOWNER",
      "CAP_MKNOD",   "CAP_NET_RAW",      "CAP_SETGID",           "CAP_SETUID",
      "CAP_SETFCAP", "CAP_SETPCAP",      "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT",
      "CAP_KILL",    "CAP_AUDIT_WRITE"};
  return kCaps;
}

uint64_t host_nofile_limit() {
  rlimit current{};
  if (::getrlimit(RLIMIT_NOFILE, &current) != 0) {
    return kDefaultNofile;
  }
  if (current.rlim_max >= kDefaultNofile) {
    return kDefaultNofile;
  }
  // Raising our own hard limit succeeds exactly when runc's setrlimit would.
  rlimit raised{current.rlim_cur, kDefaultNofile};
  if (::setrlimit(RLIMIT_NOFILE, &raised) == 0) {
    return kDefaultNofile;
  }
  return current.rlim_max;
}

std::vector<std::string> complete_env(const std::vector<std::string>& env, llvm::StringRef hostname,
                                      llvm::StringRef home, bool tty) {
  std::vector<std::string> out = {("PATH=" + kDefaultPath).str()};
  if (!hostname.empty()) {
    out.push_back(("HOSTNAME=" + hostname).str());
  }
  if (tty) {
    out.push_back("TERM=xterm");
  }
  for (const auto& entry : env) {
    auto it = std::find_if(out.begin(), out.end(), [&](const std::string& existing) {
      return env_key(existing) == env_key(entry);
    });
    if (it != out.end()) {
      *it = entry;
    } else {
      out.push_back(entry);
    }
  }
  bool has_home = std::any_of(out.begin(), out.end(),
                              [](const std::string& e) { return env_key(e) == "HOME"; });
  if (!has_home) {
    out.push_back(("HOME=" + home).str());
  }
  return out;
}

std::string default_hosts(llvm::StringRef hostname) {
  return ("127.0.0.1\tlocalhost " + hostname + "\n::1\tlocalhost ip6-localhost ip6-loopback\n")
      .str();
}

std::vector<std::string> mount_destinations(const ProcessSpec& process) {
  // Like BuildKit's MountStubsCleaner: the runtime's own mount points (/proc, /dev,
  // /sys) that a base image lacks stay in the RUN layer, as they do with BuildKit.
  std::vector<std::string> out = {"/etc/hosts", "/etc/resolv.conf", "/etc/hostname"};
  for (const auto& m : process.mounts) {
    out.push_back(m.destination);
  }
  return out;
}

std::string make_runtime_config(const BundleConfig& config) {
  const ProcessSpec& process = *config.process;
  json user = {{"uid", config.user.uid},
               {"gid", config.user.gid},
               {"additionalGids", config.user.additional_gids}};
  json proc = {
      {"terminal", process.tty},
      {"user", user},
      {"args", process.args},
      {"env", config.env},
      {"cwd", process.cwd.empty() ? "/" : process.cwd},
      {"capabilities", default_capabilities()},
      {"rlimits", json::array({{{"type", "RLIMIT_NOFILE"},
                                {"hard", config.nofile_limit},
                                {"soft", config.nofile_limit}}})},
      {"noNewPrivileges", false},
  };
  json mounts = standard_mounts();
  std::vector<std::string> etc_options = {"rbind", "rprivate", "rw"};
  mounts.push_back(mount("/etc/hosts", "bind", config.hosts_file, etc_options));
  mounts.push_back(mount("/etc/resolv.conf", "bind", config.resolv_conf_file, etc_options));
  mounts.push_back(mount("/etc/hostname", "bind", config.hostname_file, etc_options));
  for (const auto& m : process.mounts) {
    mounts.push_back(extra_mount(m));
  }
  json spec = {
      {"ociVersion", "1.0.2"},
      {"process", proc},
      {"root", {{"path", config.rootfs}, {"readonly", process.rootfs_access == Access::read_only}}},
      {"hostname", config.hostname},
      {"mounts", mounts},
      {"linux", linux_section(process)},
  };
  // runc (Go) replaces invalid UTF-8 too; replacing keeps dump() from throwing.
  return spec.dump(2, ' ', false, json::error_handler_t::replace) + "\n";
}

}  // namespace kiln::runtime
