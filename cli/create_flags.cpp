#include "cli/create_flags.h"

#include "support/error.h"

namespace kiln::cli {

void add_create_flags(CLI::App& sub, containers::CreateFlags& c) {
  auto one_each = [](CLI::Option* option) { option->allow_extra_args(false); };
  sub.set_help_flag("--help", "Print this help message and exit");  // -h is --hostname
  sub.add_flag("--rm", c.auto_remove, "Automatically remove the container when it exits");
  one_each(sub.add_option("-e,--env", c.env, "Set environment variables"));
  one_each(sub.add_option("--env-file", c.env_files, "Read in a file of environment variables"));
  sub.add_option("-w,--workdir", c.workdir, "Working directory inside the container");
  sub.add_option("-u,--user", c.user, "Username or UID (format: <name|uid>[:<group|gid>])");
  one_each(sub.add_option("-v,--volume", c.volumes,
                          "Bind mount a volume (NAME:/CONTAINER[:ro], /HOST:/CONTAINER[:ro] or "
                          "/CONTAINER)"));
  one_each(sub.add_option("--mount", c.mounts,
                          "Attach a filesystem mount (type=volume|bind|tmpfs,src=,dst=,readonly)"));
  one_each(sub.add_option("--tmpfs", c.tmpfs, "Mount a tmpfs directory (PATH[:size=SIZE])"));
  one_each(sub.add_option("--volumes-from", c.volumes_from,
                          "Mount volumes from the specified container(s) (CONTAINER[:ro|rw])"));
  sub.add_flag("--init", c.init,
               "Run an init inside the container that forwards signals and reaps processes");
  sub.add_option("--platform", c.platform, "Set platform if server is multi-platform capable");
  sub.add_option("--network", c.network,
                 "Connect a container to a network (default: kiln; host|none|NAME|container:ID)");
  one_each(sub.add_option("--network-alias", c.network_aliases,
                          "Add network-scoped alias for the container"));
  one_each(sub.add_option("--add-host", c.add_hosts, "Add a custom host-to-IP mapping (host:ip)"));
  sub.add_option("-h,--hostname", c.hostname, "Container host name");
  one_each(sub.add_option("--dns", c.dns, "Set custom DNS servers"));
  one_each(sub.add_option("-l,--label", c.labels, "Set meta data on a container"));
  sub.add_option("-m,--memory", c.memory, "Memory limit (e.g. 64m; a cgroup limit)");
  sub.add_option("--cpus", c.cpus, "Number of CPUs (e.g. 0.5; a cgroup CPU quota)");
  one_each(sub.add_option("--security-opt", c.security_opts,
                          "Security Options (seccomp=unconfined|PROFILE.json)"));
  sub.add_option_function<std::string>(
      "--entrypoint", [&c](const std::string& value) { c.entrypoint = value; },
      "Overwrite the default ENTRYPOINT of the image");
  sub.add_flag("-i,--interactive", c.interactive, "Keep STDIN open");
  sub.add_flag("-t,--tty", c.tty, "Allocate a pseudo-TTY");
  sub.add_option("--name", c.name, "Assign a name to the container");
  sub.add_option("--restart", c.restart,
                 "Restart policy to apply when a container exits (no|on-failure[:N]|always)");
  one_each(
      sub.add_option("-p,--publish", c.publish,
                     "Publish a container's port to the host ([127.0.0.1:]HOST:CONTAINER[/udp]); "
                     "binds 127.0.0.1 unless another loopback address is given"));
  sub.add_option("--stop-signal", c.stop_signal, "Signal to stop the container");
  sub.add_option_function<int>(
      "--stop-timeout", [&c](int value) { c.stop_timeout = value; },
      "Timeout (in seconds) to stop a container");
  sub.add_flag("--no-healthcheck", c.no_healthcheck, "Disable any container-specified HEALTHCHECK");
  one_each(sub.add_option("--log-opt", c.log_opts, "Log driver options (max-size=SIZE)"));
  // Everything from IMAGE on belongs to the container: stop parsing options there
  // (fallthrough would hand IMAGE to the parent app, which rejects it).
  sub.prefix_command();
  sub.fallthrough(false);
}

llvm::Expected<std::vector<std::string>> image_and_command(CLI::App& sub, llvm::StringRef verb) {
  std::vector<std::string> rest = sub.remaining();
  if (!rest.empty() && rest.front() == "--") {
    rest.erase(rest.begin());
  } else if (!rest.empty() && llvm::StringRef(rest.front()).startswith("-")) {
    return llvm::make_error<UsageError>("unknown flag: " + rest.front());
  }
  if (rest.empty()) {
    return llvm::make_error<UsageError>("\"kiln " + verb.str() + "\" requires at least 1 argument");
  }
  return rest;
}

}  // namespace kiln::cli
