#include "cli/container_store.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <random>

#include <nlohmann/json.hpp>

#include "runtime/container_control.h"
#include "support/error.h"
#include "support/fs.h"

namespace kiln::cli {
namespace {

using Json = nlohmann::json;

constexpr const char* kAdjectives[] = {
    "admiring",   "brave",    "clever",   "dazzling", "eager",  "festive",  "gallant",
    "happy",      "inspired", "jolly",    "keen",     "lucid",  "modest",   "nifty",
    "optimistic", "peaceful", "quirky",   "relaxed",  "serene", "tender",   "upbeat",
    "vibrant",    "wizardly", "youthful", "zealous",  "bold",   "charming", "elated"};
constexpr const char* kSurnames[] = {
    "almeida", "babbage", "curie",   "darwin",  "euler",    "feynman", "gauss",
    "hopper",  "itten",   "jepsen",  "knuth",   "lovelace", "meitner", "noether",
    "ohm",     "pascal",  "qian",    "ritchie", "shannon",  "turing",  "umbriel",
    "volta",   "wozniak", "xenakis", "yalow",   "zuse",     "bohr",    "kepler"};

std::string random_hex(size_t digits) {
  static const char kHex[] = "0123456789abcdef";
  std::random_device device;
  std::string out;
  for (size_t i = 0; i < digits; ++i) {
    out += kHex[device() % 16];
  }
  return out;
}

std::string generated_name(unsigned attempt) {
  std::random_device device;
  std::string name = std::string(kAdjectives[device() % std::size(kAdjectives)]) + "_" +
                     kSurnames[device() % std::size(kSurnames)];
  // docker adds a digit once names start to collide.
  return attempt < 3 ? name : name + std::to_string(device() % 10);
}

bool valid_name(llvm::StringRef name) {
  // docker: [a-zA-Z0-9][a-zA-Z0-9_.-]+
  if (name.size() < 2 || !llvm::isAlnum(name[0])) {
    return false;
  }
  return llvm::all_of(name,
                      [](char c) { return llvm::isAlnum(c) || c == '_' || c == '.' || c == '-'; });
}

bool is_full_id(llvm::StringRef text) {
  return text.size() == 64 &&
         llvm::all_of(text, [](char c) { return llvm::isDigit(c) || (c >= 'a' && c <= 'f'); });
}

// Writes `bytes` to `path` by rename, without fsync.
llvm::Error write_replace(const std::string& path, llvm::StringRef bytes) {
  std::string tmp = path + ".tmp-" + random_hex(8);
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    return make_io_error("create", tmp, errno);
  }
  while (!bytes.empty()) {
    ssize_t n = ::write(fd, bytes.data(), bytes.size());
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      int e = errno;
      ::close(fd);
      ::unlink(tmp.c_str());
      return make_io_error("write", tmp, e);
    }
    bytes = bytes.drop_front(static_cast<size_t>(n));
  }
  ::close(fd);
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    int e = errno;
    ::unlink(tmp.c_str());
    return make_io_error("rename", tmp, e);
  }
  return llvm::Error::success();
}

llvm::Expected<Json> read_json(const std::string& path) {
  auto text = fs::read_file(path);
  if (!text) {
    return text.takeError();
  }
  Json j = Json::parse(*text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    return make_error("invalid JSON in " + quote(path));
  }
  return j;
}

Json process_to_json(const runtime::ProcessSpec& p) {
  Json mounts = Json::array();
  for (const auto& m : p.mounts) {
    mounts.push_back({{"kind", m.kind == runtime::MountSpec::Kind::tmpfs ? "tmpfs" : "bind"},
                      {"source", m.source},
                      {"destination", m.destination},
                      {"readonly", m.access == runtime::Access::read_only},
                      {"tmpfs_size", m.tmpfs_size_bytes}});
  }
  Json j = {{"args", p.args},
            {"env", p.env},
            {"cwd", p.cwd},
            {"user", p.user},
            {"tty", p.tty},
            {"network", p.network == runtime::NetworkMode::none ? "none" : "host"},
            {"hostname", p.hostname},
            {"mounts", mounts},
            {"readonly_rootfs", p.rootfs_access == runtime::Access::read_only}};
  if (p.hosts) {
    j["hosts"] = *p.hosts;
  }
  if (p.resolv_conf) {
    j["resolv_conf"] = *p.resolv_conf;
  }
  return j;
}

runtime::ProcessSpec process_from_json(const Json& j) {
  runtime::ProcessSpec p;
  p.args = j.value("args", std::vector<std::string>{});
  p.env = j.value("env", std::vector<std::string>{});
  p.cwd = j.value("cwd", "/");
  p.user = j.value("user", "");
  p.tty = j.value("tty", false);
  p.network = j.value("network", "host") == "none" ? runtime::NetworkMode::none
                                                   : runtime::NetworkMode::host;
  p.hostname = j.value("hostname", "");
  for (const auto& m : j.value("mounts", Json::array())) {
    runtime::MountSpec ms;
    ms.kind = m.value("kind", "bind") == "tmpfs" ? runtime::MountSpec::Kind::tmpfs
                                                 : runtime::MountSpec::Kind::bind;
    ms.source = m.value("source", "");
    ms.destination = m.value("destination", "");
    ms.access =
        m.value("readonly", false) ? runtime::Access::read_only : runtime::Access::read_write;
    ms.tmpfs_size_bytes = m.value("tmpfs_size", uint64_t{0});
    p.mounts.push_back(ms);
  }
  p.rootfs_access =
      j.value("readonly_rootfs", false) ? runtime::Access::read_only : runtime::Access::read_write;
  if (j.contains("hosts")) {
    p.hosts = j["hosts"].get<std::string>();
  }
  if (j.contains("resolv_conf")) {
    p.resolv_conf = j["resolv_conf"].get<std::string>();
  }
  return p;
}

Json spec_to_json(const ContainerSpec& s) {
  Json ports = Json::array();
  for (const auto& p : s.ports) {
    ports.push_back(
        {{"host_ip", p.host_ip}, {"host_port", p.host_port}, {"container_port", p.container_port}});
  }
  Json j = {{"id", s.id},
            {"name", s.name},
            {"image", s.image},
            {"image_id", s.image_id},
            {"created_ns", s.created_ns},
            {"process", process_to_json(s.process)},
            {"entrypoint_size", s.entrypoint_size},
            {"ports", ports},
            {"restart", {{"name", s.restart.name()}, {"max_retries", s.restart.max_retries}}},
            {"stop_signal", s.stop_signal},
            {"stop_timeout", s.stop_timeout},
            {"auto_remove", s.auto_remove},
            {"interactive", s.interactive},
            {"log_max_size", s.log_max_size}};
  if (s.healthcheck) {
    const oci::Healthcheck& h = *s.healthcheck;
    j["healthcheck"] = {{"test", h.test},
                        {"interval", h.interval},
                        {"timeout", h.timeout},
                        {"start_period", h.start_period},
                        {"start_interval", h.start_interval},
                        {"retries", h.retries}};
  }
  return j;
}

llvm::Expected<ContainerSpec> spec_from_json(const Json& j) {
  try {
    ContainerSpec s;
    s.id = j.at("id").get<std::string>();
    s.name = j.value("name", "");
    s.image = j.value("image", "");
    s.image_id = j.value("image_id", "");
    s.created_ns = j.value("created_ns", int64_t{0});
    s.process = process_from_json(j.at("process"));
    s.entrypoint_size = j.value("entrypoint_size", size_t{0});
    for (const auto& p : j.value("ports", Json::array())) {
      s.ports.push_back({p.value("host_ip", "127.0.0.1"), p.value("host_port", uint16_t{0}),
                         p.value("container_port", uint16_t{0})});
    }
    if (j.contains("restart")) {
      auto policy = parse_restart_policy(j["restart"].value("name", "no"));
      if (!policy) {
        return policy.takeError();
      }
      s.restart = *policy;
      s.restart.max_retries = j["restart"].value("max_retries", 0);
    }
    s.stop_signal = j.value("stop_signal", "SIGTERM");
    s.stop_timeout = j.value("stop_timeout", 10);
    s.auto_remove = j.value("auto_remove", false);
    s.interactive = j.value("interactive", false);
    s.log_max_size = j.value("log_max_size", s.log_max_size);
    if (j.contains("healthcheck")) {
      const Json& h = j["healthcheck"];
      oci::Healthcheck hc;
      hc.test = h.value("test", std::vector<std::string>{});
      hc.interval = h.value("interval", int64_t{0});
      hc.timeout = h.value("timeout", int64_t{0});
      hc.start_period = h.value("start_period", int64_t{0});
      hc.start_interval = h.value("start_interval", int64_t{0});
      hc.retries = h.value("retries", 0);
      s.healthcheck = hc;
    }
    return s;
  } catch (const std::exception& e) {
    return make_error(std::string("invalid container config: ") + e.what());
  }
}

Json state_to_json(const ContainerState& s) {
  Json log = Json::array();
  for (const auto& p : s.health.log) {
    log.push_back({{"start_ns", p.start_ns},
                   {"end_ns", p.end_ns},
                   {"exit_code", p.exit_code},
                   {"output", p.output}});
  }
  return {
      {"status", status_name(s.status).str()},
      {"pid", s.pid},
      {"monitor_pid", s.monitor_pid},
      {"exit_code", s.exit_code},
      {"started_ns", s.started_ns},
      {"finished_ns", s.finished_ns},
      {"restart_count", s.restart_count},
      {"error", s.error},
      {"health",
       {{"status", s.health.status}, {"failing_streak", s.health.failing_streak}, {"log", log}}}};
}

ContainerState state_from_json(const Json& j) {
  ContainerState s;
  std::string status = j.value("status", "created");
  s.status = status == "running"      ? ContainerStatus::running
             : status == "restarting" ? ContainerStatus::restarting
             : status == "exited"     ? ContainerStatus::exited
                                      : ContainerStatus::created;
  s.pid = j.value("pid", 0);
  s.monitor_pid = j.value("monitor_pid", 0);
  s.exit_code = j.value("exit_code", 0);
  s.started_ns = j.value("started_ns", int64_t{0});
  s.finished_ns = j.value("finished_ns", int64_t{0});
  s.restart_count = j.value("restart_count", 0);
  s.error = j.value("error", "");
  if (j.contains("health") && j["health"].is_object()) {
    const Json& h = j["health"];
    s.health.status = h.value("status", "");
    s.health.failing_streak = h.value("failing_streak", 0);
    for (const auto& p : h.value("log", Json::array())) {
      s.health.log.push_back({p.value("start_ns", int64_t{0}), p.value("end_ns", int64_t{0}),
                              p.value("exit_code", 0), p.value("output", "")});
    }
  }
  return s;
}

}  // namespace

std::string RestartPolicy::name() const {
  switch (mode) {
    case Mode::no:
      return "no";
    case Mode::on_failure:
      return "on-failure";
    case Mode::always:
      return "always";
    case Mode::unless_stopped:
      return "unless-stopped";
  }
  return "no";
}

llvm::Expected<RestartPolicy> parse_restart_policy(llvm::StringRef text) {
  auto [mode, count] = text.split(':');
  RestartPolicy policy;
  if (mode == "no" || mode.empty()) {
    policy.mode = RestartPolicy::Mode::no;
  } else if (mode == "on-failure") {
    policy.mode = RestartPolicy::Mode::on_failure;
  } else if (mode == "always") {
    policy.mode = RestartPolicy::Mode::always;
  } else if (mode == "unless-stopped") {
    policy.mode = RestartPolicy::Mode::unless_stopped;
  } else {
    return llvm::make_error<UsageError>("invalid restart policy " + quote(text) +
                                        " (expected no, on-failure[:N], always, unless-stopped)");
  }
  if (text.contains(':')) {
    if (policy.mode != RestartPolicy::Mode::on_failure ||
        count.getAsInteger(10, policy.max_retries) || policy.max_retries < 0) {
      return llvm::make_error<UsageError>("invalid restart policy " + quote(text) +
                                          " (only on-failure takes a maximum retry count)");
    }
  }
  return policy;
}

llvm::StringRef status_name(ContainerStatus status) {
  switch (status) {
    case ContainerStatus::created:
      return "created";
    case ContainerStatus::running:
      return "running";
    case ContainerStatus::restarting:
      return "restarting";
    case ContainerStatus::exited:
      return "exited";
  }
  return "created";
}

runtime::ExecutorOptions container_runtime() {
  runtime::ExecutorOptions options;
  const char* env = std::getenv("KILN_OCI_RUNTIME");
  auto kind = runtime::parse_runtime_kind(env ? env : "");
  if (kind) {
    options.kind = *kind;
  } else {
    llvm::consumeError(kind.takeError());
  }
  return options;
}

int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

llvm::Expected<FileLock> FileLock::acquire(llvm::StringRef path) {
  int fd = ::open(path.str().c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) {
    return make_io_error("open lock", path, errno);
  }
  while (::flock(fd, LOCK_EX) != 0) {
    if (errno != EINTR) {
      int e = errno;
      ::close(fd);
      return make_io_error("lock", path, e);
    }
  }
  return FileLock(fd);
}

llvm::Expected<std::optional<FileLock>> FileLock::try_acquire(llvm::StringRef path) {
  int fd = ::open(path.str().c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) {
    return make_io_error("open lock", path, errno);
  }
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    int e = errno;
    ::close(fd);
    if (e == EWOULDBLOCK) {
      return std::nullopt;
    }
    return make_io_error("lock", path, e);
  }
  return std::optional<FileLock>(FileLock(fd));
}

FileLock::FileLock(FileLock&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}

FileLock& FileLock::operator=(FileLock&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) {
      ::close(fd_);
    }
    fd_ = std::exchange(other.fd_, -1);
  }
  return *this;
}

FileLock::~FileLock() {
  if (fd_ >= 0) {
    ::close(fd_);
  }
}

void unmount_rootfs(const ContainerPaths& paths) {
  std::string target = paths.rootfs();
  for (int i = 0; i < 8; ++i) {
    if (::umount2(target.c_str(), MNT_DETACH) != 0) {
      return;  // EINVAL: nothing (more) mounted there
    }
  }
}

llvm::Expected<ContainerStore> ContainerStore::open(llvm::StringRef root) {
  ContainerStore store(root.str());
  for (const std::string& dir : {store.names_dir(), root.str() + "/tmp"}) {
    if (auto err = fs::make_dirs(dir, 0700)) {
      return with_context(std::move(err), "open container store");
    }
  }
  return store;
}

ContainerPaths ContainerStore::paths(llvm::StringRef id) const {
  return ContainerPaths{root_ + "/containers/" + id.str()};
}

llvm::Expected<std::vector<std::string>> ContainerStore::ids() const {
  std::string dir = root_ + "/containers";
  DIR* d = ::opendir(dir.c_str());
  if (!d) {
    return make_io_error("list", dir, errno);
  }
  std::vector<std::string> out;
  while (dirent* e = ::readdir(d)) {
    if (is_full_id(e->d_name)) {
      out.push_back(e->d_name);
    }
  }
  ::closedir(d);
  return out;
}

llvm::Expected<std::string> ContainerStore::resolve(llvm::StringRef text) const {
  auto not_found = [&] { return make_error("no such container: " + quote(text)); };
  if (text.empty()) {
    return not_found();
  }
  if (is_full_id(text) && fs::exists(paths(text).config())) {
    return text.str();
  }
  llvm::StringRef name = text;
  name.consume_front("/");
  if (valid_name(name)) {
    char target[128];
    std::string link = names_dir() + "/" + name.str();
    ssize_t n = ::readlink(link.c_str(), target, sizeof(target) - 1);
    if (n == 64 && fs::exists(paths(llvm::StringRef(target, 64)).config())) {
      return std::string(target, 64);
    }
  }
  if (!llvm::all_of(text, [](char c) { return llvm::isHexDigit(c); })) {
    return not_found();
  }
  auto all = ids();
  if (!all) {
    return all.takeError();
  }
  std::string found;
  std::string prefix = text.lower();
  for (const auto& id : *all) {
    if (llvm::StringRef(id).startswith(prefix)) {
      if (!found.empty()) {
        return make_error("multiple containers found with provided prefix: " + quote(text));
      }
      found = id;
    }
  }
  if (found.empty() || !fs::exists(paths(found).config())) {
    return not_found();
  }
  return found;
}

llvm::Error ContainerStore::claim_name(llvm::StringRef name, llvm::StringRef id) const {
  std::string link = names_dir() + "/" + name.str();
  for (int attempt = 0; attempt < 2; ++attempt) {
    if (::symlink(id.str().c_str(), link.c_str()) == 0) {
      return llvm::Error::success();
    }
    if (errno != EEXIST) {
      return make_io_error("claim container name", link, errno);
    }
    // A name whose container is gone (a crash between claim and create) is free.
    char target[128];
    ssize_t n = ::readlink(link.c_str(), target, sizeof(target) - 1);
    if (n == 64 && fs::exists(paths(llvm::StringRef(target, 64)).dir)) {
      break;
    }
    ::unlink(link.c_str());
  }
  std::string owner;
  if (auto other = resolve(name)) {
    owner = *other;
  } else {
    llvm::consumeError(other.takeError());
  }
  return llvm::make_error<UsageError>(
      "Conflict. The container name \"/" + name.str() + "\" is already in use by container \"" +
      owner + "\". You have to remove (or rename) that container to be able to reuse that name.");
}

llvm::Error ContainerStore::create(ContainerSpec& spec, llvm::StringRef image_config) const {
  spec.id = random_hex(64);
  if (!spec.name.empty()) {
    llvm::StringRef name = spec.name;
    name.consume_front("/");
    if (!valid_name(name)) {
      return llvm::make_error<UsageError>("Invalid container name (" + spec.name +
                                          "), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed");
    }
    spec.name = name.str();
    if (auto err = claim_name(spec.name, spec.id)) {
      return err;
    }
  } else {
    for (unsigned attempt = 0;; ++attempt) {
      spec.name = generated_name(attempt);
      llvm::Error err = claim_name(spec.name, spec.id);
      if (!err) {
        break;
      }
      if (attempt > 20) {
        return err;
      }
      llvm::consumeError(std::move(err));
    }
  }
  if (spec.process.hostname.empty()) {
    spec.process.hostname = spec.id.substr(0, 12);
  }
  ContainerPaths p = paths(spec.id);
  llvm::Error err = fs::make_dirs(p.rootfs(), 0755);
  if (!err) {
    err = write_replace(p.image_config(), image_config);
  }
  if (!err) {
    err = save_state(spec.id, ContainerState{});
  }
  if (!err) {
    err = write_replace(p.config(), spec_to_json(spec).dump(2) + "\n");
  }
  if (err) {
    ::unlink((names_dir() + "/" + spec.name).c_str());
    llvm::consumeError(fs::remove_all(p.dir));
    return with_context(std::move(err), "create container");
  }
  return llvm::Error::success();
}

llvm::Expected<ContainerSpec> ContainerStore::load_spec(llvm::StringRef id) const {
  auto j = read_json(paths(id).config());
  if (!j) {
    return j.takeError();
  }
  return spec_from_json(*j);
}

llvm::Expected<ContainerState> ContainerStore::load_state(llvm::StringRef id) const {
  auto j = read_json(paths(id).state());
  if (!j) {
    return j.takeError();
  }
  return state_from_json(*j);
}

llvm::Error ContainerStore::save_state(llvm::StringRef id, const ContainerState& state) const {
  return write_replace(paths(id).state(), state_to_json(state).dump() + "\n");
}

bool ContainerStore::has_runner(llvm::StringRef id) const {
  auto lock = FileLock::try_acquire(paths(id).monitor_lock());
  if (!lock) {
    llvm::consumeError(lock.takeError());
    return false;
  }
  return !lock->has_value();
}

llvm::Error ContainerStore::clean_up_lost(llvm::StringRef id, ContainerState& state) const {
  ContainerPaths p = paths(id);
  auto control = runtime::ContainerControl::open(container_runtime());
  if (control) {
    llvm::consumeError(control->remove(id));
  } else {
    llvm::consumeError(control.takeError());
  }
  unmount_rootfs(p);
  llvm::consumeError(fs::remove_all(p.runtime_state()));
  state.status = ContainerStatus::exited;
  state.exit_code = 255;
  state.pid = 0;
  state.finished_ns = now_ns();
  state.error = "the container's monitor process ended unexpectedly";
  if (!state.health.status.empty()) {
    state.health.status = "unhealthy";
  }
  return save_state(id, state);
}

llvm::Expected<ContainerState> ContainerStore::current_state(llvm::StringRef id) const {
  auto state = load_state(id);
  if (!state || state->status == ContainerStatus::exited || has_runner(id)) {
    return state;
  }
  // Recorded as created (never started) or running without a runner. Look again
  // under the op lock: a start in progress holds it until its monitor runs.
  auto op = FileLock::acquire(paths(id).op_lock());
  if (!op) {
    return op.takeError();
  }
  state = load_state(id);
  if (!state || !state->running() || has_runner(id)) {
    return state;
  }
  if (auto err = clean_up_lost(id, *state)) {
    return err;
  }
  return state;
}

llvm::Error ContainerStore::remove(llvm::StringRef id, KillFirst kill) const {
  ContainerPaths p = paths(id);
  if (kill == KillFirst::yes) {
    auto control = runtime::ContainerControl::open(container_runtime());
    if (!control) {
      return control.takeError();
    }
    if (auto err = control->remove(id)) {
      return err;
    }
  }
  unmount_rootfs(p);
  auto spec = load_spec(id);
  if (spec) {
    std::string link = names_dir() + "/" + spec->name;
    char target[128];
    ssize_t n = ::readlink(link.c_str(), target, sizeof(target) - 1);
    if (n == 64 && llvm::StringRef(target, 64) == id) {
      ::unlink(link.c_str());
    }
  } else {
    llvm::consumeError(spec.takeError());
  }
  // Rename first so that a half-removed container is never listed.
  std::string doomed = root_ + "/tmp/container-" + id.str();
  if (::rename(p.dir.c_str(), doomed.c_str()) != 0) {
    if (errno == ENOENT) {
      return llvm::Error::success();
    }
    return make_io_error("remove container", p.dir, errno);
  }
  return fs::remove_all(doomed);
}

}  // namespace kiln::cli
