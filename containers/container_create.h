// Creating a container from a stored image (the first half of `kiln run`):
// docker's rules for the process (Entrypoint/Cmd/Env/WorkingDir/User and the
// flags that override them), the container's record and its snapshot.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <llvm/Support/Error.h>

#include "containers/container_store.h"
#include "oci/image_config.h"

namespace kiln::containers {

/// `kiln run`'s container options.
struct CreateFlags {
  std::vector<std::string> env;
  std::vector<std::string> env_files;
  std::string workdir;
  std::string user;
  std::vector<std::string> volumes;
  std::vector<std::string> mounts;        ///< --mount
  std::vector<std::string> tmpfs;         ///< --tmpfs
  std::vector<std::string> volumes_from;  ///< --volumes-from
  /// "" (the default network `kiln`), "host", "none", "container:ID" or a network.
  std::string network;
  std::vector<std::string> network_aliases;
  /// --add-host NAME:IP
  std::vector<std::string> add_hosts;
  std::string hostname;
  std::vector<std::string> dns;
  /// --memory (e.g. "64m") and --cpus (e.g. "0.5"); empty: no limit.
  std::string memory;
  std::string cpus;
  /// --label KEY[=VALUE]
  std::vector<std::string> labels;
  /// docker's --security-opt values; kiln knows seccomp=unconfined|PROFILE.json.
  std::vector<std::string> security_opts;
  std::optional<std::string> entrypoint;
  bool interactive = false;
  bool tty = false;
  std::string name;
  bool auto_remove = false;
  std::string restart = "no";
  std::vector<std::string> publish;
  std::string stop_signal;
  std::optional<int> stop_timeout;
  bool no_healthcheck = false;
  std::vector<std::string> log_opts;
  /// --platform: which platform of a multi-platform image ("" is the host's); one
  /// the kernel cannot run (see runtime/binfmt.h) is refused.
  std::string platform;
  /// --init: run an init (Debian's tini, as docker's docker-init) as PID 1 that
  /// forwards signals and reaps zombies.
  bool init = false;
  /// Replaces the image's HEALTHCHECK (docker's --health-* flags; compose's
  /// `healthcheck:`); a test of ["NONE"] turns it off.
  std::optional<oci::Healthcheck> healthcheck;
  /// IMAGE [COMMAND [ARG...]]
  std::vector<std::string> image_and_command;
};

/// Parses -p [IP:][HOST_PORT:]CONTAINER_PORT[/tcp|/udp]; IP must be a loopback
/// address (127.0.0.1 when omitted); no HOST_PORT (`8000`, `127.0.0.1::8000`) is
/// an ephemeral one (host_port 0). Fails with a UsageError.
llvm::Expected<PublishedPort> parse_publish(llvm::StringRef text);

/// Called with each of docker's warnings ("WARNING: ..."), in order, for the
/// caller to print.
using WarningFn = std::function<void(const std::string& warning)>;

/// Creates the container in `store` from an image of the same kiln root (record
/// and snapshot on the image's layers, unpacking them when needed) and returns its
/// spec; docker's warnings go to `warn`.
llvm::Expected<ContainerSpec> create_container(const ContainerStore& store,
                                               const CreateFlags& flags, const WarningFn& warn);

}  // namespace kiln::containers
