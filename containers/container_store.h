// Containers on disk, without a daemon: each container is a directory
// ROOT/containers/<id>/ holding what it is (config.json, written once), what it
// is doing (state.json, rewritten by whoever runs it), its file system (a
// persisted mutable snapshot), its logs and two lock files:
//
//   config.json    ContainerSpec           image.json   the image's config blob
//   state.json     ContainerState          snapshot/    MutableSnapshot::persist()
//   rootfs/        mount point while it runs            run/  the runtime bundle
//   container.log  logs (container.log.1 after a rotation)
//   monitor.lock   flock held by the process that runs it (monitor or `kiln run`)
//   op.lock        flock serializing start / rm / clean-up between kiln processes
//   stop-requested exists after stop/kill/rm: the monitor does not restart it
//
// Names are symlinks ROOT/containers/.names/<name> -> <id> (created with
// symlink(2), so two processes can never take one name). A container whose
// state says running but whose monitor.lock is free lost its monitor (SIGKILL,
// reboot): reading it reports it exited and cleans up what is left.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <llvm/ADT/StringRef.h>
#include <llvm/Support/Error.h>

#include "oci/image_config.h"
#include "runtime/executor.h"
#include "runtime/process_spec.h"
#include "support/file_lock.h"

namespace kiln::containers {

/// A port published on the host: HOST_IP:HOST_PORT -> CONTAINER_PORT/PROTOCOL.
struct PublishedPort {
  std::string host_ip = "127.0.0.1";
  /// 0: an ephemeral port, chosen by the kernel each time the container starts
  /// (ContainerState::host_ports records it), as docker's `-p CONTAINER_PORT`.
  uint16_t host_port = 0;
  uint16_t container_port = 0;
  std::string protocol = "tcp";  ///< "tcp" or "udp"
};

/// docker's --restart: no, on-failure[:N], always, unless-stopped.
struct RestartPolicy {
  enum class Mode { no, on_failure, always, unless_stopped };
  Mode mode = Mode::no;
  /// on-failure's limit; 0 means no limit.
  int max_retries = 0;
  /// docker's name of the mode ("no", "on-failure", "always", "unless-stopped").
  std::string name() const;
};

/// Parses docker's --restart value. Fails with a UsageError.
llvm::Expected<RestartPolicy> parse_restart_policy(llvm::StringRef text);

/// A network a container joins when it starts, with its aliases there.
struct NetworkAttachment {
  std::string name;
  std::vector<std::string> aliases;
};

/// A mount as docker inspect's `Mounts` shows it (Type volume|bind|tmpfs).
struct MountRecord {
  std::string type;
  std::string name;  ///< the volume's name (volumes only)
  std::string source;
  std::string destination;
  bool rw = true;
};

/// What a container is; fixed when it is created (but for its networks, which
/// `network connect`/`disconnect` change).
struct ContainerSpec {
  std::string id;     ///< 64 lowercase hex digits
  std::string name;   ///< unique in the store, without docker's leading '/'
  std::string image;  ///< the image as the user named it
  std::string image_id;
  int64_t created_ns = 0;  ///< unix time in nanoseconds
  /// The process: args = the effective entrypoint followed by the command.
  runtime::ProcessSpec process;
  /// How many of process.args came from the entrypoint (docker's Path/Args split).
  size_t entrypoint_size = 0;
  std::vector<PublishedPort> ports;
  RestartPolicy restart;
  /// Signal for `stop` ("SIGTERM" unless the image or --stop-signal says otherwise).
  std::string stop_signal = "SIGTERM";
  int stop_timeout = 10;
  std::optional<oci::Healthcheck> healthcheck;
  bool auto_remove = false;
  bool interactive = false;
  /// The log file is rotated once it grows past this many bytes.
  int64_t log_max_size = 10 * 1024 * 1024;
  /// docker's HostConfig.NetworkMode: "host", "none", "container:ID" or the
  /// name of the first of `networks`.
  std::string network_mode;
  /// The user networks it joins (in order: the first gives the default route).
  std::vector<NetworkAttachment> networks;
  /// --add-host entries, "NAME:IP".
  std::vector<std::string> extra_hosts;
  std::map<std::string, std::string> labels;
  std::vector<MountRecord> mount_records;
};

enum class ContainerStatus { created, running, restarting, exited };

/// docker's State.Status word ("created", "running", "restarting", "exited").
llvm::StringRef status_name(ContainerStatus status);
/// docker's State.Status of `state`: status_name(), or "paused".
llvm::StringRef state_name(const struct ContainerState& state);

/// One health probe's result (docker keeps the last five).
struct HealthProbe {
  int64_t start_ns = 0;
  int64_t end_ns = 0;
  int exit_code = 0;
  std::string output;
};

struct HealthState {
  /// "" (no health check), "starting", "healthy" or "unhealthy".
  std::string status;
  int failing_streak = 0;
  std::vector<HealthProbe> log;
};

/// What a container is doing; rewritten (atomically) while it runs.
struct ContainerState {
  ContainerStatus status = ContainerStatus::created;
  int pid = 0;          ///< host pid of the container's first process while running
  int monitor_pid = 0;  ///< the process that runs it
  int exit_code = 0;
  int64_t started_ns = 0;   ///< 0: never started
  int64_t finished_ns = 0;  ///< 0: never finished
  int restart_count = 0;
  std::string error;
  HealthState health;
  /// Frozen by `kiln pause` (the `paused` marker of a running container; not in
  /// state.json, which the runner owns).
  bool paused = false;
  /// While it runs: the host port each of the spec's `ports` listens on, in the
  /// same order (ephemeral ones included); empty otherwise.
  std::vector<uint16_t> host_ports;
  bool running() const {
    return status == ContainerStatus::running || status == ContainerStatus::restarting;
  }
};

/// `spec`'s published ports as they are bound now: an ephemeral one (host port
/// 0) gets the port `state` records, and is left out while none is bound.
std::vector<PublishedPort> live_ports(const ContainerSpec& spec, const ContainerState& state);

/// The file names of one container directory.
struct ContainerPaths {
  std::string dir;
  std::string file(llvm::StringRef name) const { return dir + "/" + name.str(); }
  std::string config() const { return file("config.json"); }
  std::string state() const { return file("state.json"); }
  /// Exists while `kiln pause` has the container frozen.
  std::string paused() const { return file("paused"); }
  std::string image_config() const { return file("image.json"); }
  std::string snapshot() const { return file("snapshot"); }
  std::string rootfs() const { return file("rootfs"); }
  std::string runtime_state() const { return file("run"); }
  std::string log() const { return file("container.log"); }
  std::string monitor_lock() const { return file("monitor.lock"); }
  std::string op_lock() const { return file("op.lock"); }
  std::string stop_requested() const { return file("stop-requested"); }
  /// The container's network namespace (mounted while it runs on a network).
  std::string netns() const { return file("netns"); }
  /// Its /etc/hosts while on a network (kept current by network/).
  std::string hosts() const { return file("hosts"); }
};

/// The OCI runtime for the containers of the kiln root `root`: KILN_OCI_RUNTIME
/// (runc when unset or invalid), with the store's own runtime root
/// ROOT/containers/.runc; state_dir is left empty for the caller.
runtime::ExecutorOptions container_runtime(llvm::StringRef root);

/// Unix time now, in nanoseconds.
int64_t now_ns();

enum class KillFirst { yes, no };

struct FoundContainer;

/// The containers of one kiln root. Cheap to copy; safe to use from several
/// processes at once.
class ContainerStore {
 public:
  /// Opens ROOT/containers (creating it).
  static llvm::Expected<ContainerStore> open(llvm::StringRef root);
  /// open() and resolve(`name`) together, as a command on one container needs.
  static llvm::Expected<FoundContainer> open_container(llvm::StringRef root, llvm::StringRef name);

  const std::string& root() const { return root_; }
  ContainerPaths paths(llvm::StringRef id) const;

  /// The full ID for `text`: a full ID, a name (with or without '/') or a unique
  /// ID prefix, in docker's order. Fails with "no such container: 'TEXT'".
  llvm::Expected<std::string> resolve(llvm::StringRef text) const;
  /// Every container's ID (unordered).
  llvm::Expected<std::vector<std::string>> ids() const;

  /// Creates the directory of a new container with a fresh ID and `spec.name`
  /// (a generated name when empty), writing config.json, image.json
  /// (`image_config`) and a "created" state.json. Fills in spec.id and spec.name.
  /// Fails with a UsageError when the name is taken.
  llvm::Error create(ContainerSpec& spec, llvm::StringRef image_config) const;

  llvm::Expected<ContainerSpec> load_spec(llvm::StringRef id) const;
  /// The recorded state, as is (see current_state()).
  llvm::Expected<ContainerState> load_state(llvm::StringRef id) const;
  /// Replaces state.json atomically (no fsync: run-time state).
  llvm::Error save_state(llvm::StringRef id, const ContainerState& state) const;
  /// True while some process holds the container's monitor.lock.
  bool has_runner(llvm::StringRef id) const;
  /// The state, after cleaning up a container that lost its runner: one recorded
  /// as running with no runner is killed, unmounted and recorded as exited (255).
  /// Takes the container's op.lock for that: the caller must not hold it.
  llvm::Expected<ContainerState> current_state(llvm::StringRef id) const;

  /// Gives container `id` the name `new_name` (docker's `rename`). Fails with a
  /// UsageError when the name is taken.
  llvm::Error rename(llvm::StringRef id, llvm::StringRef new_name) const;

  /// Removes a container that nothing runs: the runtime's container (unless
  /// `kill` is no: the caller knows it is gone), mounts, the snapshot, the
  /// directory and the name. Missing parts are fine.
  /// With `anonymous_volumes` (rm -v), or for a --rm container, its anonymous
  /// volumes go too (those no other container names).
  llvm::Error remove(llvm::StringRef id, KillFirst kill = KillFirst::yes,
                     bool anonymous_volumes = false) const;

  /// Cleans up after the containers whose runner died (kill -9): each recorded as
  /// running with no runner is cleaned up as in current_state(), and each --rm
  /// one that nothing runs and that has started is removed, as its runner would
  /// have. Skips a container whose op.lock is held. Returns how many were removed.
  llvm::Expected<unsigned> reclaim_lost() const;

 private:
  explicit ContainerStore(std::string root) : root_(std::move(root)) {}
  std::string names_dir() const { return root_ + "/containers/.names"; }
  llvm::Error claim_name(llvm::StringRef name, llvm::StringRef id) const;
  llvm::Error clean_up_lost(llvm::StringRef id, ContainerState& state) const;
  /// Whether `state` (with no runner) is of a container whose runner died while
  /// starting it: still recorded as created, but its run/ directory was made
  /// (kill -9 of `kiln run` before the start was recorded).
  bool died_starting(llvm::StringRef id, const ContainerState& state) const;

  std::string root_;  // the kiln root
};

/// A container found by name in its store (ContainerStore::open_container).
struct FoundContainer {
  ContainerStore store;
  std::string id;
};

/// ContainerStore::reclaim_lost() for the kiln root `root`, when it has any
/// container (otherwise one readdir); best effort, for every open of the store.
void reclaim_lost_containers(llvm::StringRef root);

/// Unmounts the container's rootfs if mounted (lazily when busy); best effort.
void unmount_rootfs(const ContainerPaths& paths);

}  // namespace kiln::containers
