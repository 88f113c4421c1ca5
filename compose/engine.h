// What compose needs from the machine, behind one small interface: networks,
// volumes and containers. compose/ decides what should exist (names, labels,
// hashes, order); an Engine makes it so. LocalEngine (engine_local.h) is kiln's
// own engine over containers/; networks and volumes are the seam where the
// networks-and-volumes work (issue 16's network/ and volume store) plugs in.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <llvm/Support/Error.h>

#include "containers/container_ops.h"
#include "oci/image_config.h"

namespace kiln::compose {

using Labels = std::map<std::string, std::string>;

/// A mount of a container to be: a bind of a host path, a named volume (by its
/// full name), or a tmpfs.
struct MountRequest {
  enum class Type { bind, volume, tmpfs };
  Type type = Type::bind;
  std::string source;  ///< host path (bind) or volume name (volume); empty for tmpfs
  std::string target;
  bool read_only = false;
  /// bind: create the host directory when missing.
  bool create_host_path = true;
  /// bind of a single file (a secret or config).
  bool file = false;
};

/// A network a container joins, with its aliases there (the service's name and
/// its `aliases:`).
struct NetworkJoin {
  std::string network;  ///< the network's full name
  std::vector<std::string> aliases;
};

/// Everything an Engine needs to create one container of a service.
struct ContainerRequest {
  std::string name;
  std::string image;
  /// The words after the image (`kiln run IMAGE ...`); with `entrypoint` set,
  /// they follow it.
  std::vector<std::string> command;
  /// Overrides the image's entrypoint (its first word; the rest go first in
  /// `command`), as `--entrypoint`. Unset: the image's.
  std::optional<std::string> entrypoint;
  std::vector<std::string> env;  ///< KEY=VALUE
  std::string working_dir;
  std::string user;
  Labels labels;
  std::vector<MountRequest> mounts;
  std::vector<std::string> publish;  ///< [IP:]HOST:CONTAINER[/tcp]
  std::string restart = "no";
  std::string stop_signal;
  std::optional<int> stop_timeout;
  std::optional<oci::Healthcheck> healthcheck;
  /// docker's network mode: "host", "none", or empty for `networks`.
  std::string network_mode;
  std::vector<NetworkJoin> networks;
  std::string hostname;
  std::vector<std::string> extra_hosts;  ///< NAME=IP
  bool init = false;
  bool auto_remove = false;
  bool interactive = false;
  bool tty = false;
  /// `kiln run --memory` ("64m") and `--cpus` ("0.5"); empty: no limit.
  std::string memory;
  std::string cpus;
  /// `kiln run --platform`: which platform of a multi-platform image; "" the host's.
  std::string platform;
  /// `kiln run --dns` servers.
  std::vector<std::string> dns;
};

/// A container as compose sees it.
struct ContainerInfo {
  std::string id;
  std::string name;
  std::string image;
  std::string image_id;
  std::vector<std::string> command;
  Labels labels;
  /// "created", "running", "restarting", "exited".
  std::string state;
  int exit_code = 0;
  /// "" (no health check), "starting", "healthy", "unhealthy".
  std::string health;
  /// The last health probe's output.
  std::string health_output;
  int64_t created_ns = 0;
  int64_t started_ns = 0;
  int64_t finished_ns = 0;
  /// Published ports, docker's "127.0.0.1:8001->8000/tcp".
  std::vector<std::string> ports;
  int pid = 0;
};

/// One line of a container's output.
struct LogLine {
  bool stderr_stream = false;
  std::string text;  ///< without its newline
  /// docker's RFC 3339 time with nanoseconds.
  std::string time;
};

/// The machine under compose. Thread-safe: `up` starts independent services
/// at once.
class Engine {
 public:
  virtual ~Engine() = default;

  /// Creates the network `name` unless it exists.
  virtual llvm::Error create_network(const std::string& name, const Labels& labels) = 0;
  /// Removes the network `name`; a missing one is fine.
  virtual llvm::Error remove_network(const std::string& name) = 0;
  virtual llvm::Expected<bool> network_exists(const std::string& name) = 0;

  /// Creates the volume `name` unless it exists.
  virtual llvm::Error create_volume(const std::string& name, const Labels& labels) = 0;
  /// Removes the volume `name`; a missing one is fine.
  virtual llvm::Error remove_volume(const std::string& name) = 0;
  virtual llvm::Expected<bool> volume_exists(const std::string& name) = 0;
  /// The volumes whose labels include all of `labels`.
  virtual llvm::Expected<std::vector<std::string>> list_volumes(const Labels& labels) = 0;
  virtual llvm::Expected<std::vector<std::string>> list_networks(const Labels& labels) = 0;

  /// The containers whose labels include all of `labels` (stopped ones too).
  virtual llvm::Expected<std::vector<ContainerInfo>> list_containers(const Labels& labels) = 0;
  virtual llvm::Expected<ContainerInfo> inspect_container(const std::string& id) = 0;
  /// Creates a container (not started); returns its ID.
  virtual llvm::Expected<std::string> create_container(const ContainerRequest& request) = 0;
  /// Starts it unless it runs.
  virtual llvm::Error start_container(const std::string& id) = 0;
  /// Stops it: its stop signal, SIGKILL after `timeout_s` (negative: its own).
  virtual llvm::Error stop_container(const std::string& id, int timeout_s) = 0;
  virtual llvm::Error kill_container(const std::string& id, int signal) = 0;
  virtual llvm::Error remove_container(const std::string& id, bool force) = 0;

  /// Calls `on_line` with each line of the container's log (the last `tail`, all
  /// when negative); with `follow`, waits for new lines until the container
  /// stops. Blocks; thread-safe for different containers.
  virtual llvm::Error read_logs(const std::string& id, int tail, bool follow,
                                const std::function<void(const LogLine&)>& on_line) = 0;

  /// The processes of running container `id` (`compose top`).
  virtual llvm::Expected<std::vector<containers::ProcessInfo>> processes(const std::string& id) = 0;

  /// The image ID of `reference` in the store, or "" when it is not there.
  virtual llvm::Expected<std::string> image_id(const std::string& reference) = 0;
  /// Removes the image name `reference` (and the image, once unnamed).
  virtual llvm::Error remove_image(const std::string& reference) = 0;
};

}  // namespace kiln::compose
