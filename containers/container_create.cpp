#include "containers/container_create.h"

#include <arpa/inet.h>
#include <unistd.h>

#include <cstdlib>

#include <llvm/ADT/StringExtras.h>

#include "cache/gc_lock.h"
#include "cache/image_index.h"
#include "cache/image_store.h"
#include "cache/snapshot.h"
#include "containers/container_mounts.h"
#include "network/network_store.h"
#include "oci/image_config.h"
#include "oci/types.h"
#include "runtime/binfmt.h"
#include "runtime/container_control.h"
#include "runtime/seccomp.h"
#include "support/error.h"
#include "support/fs.h"

namespace kiln::containers {
namespace {

// Sets `value` ("K=V", or "K" taken from kiln's environment when set) in `env`.
void set_env(std::vector<std::string>& env, llvm::StringRef value) {
  std::string entry = value.str();
  if (!value.contains('=')) {
    const char* host = std::getenv(entry.c_str());
    if (!host) {
      return;
    }
    entry += "=" + std::string(host);
  }
  llvm::StringRef key = llvm::StringRef(entry).split('=').first;
  for (auto& existing : env) {
    if (llvm::StringRef(existing).split('=').first == key) {
      existing = entry;
      return;
    }
  }
  env.push_back(entry);
}

llvm::Error add_env_file(std::vector<std::string>& env, const std::string& path) {
  auto text = fs::read_file(path);
  if (!text) {
    return with_context(text.takeError(), "--env-file");
  }
  llvm::SmallVector<llvm::StringRef, 32> lines;
  llvm::StringRef(*text).split(lines, '\n');
  for (llvm::StringRef line : lines) {
    line = line.ltrim().rtrim("\r");
    if (!line.empty() && !line.startswith("#")) {
      set_env(env, line);
    }
  }
  return llvm::Error::success();
}

// Where --init's binary is bound in the container (docker's path).
constexpr const char* kInitPath = "/sbin/docker-init";

// The init binary of --init on the host: $KILN_INIT_PATH, else Debian's tini-static.
std::string init_binary() {
  const char* env = std::getenv("KILN_INIT_PATH");
  return env && *env ? env : "/usr/bin/tini-static";
}

// The process docker would run for `image` with `flags`; sets `entrypoint_size`.
llvm::Expected<runtime::ProcessSpec> container_process(const oci::ContainerConfig& image,
                                                       const CreateFlags& flags,
                                                       size_t& entrypoint_size) {
  runtime::ProcessSpec spec;
  std::vector<std::string> command(flags.image_and_command.begin() + 1,
                                   flags.image_and_command.end());
  std::vector<std::string> entrypoint = image.entrypoint;
  std::vector<std::string> cmd = image.cmd;
  if (flags.entrypoint) {
    // docker: --entrypoint replaces the image's entrypoint and drops its Cmd.
    entrypoint = flags.entrypoint->empty() ? std::vector<std::string>{}
                                           : std::vector<std::string>{*flags.entrypoint};
    cmd.clear();
  }
  if (!command.empty()) {
    cmd = command;
  }
  spec.args = entrypoint;
  spec.args.insert(spec.args.end(), cmd.begin(), cmd.end());
  entrypoint_size = entrypoint.size();
  if (spec.args.empty()) {
    return llvm::make_error<UsageError>("no command specified");
  }
  if (flags.init) {
    // docker's --init: its docker-init (tini) bound at /sbin/docker-init runs the
    // command as `docker-init -- ARGS...`.
    std::string init = init_binary();
    if (::access(init.c_str(), X_OK) != 0) {
      return make_error("--init needs a static init binary at " + quote(init) +
                        ": install Debian's tini package (or set KILN_INIT_PATH)");
    }
    spec.args.insert(spec.args.begin(), {kInitPath, "--"});
    entrypoint_size += 2;
    runtime::MountSpec mount;
    mount.source = init;
    mount.destination = kInitPath;
    mount.access = runtime::Access::read_only;
    spec.mounts.push_back(std::move(mount));
  }
  spec.env = image.env;
  for (const auto& file : flags.env_files) {
    if (auto err = add_env_file(spec.env, file)) {
      return err;
    }
  }
  for (const auto& e : flags.env) {
    set_env(spec.env, e);
  }
  spec.cwd = !flags.workdir.empty()       ? flags.workdir
             : !image.working_dir.empty() ? image.working_dir
                                          : "/";
  spec.user = !flags.user.empty() ? flags.user : image.user;
  spec.tty = flags.tty;
  // Anything but the host's network starts from a private namespace; user
  // networks and container:ID join theirs when the container starts.
  spec.network = flags.network == "host" ? runtime::NetworkMode::host : runtime::NetworkMode::none;
  spec.hostname = flags.hostname;
  if (!flags.dns.empty()) {
    std::string resolv;
    for (const auto& server : flags.dns) {
      resolv += "nameserver " + server + "\n";
    }
    spec.resolv_conf = resolv;
  }
  for (llvm::StringRef opt : flags.security_opts) {
    auto seccomp = runtime::parse_security_opt(opt);
    if (!seccomp) {
      return seccomp.takeError();
    }
    spec.seccomp = std::move(*seccomp);
  }
  return spec;
}

// The image's config (parsed and as bytes) and its layers as blobs to unpack.
struct ImageLayers {
  std::string image_id;
  std::string config_json;
  oci::ImageConfig config;
  std::vector<cache::LayerBlob> layers;
};

llvm::Expected<ImageLayers> load_image(llvm::StringRef root, llvm::StringRef ref,
                                       llvm::StringRef platform_text) {
  auto platform = platform_text.empty()
                      ? llvm::Expected<oci::Platform>(oci::normalize_platform(oci::host_platform()))
                      : oci::parse_normalized_platform(platform_text);
  if (!platform) {
    return platform.takeError();
  }
  auto store = cache::ImageStore::open(root);
  if (!store) {
    return store.takeError();
  }
  auto record = (*store)->resolve(ref);
  if (!record) {
    return with_context(record.takeError(), "unable to find image " + quote(ref) + " locally");
  }
  const cache::ContentStore& content = (*store)->content();
  auto chosen = cache::manifest_for_platform(content, record->manifest, *platform);
  if (!chosen && platform_text.empty() && record->config != record->manifest) {
    // One image of another platform, no --platform: run it as docker does.
    llvm::consumeError(chosen.takeError());
    chosen = cache::PlatformManifest{record->manifest, record->config, *platform};
  }
  if (!chosen) {
    return with_context(chosen.takeError(), "image " + quote(ref));
  }
  auto manifest_json = content.read(chosen->manifest);
  if (!manifest_json) {
    return manifest_json.takeError();
  }
  auto config_json = content.read(chosen->config);
  if (!config_json) {
    return config_json.takeError();
  }
  auto manifest = oci::parse_manifest(*manifest_json);
  if (!manifest) {
    return manifest.takeError();
  }
  auto config = oci::parse_image_config(*config_json);
  if (!config) {
    return config.takeError();
  }
  if (!config->architecture.empty()) {
    oci::Platform p{
        config->architecture, config->os.empty() ? "linux" : config->os, "", {}, config->variant};
    if (auto err = runtime::check_platform_runnable(oci::normalize_platform(p).str())) {
      return with_context(std::move(err), "image " + quote(ref));
    }
  }
  if (config->diff_ids.size() != manifest->layers.size()) {
    return make_error("image " + quote(ref) + ": the config and the manifest differ in layers");
  }
  ImageLayers out{record->config.str(), std::move(*config_json), std::move(*config), {}};
  for (size_t i = 0; i < manifest->layers.size(); ++i) {
    out.layers.push_back({content.blob_path(manifest->layers[i].digest), out.config.diff_ids[i]});
  }
  return out;
}

bool is_loopback(llvm::StringRef ip) {
  in_addr addr{};
  return ::inet_pton(AF_INET, ip.str().c_str(), &addr) == 1 && (ntohl(addr.s_addr) >> 24) == 127;
}

llvm::Expected<int64_t> parse_log_max_size(const std::vector<std::string>& opts) {
  int64_t size = 10 * 1024 * 1024;
  for (llvm::StringRef opt : opts) {
    auto [key, value] = opt.split('=');
    if (key != "max-size") {
      return llvm::make_error<UsageError>("unknown log opt " + quote(key) + " (expected max-size)");
    }
    int64_t multiplier = 1;
    std::string lower = value.lower();
    llvm::StringRef number = lower;
    if (number.consume_back("k") || number.consume_back("kb")) {
      multiplier = 1024;
    } else if (number.consume_back("m") || number.consume_back("mb")) {
      multiplier = 1024 * 1024;
    } else if (number.consume_back("g") || number.consume_back("gb")) {
      multiplier = 1024 * 1024 * 1024;
    }
    if (number.getAsInteger(10, size) || size <= 0) {
      return llvm::make_error<UsageError>("invalid max-size " + quote(value));
    }
    size *= multiplier;
  }
  return size;
}

// --network, --network-alias, --add-host and --label into `spec`.
llvm::Error set_network(const CreateFlags& flags, ContainerSpec& spec) {
  std::string mode = flags.network.empty() ? network::kDefaultNetwork.str() : flags.network;
  if (mode == "bridge" || mode == "default") {
    mode = network::kDefaultNetwork.str();
  }
  spec.network_mode = mode;
  bool user_network =
      mode != "host" && mode != "none" && !llvm::StringRef(mode).startswith("container:");
  if (user_network) {
    spec.networks.push_back({mode, flags.network_aliases});
  } else if (!flags.network_aliases.empty()) {
    return llvm::make_error<UsageError>(
        "network-scoped aliases are only supported for "
        "user-defined networks");
  }
  for (llvm::StringRef entry : flags.add_hosts) {
    size_t split = entry.find_first_of(":=");
    if (split == llvm::StringRef::npos || split == 0 || split + 1 == entry.size()) {
      return llvm::make_error<UsageError>("invalid argument " + quote(entry) +
                                          " for \"--add-host\" flag: expected NAME:IP");
    }
    spec.extra_hosts.push_back(entry.substr(0, split).str() + ":" + entry.substr(split + 1).str());
  }
  if (!flags.memory.empty()) {
    std::string lower = llvm::StringRef(flags.memory).lower();
    llvm::StringRef number = lower;
    int64_t multiplier = 1;
    if (number.consume_back("k") || number.consume_back("kb")) {
      multiplier = 1024;
    } else if (number.consume_back("m") || number.consume_back("mb")) {
      multiplier = 1024 * 1024;
    } else if (number.consume_back("g") || number.consume_back("gb")) {
      multiplier = 1024 * 1024 * 1024;
    } else {
      number.consume_back("b");
    }
    int64_t value = 0;
    if (number.getAsInteger(10, value) || value <= 0) {
      return llvm::make_error<UsageError>("invalid argument " + quote(flags.memory) +
                                          " for \"-m, --memory\" flag");
    }
    spec.process.memory_limit = value * multiplier;
    if (spec.process.memory_limit < 6 * 1024 * 1024) {
      return llvm::make_error<UsageError>("Minimum memory limit allowed is 6MB");
    }
  }
  if (!flags.cpus.empty()) {
    double cpus = 0;
    if (llvm::StringRef(flags.cpus).getAsDouble(cpus) || cpus <= 0) {
      return llvm::make_error<UsageError>("invalid argument " + quote(flags.cpus) +
                                          " for \"--cpus\" flag");
    }
    spec.process.cpus = cpus;
  }
  for (llvm::StringRef label : flags.labels) {
    auto [key, value] = label.split('=');
    spec.labels[key.str()] = value.str();
  }
  return llvm::Error::success();
}

// The spec of a new container from `flags` and the image.
llvm::Expected<ContainerSpec> make_spec(const CreateFlags& flags, const ImageLayers& image,
                                        const WarningFn& warn) {
  ContainerSpec spec;
  spec.name = flags.name;
  spec.image = flags.image_and_command.front();
  spec.image_id = image.image_id;
  spec.created_ns = now_ns();
  auto process = container_process(image.config.config, flags, spec.entrypoint_size);
  if (!process) {
    return process.takeError();
  }
  spec.process = std::move(*process);
  if (auto err = set_network(flags, spec)) {
    return std::move(err);
  }
  for (const auto& p : flags.publish) {
    auto port = parse_publish(p);
    if (!port) {
      return port.takeError();
    }
    spec.ports.push_back(*port);
  }
  if (!spec.ports.empty() && spec.process.network == runtime::NetworkMode::host) {
    warn("WARNING: Published ports are discarded when using host network mode");
    spec.ports.clear();
  }
  if (!spec.ports.empty() && llvm::StringRef(spec.network_mode).startswith("container:")) {
    return llvm::make_error<UsageError>(
        "conflicting options: port publishing and the container type network mode");
  }
  auto restart = parse_restart_policy(flags.restart);
  if (!restart) {
    return restart.takeError();
  }
  spec.restart = *restart;
  spec.auto_remove = flags.auto_remove;
  if (spec.auto_remove && spec.restart.mode != RestartPolicy::Mode::no) {
    return llvm::make_error<UsageError>(
        "conflicting options: cannot specify both --restart and --rm");
  }
  std::string signal = !flags.stop_signal.empty()                 ? flags.stop_signal
                       : !image.config.config.stop_signal.empty() ? image.config.config.stop_signal
                                                                  : "SIGTERM";
  if (auto number = runtime::parse_signal(signal); !number) {
    return number.takeError();
  }
  spec.stop_signal = signal;
  spec.stop_timeout = flags.stop_timeout.value_or(10);
  const auto& health = flags.healthcheck ? flags.healthcheck : image.config.config.healthcheck;
  if (health && !flags.no_healthcheck && !health->test.empty() && health->test[0] != "NONE") {
    spec.healthcheck = *health;
  }
  spec.interactive = flags.interactive;
  auto log_size = parse_log_max_size(flags.log_opts);
  if (!log_size) {
    return log_size.takeError();
  }
  spec.log_max_size = *log_size;
  return spec;
}

}  // namespace

llvm::Expected<PublishedPort> parse_publish(llvm::StringRef text) {
  auto invalid = [&](const std::string& why) {
    return llvm::make_error<UsageError>("invalid publish " + quote(text) + ": " + why);
  };
  llvm::StringRef spec = text;
  std::string protocol = "tcp";
  if (spec.consume_back("/udp")) {
    protocol = "udp";
  } else if (spec.consume_back("/sctp")) {
    return invalid("only tcp and udp ports can be published");
  }
  spec.consume_back("/tcp");
  llvm::SmallVector<llvm::StringRef, 3> parts;
  spec.split(parts, ':');
  PublishedPort port;
  if (parts.size() == 3) {
    port.host_ip = parts[0].str();
    parts.erase(parts.begin());
  }
  if (parts.size() == 1) {
    parts.insert(parts.begin(), "");  // CONTAINER_PORT alone: an ephemeral host port
  }
  if (parts.size() != 2) {
    return invalid("expected [127.0.0.1:][HOST_PORT:]CONTAINER_PORT");
  }
  if (!is_loopback(port.host_ip)) {
    return invalid("kiln publishes ports on loopback addresses (127.x.x.x) only");
  }
  unsigned host = 0;
  unsigned container = 0;
  bool ephemeral = parts[0].empty();
  if ((!ephemeral && (parts[0].getAsInteger(10, host) || host == 0 || host > 65535)) ||
      parts[1].getAsInteger(10, container) || container == 0 || container > 65535) {
    return invalid("ports must be numbers from 1 to 65535");
  }
  port.protocol = protocol;
  port.host_port = static_cast<uint16_t>(host);
  port.container_port = static_cast<uint16_t>(container);
  return port;
}

llvm::Expected<ContainerSpec> create_container(const ContainerStore& store,
                                               const CreateFlags& flags, const WarningFn& warn) {
  if (!flags.network.empty() && flags.network != "host" && flags.network != "none" &&
      flags.network != "bridge" && flags.network != "default") {
    llvm::StringRef mode = flags.network;
    if (mode.consume_front("container:")) {
      if (auto other = store.resolve(mode); !other) {
        return other.takeError();
      }
    } else {
      auto networks = network::NetworkStore::open(store.root());
      if (!networks) {
        return networks.takeError();
      }
      if (auto found = networks->get_or_create_default(mode); !found) {
        return found.takeError();
      }
    }
  }
  auto image = load_image(store.root(), flags.image_and_command.front(), flags.platform);
  if (!image) {
    return image.takeError();
  }
  auto spec = make_spec(flags, *image, warn);
  if (!spec) {
    return spec.takeError();
  }
  if (auto err = resolve_mounts(
          store, {flags.volumes, flags.mounts, flags.tmpfs, flags.volumes_from}, *spec)) {
    return std::move(err);
  }
  auto snapshots = cache::SnapshotStore::open(store.root());
  if (!snapshots) {
    return snapshots.takeError();
  }
  // Until the container exists (and so keeps its image's snapshots), no garbage
  // collection may remove the snapshots it is made on.
  auto lease = cache::StoreLease::acquire_shared(store.root());
  if (!lease) {
    return lease.takeError();
  }
  std::optional<Digest> top;
  if (!image->layers.empty()) {
    auto chain = snapshots->unpack_chain(image->layers);
    if (!chain) {
      return chain.takeError();
    }
    top = chain->back();
  }
  auto snapshot = snapshots->create_mutable(top);
  if (!snapshot) {
    return snapshot.takeError();
  }
  if (auto err = store.create(*spec, image->config_json)) {
    return err;
  }
  if (auto err = snapshot->persist(store.paths(spec->id).snapshot())) {
    llvm::consumeError(store.remove(spec->id, KillFirst::no));
    return err;
  }
  return spec;
}

}  // namespace kiln::containers
