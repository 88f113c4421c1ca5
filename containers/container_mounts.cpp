#include "containers/container_mounts.h"

#include <dirent.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <llvm/ADT/StringExtras.h>

#include "containers/volume_store.h"
#include "runtime/rootfs_path.h"
#include "support/error.h"
#include "support/fs.h"

namespace kiln::containers {
namespace {

llvm::Error invalid(llvm::StringRef flag, llvm::StringRef value, llvm::StringRef why) {
  return llvm::make_error<UsageError>("invalid " + flag.str() + " " + quote(value) + ": " +
                                      why.str());
}

// Adds a mount (runtime) and its record (inspect); a later mount on the same
// destination replaces an earlier one.
void add_mount(ContainerSpec& spec, runtime::MountSpec mount, MountRecord record) {
  auto& mounts = spec.process.mounts;
  for (size_t i = 0; i < mounts.size(); ++i) {
    if (mounts[i].destination == mount.destination) {
      mounts.erase(mounts.begin() + static_cast<long>(i));
      break;
    }
  }
  auto& records = spec.mount_records;
  for (size_t i = 0; i < records.size(); ++i) {
    if (records[i].destination == mount.destination) {
      records.erase(records.begin() + static_cast<long>(i));
      break;
    }
  }
  mounts.push_back(std::move(mount));
  records.push_back(std::move(record));
}

llvm::Error add_volume(const ContainerStore& store, ContainerSpec& spec, llvm::StringRef name,
                       llvm::StringRef destination, bool read_only) {
  auto volumes = VolumeStore::open(store.root());
  if (!volumes) {
    return volumes.takeError();
  }
  auto volume = volumes->create(name, {}, name.empty());
  if (!volume) {
    return volume.takeError();
  }
  runtime::MountSpec mount;
  mount.source = volume->mountpoint;
  mount.destination = destination.str();
  mount.access = read_only ? runtime::Access::read_only : runtime::Access::read_write;
  add_mount(spec, mount,
            {"volume", volume->name, volume->mountpoint, destination.str(), !read_only});
  return llvm::Error::success();
}

llvm::Error add_bind(ContainerSpec& spec, llvm::StringRef source, llvm::StringRef destination,
                     bool read_only, bool create_missing) {
  if (!fs::exists(source)) {
    if (!create_missing) {
      return llvm::make_error<UsageError>(
          "invalid mount config for type \"bind\": bind source "
          "path does not exist: " +
          source.str());
    }
    // docker: a missing source of -v is created as a directory.
    if (auto err = fs::make_dirs(source)) {
      return err;
    }
  }
  runtime::MountSpec mount;
  mount.source = source.str();
  mount.destination = destination.str();
  mount.access = read_only ? runtime::Access::read_only : runtime::Access::read_write;
  add_mount(spec, mount, {"bind", "", source.str(), destination.str(), !read_only});
  return llvm::Error::success();
}

llvm::Expected<uint64_t> parse_size(llvm::StringRef text) {
  std::string lower = text.lower();
  llvm::StringRef number = lower;
  uint64_t multiplier = 1;
  if (number.consume_back("k") || number.consume_back("kb")) {
    multiplier = 1024;
  } else if (number.consume_back("m") || number.consume_back("mb")) {
    multiplier = 1024 * 1024;
  } else if (number.consume_back("g") || number.consume_back("gb")) {
    multiplier = 1024 * 1024 * 1024;
  } else {
    number.consume_back("b");
  }
  uint64_t value = 0;
  if (number.getAsInteger(10, value)) {
    return llvm::make_error<UsageError>("invalid size " + quote(text));
  }
  return value * multiplier;
}

void add_tmpfs(ContainerSpec& spec, llvm::StringRef destination, uint64_t size, bool read_only) {
  runtime::MountSpec mount;
  mount.kind = runtime::MountSpec::Kind::tmpfs;
  mount.destination = destination.str();
  mount.tmpfs_size_bytes = size;
  mount.access = read_only ? runtime::Access::read_only : runtime::Access::read_write;
  add_mount(spec, mount, {"tmpfs", "", "", destination.str(), !read_only});
}

// -v SRC:DST[:OPTS] | -v DST (an anonymous volume)
llvm::Error parse_v(const ContainerStore& store, ContainerSpec& spec, llvm::StringRef text) {
  llvm::SmallVector<llvm::StringRef, 3> parts;
  text.split(parts, ':');
  if (parts.size() == 1) {
    if (!parts[0].startswith("/")) {
      return invalid("volume", text, "the container path must be absolute");
    }
    return add_volume(store, spec, "", parts[0], false);
  }
  if (parts.size() > 3 || !parts[1].startswith("/") || parts[0].empty()) {
    return invalid("volume", text, "expected NAME:/CONTAINER[:ro] or /HOST:/CONTAINER[:ro]");
  }
  bool read_only = false;
  if (parts.size() == 3) {
    llvm::SmallVector<llvm::StringRef, 4> opts;
    parts[2].split(opts, ',');
    for (llvm::StringRef opt : opts) {
      if (opt == "ro") {
        read_only = true;
      } else if (opt != "rw" && opt != "z" && opt != "Z" && opt != "nocopy") {
        return invalid("volume", text, "unknown option " + quote(opt));
      }
    }
  }
  if (parts[0].startswith("/")) {
    return add_bind(spec, parts[0], parts[1], read_only, true);
  }
  if (!valid_volume_name(parts[0])) {
    return invalid("volume", text,
                   "a volume name must match [a-zA-Z0-9][a-zA-Z0-9_.-]+ (a host path must be "
                   "absolute)");
  }
  return add_volume(store, spec, parts[0], parts[1], read_only);
}

// --mount type=volume|bind|tmpfs,src=,dst=,readonly
llvm::Error parse_mount(const ContainerStore& store, ContainerSpec& spec, llvm::StringRef text) {
  std::string type = "volume";
  std::string source;
  std::string destination;
  bool read_only = false;
  uint64_t size = 0;
  llvm::SmallVector<llvm::StringRef, 6> fields;
  text.split(fields, ',');
  for (llvm::StringRef field : fields) {
    auto [key, value] = field.split('=');
    if (key == "type") {
      type = value.str();
    } else if (key == "source" || key == "src") {
      source = value.str();
    } else if (key == "destination" || key == "dst" || key == "target") {
      destination = value.str();
    } else if (key == "readonly" || key == "ro") {
      read_only = value.empty() || value == "true" || value == "1";
    } else if (key == "tmpfs-size") {
      auto parsed = parse_size(value);
      if (!parsed) {
        return parsed.takeError();
      }
      size = *parsed;
    } else if (key != "volume-nocopy" && key != "bind-propagation" && key != "tmpfs-mode" &&
               key != "consistency") {
      return invalid("--mount", text, "unknown field " + quote(key));
    }
  }
  if (!llvm::StringRef(destination).startswith("/")) {
    return invalid("--mount", text, "dst must be an absolute path");
  }
  if (type == "volume") {
    return add_volume(store, spec, source, destination, read_only);
  }
  if (type == "bind") {
    if (!llvm::StringRef(source).startswith("/")) {
      return invalid("--mount", text, "a bind mount's src must be an absolute path");
    }
    return add_bind(spec, source, destination, read_only, false);
  }
  if (type == "tmpfs") {
    if (!source.empty()) {
      return invalid("--mount", text, "a tmpfs mount has no src");
    }
    add_tmpfs(spec, destination, size, read_only);
    return llvm::Error::success();
  }
  return invalid("--mount", text, "type must be volume, bind or tmpfs");
}

llvm::Error parse_tmpfs(ContainerSpec& spec, llvm::StringRef text) {
  auto [destination, options] = text.split(':');
  if (!destination.startswith("/")) {
    return invalid("--tmpfs", text, "the container path must be absolute");
  }
  uint64_t size = 0;
  bool read_only = false;
  llvm::SmallVector<llvm::StringRef, 4> opts;
  options.split(opts, ',', -1, false);
  for (llvm::StringRef opt : opts) {
    auto [key, value] = opt.split('=');
    if (key == "size") {
      auto parsed = parse_size(value);
      if (!parsed) {
        return parsed.takeError();
      }
      size = *parsed;
    } else if (key == "ro") {
      read_only = true;
    }
  }
  add_tmpfs(spec, destination, size, read_only);
  return llvm::Error::success();
}

llvm::Error parse_volumes_from(const ContainerStore& store, ContainerSpec& spec,
                               llvm::StringRef text) {
  auto [container, mode] = text.split(':');
  if (!mode.empty() && mode != "ro" && mode != "rw") {
    return invalid("--volumes-from", text, "expected CONTAINER[:ro|rw]");
  }
  auto id = store.resolve(container);
  if (!id) {
    return id.takeError();
  }
  auto other = store.load_spec(*id);
  if (!other) {
    return other.takeError();
  }
  for (const MountRecord& m : other->mount_records) {
    bool read_only = mode.empty() ? !m.rw : mode == "ro";
    if (m.type == "volume") {
      if (auto err = add_volume(store, spec, m.name, m.destination, read_only)) {
        return err;
      }
    } else if (m.type == "bind") {
      if (auto err = add_bind(spec, m.source, m.destination, read_only, false)) {
        return err;
      }
    }
  }
  return llvm::Error::success();
}

bool empty_dir(const std::string& path) {
  DIR* d = ::opendir(path.c_str());
  if (!d) {
    return false;
  }
  bool empty = true;
  while (dirent* e = ::readdir(d)) {
    llvm::StringRef name = e->d_name;
    if (name != "." && name != "..") {
      empty = false;
      break;
    }
  }
  ::closedir(d);
  return empty;
}

}  // namespace

llvm::Error resolve_mounts(const ContainerStore& store, const MountFlags& flags,
                           ContainerSpec& spec) {
  for (const auto& text : flags.volumes_from) {
    if (auto err = parse_volumes_from(store, spec, text)) {
      return err;
    }
  }
  for (const auto& text : flags.volumes) {
    if (auto err = parse_v(store, spec, text)) {
      return err;
    }
  }
  for (const auto& text : flags.mounts) {
    if (auto err = parse_mount(store, spec, text)) {
      return err;
    }
  }
  for (const auto& text : flags.tmpfs) {
    if (auto err = parse_tmpfs(spec, text)) {
      return err;
    }
  }
  return llvm::Error::success();
}

void seed_volumes(const ContainerSpec& spec, llvm::StringRef rootfs) {
  for (const MountRecord& m : spec.mount_records) {
    if (m.type != "volume" || !empty_dir(m.source)) {
      continue;
    }
    auto from = runtime::resolve_in_rootfs(rootfs, m.destination);
    if (!from) {
      llvm::consumeError(from.takeError());
      continue;
    }
    struct stat st {};
    if (::lstat(from->c_str(), &st) != 0 || !S_ISDIR(st.st_mode) || empty_dir(*from)) {
      continue;
    }
    // cp -a keeps owners, modes, links and times, as docker's copy does.
    std::string source = *from + "/.";
    pid_t pid = ::fork();
    if (pid == 0) {
      const char* argv[] = {"cp", "-a", source.c_str(), m.source.c_str(), nullptr};
      ::execv("/bin/cp", const_cast<char* const*>(argv));
      ::_exit(127);
    }
    if (pid > 0) {
      int status = 0;
      while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
      }
    }
    ::chmod(m.source.c_str(), st.st_mode & 07777);
    ::chown(m.source.c_str(), st.st_uid, st.st_gid);
  }
}

}  // namespace kiln::containers
