#include "containers/container_store.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <random>

#include "containers/container_json.h"
#include "containers/container_network.h"
#include "containers/volume_store.h"
#include "runtime/container_control.h"
#include "support/atomic_file.h"
#include "support/error.h"
#include "support/fs.h"

namespace kiln::containers {
namespace {

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
  auto file = AtomicFile::create(path);
  if (!file) {
    return file.takeError();
  }
  if (auto err = file->write(bytes)) {
    return err;
  }
  return file->commit(Overwrite::yes, Durable::no);
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

std::vector<PublishedPort> live_ports(const ContainerSpec& spec, const ContainerState& state) {
  std::vector<PublishedPort> out;
  for (size_t i = 0; i < spec.ports.size(); ++i) {
    PublishedPort p = spec.ports[i];
    if (i < state.host_ports.size() && state.host_ports[i] != 0) {
      p.host_port = state.host_ports[i];
    }
    if (p.host_port != 0) {
      out.push_back(std::move(p));
    }
  }
  return out;
}

llvm::StringRef state_name(const ContainerState& state) {
  return state.paused ? "paused" : status_name(state.status);
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

runtime::ExecutorOptions container_runtime(llvm::StringRef root) {
  runtime::ExecutorOptions options;
  options.runtime_root = (root + "/containers/.runc").str();
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

llvm::Expected<FoundContainer> ContainerStore::open_container(llvm::StringRef root,
                                                              llvm::StringRef name) {
  auto store = open(root);
  if (!store) {
    return store.takeError();
  }
  auto id = store->resolve(name);
  if (!id) {
    return id.takeError();
  }
  return FoundContainer{std::move(*store), std::move(*id)};
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
    err = write_replace(p.config(), serialize_spec(spec));
  }
  if (err) {
    ::unlink((names_dir() + "/" + spec.name).c_str());
    llvm::consumeError(fs::remove_all(p.dir));
    return with_context(std::move(err), "create container");
  }
  return llvm::Error::success();
}

llvm::Expected<ContainerSpec> ContainerStore::load_spec(llvm::StringRef id) const {
  std::string path = paths(id).config();
  auto text = fs::read_file(path);
  if (!text) {
    return text.takeError();
  }
  return with_context(parse_spec(*text), quote(path));
}

llvm::Expected<ContainerState> ContainerStore::load_state(llvm::StringRef id) const {
  std::string path = paths(id).state();
  auto text = fs::read_file(path);
  if (!text) {
    return text.takeError();
  }
  auto state = parse_state(*text);
  if (!state) {
    return with_context(state.takeError(), quote(path));
  }
  state->paused = state->running() && fs::exists(paths(id).paused());
  return state;
}

llvm::Error ContainerStore::save_state(llvm::StringRef id, const ContainerState& state) const {
  return write_replace(paths(id).state(), serialize_state(state));
}

bool ContainerStore::has_runner(llvm::StringRef id) const {
  auto lock = FileLock::try_acquire(paths(id).monitor_lock());
  if (!lock) {
    llvm::consumeError(lock.takeError());
    return false;
  }
  return !lock->has_value();
}

bool ContainerStore::died_starting(llvm::StringRef id, const ContainerState& state) const {
  // A runner holds monitor.lock before it writes run/; a container only created
  // (`kiln create`, or a run that has not taken the lock yet) has no run/.
  return state.status == ContainerStatus::created && fs::exists(paths(id).runtime_state());
}

llvm::Error ContainerStore::clean_up_lost(llvm::StringRef id, ContainerState& state) const {
  ContainerPaths p = paths(id);
  auto control = runtime::ContainerControl::open(container_runtime(root_));
  if (control) {
    llvm::consumeError(control->remove(id));
  } else {
    llvm::consumeError(control.takeError());
  }
  unmount_rootfs(p);
  leave_networks(*this, id);
  llvm::consumeError(fs::remove_all(p.runtime_state()));
  state.status = ContainerStatus::exited;
  state.exit_code = 255;
  state.pid = 0;
  state.host_ports.clear();
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
  if (!state || !(state->running() || died_starting(id, *state)) || has_runner(id)) {
    return state;
  }
  if (auto err = clean_up_lost(id, *state)) {
    return err;
  }
  return state;
}

llvm::Expected<unsigned> ContainerStore::reclaim_lost() const {
  auto ids = this->ids();
  if (!ids) {
    return ids.takeError();
  }
  unsigned removed = 0;
  for (const std::string& id : *ids) {
    if (has_runner(id)) {
      continue;
    }
    // A start or removal in progress holds the op lock: left to it.
    auto op = FileLock::try_acquire(paths(id).op_lock());
    if (!op || !*op) {
      llvm::consumeError(op.takeError());
      continue;
    }
    auto state = load_state(id);
    auto spec = state ? load_spec(id) : llvm::Expected<ContainerSpec>(state.takeError());
    if (!spec || has_runner(id)) {
      llvm::consumeError(spec.takeError());
      continue;
    }
    if (state->running() || died_starting(id, *state)) {
      if (auto err = clean_up_lost(id, *state)) {
        return err;
      }
    }
    // A created one may be about to start (a foreground run takes no op lock).
    if (spec->auto_remove && state->status != ContainerStatus::created) {
      if (auto err = remove(id, KillFirst::no)) {
        return err;
      }
      ++removed;
    }
  }
  return removed;
}

void reclaim_lost_containers(llvm::StringRef root) {
  std::string dir = (root + "/containers").str();
  DIR* d = ::opendir(dir.c_str());
  if (!d) {
    return;
  }
  bool any = false;
  while (dirent* e = ::readdir(d)) {
    if (e->d_name[0] != '.') {
      any = true;
      break;
    }
  }
  ::closedir(d);
  if (!any) {
    return;
  }
  auto store = ContainerStore::open(root);
  auto removed = store ? store->reclaim_lost() : llvm::Expected<unsigned>(store.takeError());
  if (!removed) {
    llvm::consumeError(removed.takeError());
  }
}

llvm::Error ContainerStore::rename(llvm::StringRef id, llvm::StringRef new_name) const {
  auto spec = load_spec(id);
  if (!spec) {
    return spec.takeError();
  }
  if (new_name.consume_front("/"); new_name.empty() || new_name == spec->name) {
    return llvm::make_error<UsageError>(
        "Renaming a container with the same name as its current "
        "name");
  }
  if (auto err = claim_name(new_name, id)) {
    return err;
  }
  std::string old_link = names_dir() + "/" + spec->name;
  spec->name = new_name.str();
  if (auto err = write_file_atomic(paths(id).config(), serialize_spec(*spec))) {
    ::unlink((names_dir() + "/" + new_name.str()).c_str());
    return err;
  }
  ::unlink(old_link.c_str());
  rename_on_networks(*this, id, new_name);
  return llvm::Error::success();
}

namespace {

// docker's --rm also removes the container's anonymous volumes (those no other
// container names; a named volume stays).
void remove_anonymous_volumes(const ContainerStore& store, const std::vector<std::string>& names) {
  if (names.empty()) {
    return;
  }
  auto volumes = VolumeStore::open(store.root());
  if (!volumes) {
    llvm::consumeError(volumes.takeError());
    return;
  }
  for (const auto& name : names) {
    auto volume = volumes->get(name);
    if (!volume) {
      llvm::consumeError(volume.takeError());
    } else if (volume->anonymous) {
      llvm::consumeError(volumes->remove(name, store));  // in use elsewhere: kept
    }
  }
}

}  // namespace

llvm::Error ContainerStore::remove(llvm::StringRef id, KillFirst kill,
                                   bool anonymous_volumes) const {
  ContainerPaths p = paths(id);
  if (kill == KillFirst::yes) {
    auto control = runtime::ContainerControl::open(container_runtime(root_));
    if (!control) {
      return control.takeError();
    }
    if (auto err = control->remove(id)) {
      return err;
    }
  }
  unmount_rootfs(p);
  leave_networks(*this, id);
  auto spec = load_spec(id);
  bool drop_volumes = anonymous_volumes || (spec && spec->auto_remove);
  std::vector<std::string> volumes;
  if (spec) {
    for (const auto& m : spec->mount_records) {
      if (m.type == "volume") {
        volumes.push_back(m.name);
      }
    }
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
  if (auto err = fs::remove_all(doomed)) {
    return err;
  }
  if (drop_volumes) {
    remove_anonymous_volumes(*this, volumes);
  }
  return llvm::Error::success();
}

}  // namespace kiln::containers
