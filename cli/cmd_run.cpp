// `kiln run [OPTIONS] IMAGE [COMMAND] [ARG...]`: runs a command in a new container
// from a stored image, in the foreground, applying the image's Entrypoint, Cmd,
// Env, WorkingDir and User as docker does; the exit code is the process's.
#include <signal.h>
#include <termios.h>
#include <unistd.h>

#include <cstdlib>
#include <iostream>
#include <optional>

#include <llvm/ADT/StringExtras.h>

#include "cache/snapshot.h"
#include "cli/command.h"
#include "cli/print_error.h"
#include "cli/store_open.h"
#include "oci/image_config.h"
#include "oci/types.h"
#include "runtime/executor.h"
#include "support/error.h"
#include "support/fs.h"

namespace kiln::cli {
namespace {

struct RunFlags {
  bool rm = false;
  std::vector<std::string> env;
  std::vector<std::string> env_files;
  std::string workdir;
  std::string user;
  std::vector<std::string> volumes;
  std::string network = "host";
  std::optional<std::string> entrypoint;
  bool interactive = false;
  bool tty = false;
  std::string name;
  std::vector<std::string> image_and_command;  // IMAGE [COMMAND [ARG...]]
};

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

// -v HOST:CTR[:ro|rw]; the host path must be absolute and is created when missing.
llvm::Expected<runtime::MountSpec> parse_volume(llvm::StringRef text) {
  llvm::SmallVector<llvm::StringRef, 3> parts;
  text.split(parts, ':');
  if (parts.size() < 2 || parts.size() > 3 || !parts[0].startswith("/") ||
      !parts[1].startswith("/") || (parts.size() == 3 && parts[2] != "ro" && parts[2] != "rw")) {
    return llvm::make_error<UsageError>("invalid volume " + quote(text) +
                                        " (expected /HOST:/CONTAINER[:ro])");
  }
  if (auto err = fs::make_dirs(parts[0])) {
    return err;
  }
  runtime::MountSpec mount;
  mount.source = parts[0].str();
  mount.destination = parts[1].str();
  mount.access = parts.size() == 3 && parts[2] == "ro" ? runtime::Access::read_only
                                                       : runtime::Access::read_write;
  return mount;
}

// The process docker would run for `image` with `flags`.
llvm::Expected<runtime::ProcessSpec> container_process(const oci::ContainerConfig& image,
                                                       const RunFlags& flags) {
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
  if (spec.args.empty()) {
    return llvm::make_error<UsageError>("no command specified");
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
  if (flags.network != "host" && flags.network != "none") {
    return llvm::make_error<UsageError>("unsupported network " + quote(flags.network) +
                                        " (expected 'host' or 'none')");
  }
  spec.network = flags.network == "none" ? runtime::NetworkMode::none : runtime::NetworkMode::host;
  for (const auto& v : flags.volumes) {
    auto mount = parse_volume(v);
    if (!mount) {
      return mount.takeError();
    }
    spec.mounts.push_back(std::move(*mount));
  }
  return spec;
}

// The image's config and its layers as blobs to unpack.
struct ImageLayers {
  oci::ImageConfig config;
  std::vector<cache::LayerBlob> layers;
};

llvm::Expected<ImageLayers> load_image(const GlobalOptions& globals, llvm::StringRef ref) {
  auto store = open_store(globals);
  if (!store) {
    return store.takeError();
  }
  auto record = (*store)->resolve(ref);
  if (!record) {
    return with_context(record.takeError(), "unable to find image " + quote(ref) + " locally");
  }
  const cache::ContentStore& content = (*store)->content();
  auto manifest_json = content.read(record->manifest);
  if (!manifest_json) {
    return manifest_json.takeError();
  }
  auto config_json = content.read(record->config);
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
  if (config->diff_ids.size() != manifest->layers.size()) {
    return make_error("image " + quote(ref) + ": the config and the manifest differ in layers");
  }
  ImageLayers out{std::move(*config), {}};
  for (size_t i = 0; i < manifest->layers.size(); ++i) {
    out.layers.push_back({content.blob_path(manifest->layers[i].digest), out.config.diff_ids[i]});
  }
  return out;
}

runtime::CancelToken* g_cancel = nullptr;

void on_signal(int) {
  if (g_cancel) {
    g_cancel->cancel();
  }
}

// Puts stdin in raw mode for `kiln run -it` while alive.
class RawTerminal {
 public:
  explicit RawTerminal(bool enable) {
    if (enable && ::isatty(0) && ::tcgetattr(0, &saved_) == 0) {
      termios raw = saved_;
      ::cfmakeraw(&raw);
      active_ = ::tcsetattr(0, TCSANOW, &raw) == 0;
    }
  }
  ~RawTerminal() {
    if (active_) {
      ::tcsetattr(0, TCSANOW, &saved_);
    }
  }

 private:
  termios saved_{};
  bool active_ = false;
};

// docker's exit codes when the command cannot be started.
int start_failure_code(const std::string& message) {
  if (llvm::StringRef(message).contains("executable file not found") ||
      llvm::StringRef(message).contains("no such file or directory")) {
    return 127;
  }
  return llvm::StringRef(message).contains("permission denied") ? 126 : 125;
}

llvm::Expected<int> run_container(const GlobalOptions& globals, const RunFlags& flags) {
  auto image = load_image(globals, flags.image_and_command.front());
  if (!image) {
    return image.takeError();
  }
  auto process = container_process(image->config.config, flags);
  if (!process) {
    return process.takeError();
  }
  auto snapshots = cache::SnapshotStore::open(globals.root);
  if (!snapshots) {
    return snapshots.takeError();
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
  auto dir = flags.name.empty()
                 ? fs::make_temp_dir(fs::join(globals.root, "containers"), "run-")
                 : llvm::Expected<std::string>(fs::join(globals.root, "containers/" + flags.name));
  if (!dir) {
    return dir.takeError();
  }
  if (!flags.name.empty() && fs::exists(*dir)) {
    return llvm::make_error<UsageError>("the container name " + quote(flags.name) +
                                        " is already in use");
  }
  std::string rootfs = fs::join(*dir, "rootfs");
  if (auto err = fs::make_dirs(rootfs)) {
    return err;
  }
  auto result = [&]() -> llvm::Expected<runtime::ExitStatus> {
    if (auto err = snapshot->mount(rootfs)) {
      return err;
    }
    auto kind = runtime::parse_runtime_kind(
        std::getenv("KILN_OCI_RUNTIME") ? std::getenv("KILN_OCI_RUNTIME") : "");
    if (!kind) {
      return kind.takeError();
    }
    auto executor = runtime::make_oci_executor({*kind, fs::join(*dir, "state"), "", ""});
    if (!executor) {
      return executor.takeError();
    }
    runtime::RunRequest request;
    request.rootfs = rootfs;
    request.process = std::move(*process);
    request.stdio.stdin_fd = flags.interactive ? 0 : -1;
    request.stdio.stdout_fd = 1;
    request.stdio.stderr_fd = 2;
    runtime::CancelToken cancel;
    g_cancel = &cancel;
    struct sigaction action {};
    action.sa_handler = on_signal;
    struct sigaction old_int {};
    struct sigaction old_term {};
    ::sigaction(SIGINT, &action, &old_int);
    ::sigaction(SIGTERM, &action, &old_term);
    RawTerminal raw(flags.tty && flags.interactive);
    auto status = (*executor)->run(request, &cancel);
    ::sigaction(SIGINT, &old_int, nullptr);
    ::sigaction(SIGTERM, &old_term, nullptr);
    g_cancel = nullptr;
    return status;
  }();
  llvm::consumeError(snapshot->drop());
  llvm::consumeError(fs::remove_all(*dir));
  if (!result) {
    std::string message = error_message(result.takeError());
    if (message == "cancelled") {
      return llvm::make_error<CancelledError>();
    }
    print_error(make_error(message), std::cerr);
    return start_failure_code(message);
  }
  return result->code();
}

CommandBody setup_run(CLI::App& sub, const GlobalOptions& globals) {
  auto flags = std::make_shared<RunFlags>();
  sub.add_flag("--rm", flags->rm, "Remove the container when it exits (always done for now)");
  sub.add_option("-e,--env", flags->env, "Set environment variables");
  sub.add_option("--env-file", flags->env_files, "Read in a file of environment variables");
  sub.add_option("-w,--workdir", flags->workdir, "Working directory inside the container");
  sub.add_option("-u,--user", flags->user, "Username or UID (format: <name|uid>[:<group|gid>])");
  sub.add_option("-v,--volume", flags->volumes, "Bind mount a volume (/HOST:/CONTAINER[:ro])");
  sub.add_option("--network", flags->network, "Connect a container to a network (host|none)");
  sub.add_option_function<std::string>(
      "--entrypoint", [flags](const std::string& value) { flags->entrypoint = value; },
      "Overwrite the default ENTRYPOINT of the image");
  sub.add_flag("-i,--interactive", flags->interactive, "Keep STDIN open");
  sub.add_flag("-t,--tty", flags->tty, "Allocate a pseudo-TTY");
  sub.add_option("--name", flags->name, "Assign a name to the container");
  // Everything from IMAGE on belongs to the container: stop parsing options there.
  sub.prefix_command();
  sub.allow_extras();
  return [flags, &sub, &globals]() -> llvm::Expected<int> {
    flags->image_and_command = sub.remaining();
    if (flags->image_and_command.empty()) {
      return llvm::make_error<UsageError>("\"kiln run\" requires at least 1 argument");
    }
    return run_container(globals, *flags);
  };
}

CommandRegistration reg{{"run", "Run a command in a new container", setup_run, 20}};

}  // namespace
}  // namespace kiln::cli
