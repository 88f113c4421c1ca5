// The OCI runtime bundle's config.json for a ProcessSpec, with Docker's defaults:
// namespaces, capabilities, masked and read-only kernel paths, standard mounts.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <llvm/ADT/ArrayRef.h>
#include <llvm/ADT/StringRef.h>

#include "runtime/process_spec.h"
#include "runtime/user.h"

namespace kiln::runtime {

/// Docker's PATH for containers whose image sets none.
inline constexpr llvm::StringLiteral kDefaultPath =
    "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// Docker's default capability set (moby oci/caps/defaults.go), every container's.
llvm::ArrayRef<const char*> docker_capabilities();

/// Docker's RLIMIT_NOFILE for containers.
inline constexpr uint64_t kDefaultNofile = 1048576;

/// kDefaultNofile when this process may raise its hard limit that far (it has
/// CAP_SYS_RESOURCE, or the limit is already that high), else its current hard
/// limit: runc fails to start a container whose rlimit it cannot set.
uint64_t host_nofile_limit();

/// Everything config.json is made of. Host paths are absolute.
struct BundleConfig {
  std::string rootfs;
  const ProcessSpec* process = nullptr;  ///< borrowed; not null
  ResolvedUser user;
  std::string hostname;
  std::vector<std::string> env;  ///< the final environment (complete_env)
  std::string hosts_file;        ///< bind-mounted on /etc/hosts
  std::string resolv_conf_file;  ///< bind-mounted on /etc/resolv.conf
  std::string hostname_file;     ///< bind-mounted on /etc/hostname
  /// RLIMIT_NOFILE (soft and hard); docker's 1048576 unless the host cannot raise it.
  uint64_t nofile_limit = kDefaultNofile;
};

/// Docker's environment: PATH=kDefaultPath, HOSTNAME=`hostname` (and TERM=xterm with
/// `tty`), each replaced in place by an entry of `env` with the same key, then the
/// other entries of `env` in order, then HOME=`home` when `env` has none.
std::vector<std::string> complete_env(const std::vector<std::string>& env, llvm::StringRef hostname,
                                      llvm::StringRef home, bool tty);

/// The default /etc/hosts content for `hostname`.
std::string default_hosts(llvm::StringRef hostname);

/// The container paths whose mount stubs a run removes afterwards: the /etc files
/// and the extra mounts (not /proc, /dev, /sys, which BuildKit leaves in the layer).
std::vector<std::string> mount_destinations(const ProcessSpec& process);

/// config.json for `config` (OCI runtime spec 1.0.2), pretty-printed; invalid UTF-8
/// in strings becomes U+FFFD. Pure.
std::string make_runtime_config(const BundleConfig& config);

}  // namespace kiln::runtime
