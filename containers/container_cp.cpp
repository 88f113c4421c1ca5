#include "containers/container_cp.h"

#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <optional>

#include "cache/snapshot.h"
#include "runtime/rootfs_path.h"
#include "support/error.h"
#include "support/file_lock.h"
#include "support/fs.h"

namespace kiln::containers {
namespace {

llvm::Error cp_a(const std::string& from, const std::string& to) {
  pid_t pid = ::fork();
  if (pid == 0) {
    const char* argv[] = {"cp", "-a", "--", from.c_str(), to.c_str(), nullptr};
    ::execv("/bin/cp", const_cast<char* const*>(argv));
    ::_exit(127);
  }
  if (pid < 0) {
    return make_io_error("fork to copy", from, errno);
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    return make_error("copy " + quote(from) + " to " + quote(to) + " failed");
  }
  return llvm::Error::success();
}

llvm::Error copy_in_root(const std::string& rootfs, llvm::StringRef container_path,
                         llvm::StringRef host_path, CopyDirection direction) {
  auto resolved = runtime::resolve_in_rootfs(rootfs, container_path);
  if (!resolved) {
    return resolved.takeError();
  }
  struct stat st {};
  if (direction == CopyDirection::from_container) {
    if (::lstat(resolved->c_str(), &st) != 0) {
      return make_error("Could not find the file " + container_path.str() + " in container");
    }
    return cp_a(*resolved, host_path.str());
  }
  if (::lstat(host_path.str().c_str(), &st) != 0) {
    return make_io_error("copy", host_path, errno);
  }
  return cp_a(host_path.str(), *resolved);
}

}  // namespace

llvm::Error copy_files(const ContainerStore& store, llvm::StringRef id,
                       llvm::StringRef container_path, llvm::StringRef host_path,
                       CopyDirection direction) {
  if (!container_path.startswith("/")) {
    return llvm::make_error<UsageError>("the container path " + quote(container_path) +
                                        " must be absolute");
  }
  ContainerPaths paths = store.paths(id);
  auto op = FileLock::acquire(paths.op_lock());
  if (!op) {
    return op.takeError();
  }
  if (store.has_runner(id)) {
    return copy_in_root(paths.rootfs(), container_path, host_path, direction);
  }
  // Stopped: its snapshot, mounted for the copy (op.lock keeps a start out).
  auto snapshots = cache::SnapshotStore::open(store.root());
  if (!snapshots) {
    return snapshots.takeError();
  }
  auto snapshot = snapshots->open_mutable(paths.snapshot());
  if (!snapshot) {
    return snapshot.takeError();
  }
  if (auto err = fs::make_dirs(paths.rootfs())) {
    llvm::consumeError(snapshot->persist(paths.snapshot()));
    return err;
  }
  snapshot->set_durability(cache::Durability::volatile_);  // as its runs mount it
  if (auto err = snapshot->mount(paths.rootfs())) {
    llvm::consumeError(snapshot->persist(paths.snapshot()));
    return err;
  }
  llvm::Error result = copy_in_root(paths.rootfs(), container_path, host_path, direction);
  llvm::consumeError(snapshot->unmount());
  if (auto err = snapshot->persist(paths.snapshot())) {
    return llvm::joinErrors(std::move(result), std::move(err));
  }
  return result;
}

namespace {

// "NAME:/path" -> {NAME, /path}; a host path has no ':' before its first '/'.
std::optional<std::pair<std::string, std::string>> container_part(llvm::StringRef text) {
  size_t colon = text.find(':');
  if (colon == llvm::StringRef::npos || colon == 0 || text.substr(0, colon).contains('/')) {
    return std::nullopt;
  }
  return std::make_pair(text.substr(0, colon).str(), text.substr(colon + 1).str());
}

}  // namespace

llvm::Error copy_paths(llvm::StringRef root, llvm::StringRef src, llvm::StringRef dest) {
  auto from = container_part(src);
  auto to = container_part(dest);
  if (bool(from) == bool(to)) {
    return llvm::make_error<UsageError>(
        "copying between containers or between host paths is not supported; "
        "one of the paths must be CONTAINER:PATH");
  }
  const auto& part = from ? *from : *to;
  auto found = ContainerStore::open_container(root, part.first);
  if (!found) {
    return found.takeError();
  }
  return copy_files(found->store, found->id, part.second, from ? dest : src,
                    from ? CopyDirection::from_container : CopyDirection::to_container);
}

}  // namespace kiln::containers
