// What to run in a container: the process, its sandbox options and its mounts.
// Plain values; the executor turns them into an OCI runtime bundle.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace kiln::runtime {

/// `host` shares the host's network namespace; `none` gives a new one with only `lo`.
enum class NetworkMode { host, none };

/// Whether a mount (or the rootfs) may be written.
enum class Access { read_write, read_only };

/// A mount added to the container. `bind` mounts the host path `source` (recursively);
/// `tmpfs` ignores `source` and uses `tmpfs_size_bytes` (0: the kernel's default).
struct MountSpec {
  enum class Kind { bind, tmpfs };
  Kind kind = Kind::bind;
  std::string source;       ///< absolute host path (bind only)
  std::string destination;  ///< absolute path inside the container
  Access access = Access::read_write;
  uint64_t tmpfs_size_bytes = 0;
};

/// A container's seccomp filter: docker's default profile (the default), none, or
/// a custom `linux.seccomp` object (JSON text from seccomp_from_profile).
struct Seccomp {
  enum class Kind { docker_default, unconfined, custom };
  Kind kind = Kind::docker_default;
  std::string oci_json;  ///< Kind::custom only: a valid `linux.seccomp` JSON object
  bool operator==(const Seccomp&) const = default;
};

/// The process and sandbox of one container run.
struct ProcessSpec {
  /// argv; args[0] is looked up in the container's PATH by the runtime. Not empty.
  std::vector<std::string> args;
  /// "KEY=VALUE" entries. PATH, HOSTNAME and HOME are added like docker when absent.
  std::vector<std::string> env;
  /// Absolute working directory; created (owned by the user) when missing.
  std::string cwd = "/";
  /// `name`, `uid`, `uid:gid`, `name:group` (resolved in the rootfs); "" is root.
  std::string user;
  /// Runs the process on a pseudo-terminal (stdout and stderr merged).
  bool tty = false;
  /// "os/arch[/variant]" of the container's binaries when they are not the host's;
  /// the runtime refuses to start one that the kernel cannot run (see binfmt.h).
  /// "" means the host's platform.
  std::string platform;
  NetworkMode network = NetworkMode::host;
  /// A network namespace file (or /proc/PID/ns/net) to join instead of `network`.
  std::string netns_path;
  /// Container hostname; empty means the first 12 characters of the container id.
  std::string hostname;
  /// Sets HOSTNAME in the environment, as `docker run` does (BuildKit's RUN does not).
  bool hostname_env = true;
  std::vector<MountSpec> mounts;
  Access rootfs_access = Access::read_write;
  /// Content of /etc/hosts; nullopt: localhost entries plus the hostname.
  std::optional<std::string> hosts;
  /// A host file bind-mounted on /etc/hosts instead of `hosts` (kept current by
  /// its owner, e.g. a network's name list).
  std::string hosts_path;
  /// Content of /etc/resolv.conf; nullopt: a copy of the host's.
  std::optional<std::string> resolv_conf;
  Seccomp seccomp;
  /// cgroup limits: memory in bytes (0: none), CPUs as docker's --cpus (0: none).
  int64_t memory_limit = 0;
  double cpus = 0;
};

}  // namespace kiln::runtime
