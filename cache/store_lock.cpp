#include "cache/store_lock.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdlib>
#include <ctime>
#include <iterator>
#include <map>
#include <memory>
#include <mutex>
#include <sstream>
#include <string>
#include <vector>

#include "cache/mountinfo.h"
#include "cache/snapshot.h"
#include "support/error.h"
#include "support/file_lock.h"
#include "support/fs.h"

namespace kiln::cache {
namespace {

// Undoes the octal escapes (\040 for a space) of /proc/self/mountinfo fields.
std::string unescape(const std::string& field) {
  std::string out;
  for (size_t i = 0; i < field.size(); ++i) {
    if (field[i] == '\\' && i + 3 < field.size()) {
      out += static_cast<char>(std::stoi(field.substr(i + 1, 3), nullptr, 8));
      i += 3;
    } else {
      out += field[i];
    }
  }
  return out;
}

// The names in `dir` for which `keep(name)` holds.
template <typename Keep>
std::vector<std::string> entries(const std::string& dir, Keep keep) {
  std::vector<std::string> names;
  std::unique_ptr<DIR, int (*)(DIR*)> d(::opendir(dir.c_str()), ::closedir);
  if (!d) {
    return names;
  }
  while (dirent* e = ::readdir(d.get())) {
    llvm::StringRef name(e->d_name);
    if (name != "." && name != ".." && keep(name)) {
      names.push_back(name.str());
    }
  }
  return names;
}

bool old_enough(const std::string& path, int64_t min_age_seconds) {
  struct stat st {};
  return ::lstat(path.c_str(), &st) == 0 && std::time(nullptr) - st.st_ctime >= min_age_seconds;
}

// Whether `path` is `dir` or below it.
bool under(llvm::StringRef path, llvm::StringRef dir) {
  return path.startswith(dir) && (path.size() == dir.size() || path[dir.size()] == '/');
}

// Removes the ingest file `path` when no process holds its flock.
bool remove_dead_ingest(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) {
    return false;
  }
  auto dead = try_lock_fd(fd, LockMode::exclusive, path);
  bool removed = dead && *dead && ::unlink(path.c_str()) == 0;
  llvm::consumeError(dead.takeError());
  ::close(fd);
  return removed;
}

}  // namespace

std::vector<MountEntry> read_mountinfo() {
  std::vector<MountEntry> out;
  auto info = fs::read_file("/proc/self/mountinfo");
  if (!info) {
    llvm::consumeError(info.takeError());
    return out;
  }
  std::istringstream lines(*info);
  std::string line;
  while (std::getline(lines, line)) {
    std::istringstream fields(line);
    std::string id, parent, devno, root, point;
    fields >> id >> parent >> devno >> root >> point;
    size_t dash = line.find(" - ");
    std::istringstream tail(dash == std::string::npos ? "" : line.substr(dash + 3));
    std::string fstype, source, options;
    tail >> fstype >> source >> options;
    out.push_back({unescape(root), unescape(point), fstype, unescape(options)});
  }
  return out;
}

llvm::Expected<unsigned> reclaim_all(llvm::StringRef root_ref) {
  std::string root = root_ref.str();
  std::string tmp = root + "/tmp";
  std::string snapshots = root + "/snapshots";
  auto in_temp = [&](llvm::StringRef path) {
    return under(path, tmp) || path.startswith(snapshots + "/tmp-");
  };
  std::vector<MountEntry> mounts = read_mountinfo();
  for (auto it = mounts.rbegin(); it != mounts.rend(); ++it) {
    size_t upper = it->options.find("upperdir=");
    llvm::StringRef upper_dir =
        upper == std::string::npos
            ? ""
            : llvm::StringRef(it->options).substr(upper + 9).split(',').first;
    if ((in_temp(it->point) || (!upper_dir.empty() && in_temp(upper_dir))) &&
        ::umount2(it->point.c_str(), MNT_DETACH) != 0 && errno != EINVAL && errno != ENOENT) {
      return make_io_error("reclaim store: unmount", it->point, errno);
    }
  }
  unsigned removed = 0;
  for (const std::string& name : entries(tmp, [](llvm::StringRef) { return true; })) {
    if (auto err = fs::remove_all(tmp + "/" + name)) {
      return with_context(std::move(err), "reclaim store");
    }
    ++removed;
  }
  for (const std::string& name :
       entries(snapshots, [](llvm::StringRef n) { return n.startswith("tmp-"); })) {
    if (auto err = fs::remove_all(snapshots + "/" + name)) {
      return with_context(std::move(err), "reclaim store");
    }
    ++removed;
  }
  return removed;
}

llvm::Expected<unsigned> reclaim_dead(llvm::StringRef root, int64_t min_age_seconds) {
  auto removed = remove_stale_snapshots(root.str(), min_age_seconds);
  if (!removed) {
    return removed.takeError();
  }
  std::string tmp = (root + "/tmp").str();
  for (const std::string& name :
       entries(tmp, [](llvm::StringRef n) { return n.startswith("ingest-"); })) {
    std::string path = tmp + "/" + name;
    if (old_enough(path, min_age_seconds) && remove_dead_ingest(path)) {
      ++*removed;
    }
  }
  return *removed;
}

llvm::Error use_store(llvm::StringRef root_ref) {
  static std::mutex mutex;
  // real root -> its lock, held until exit (never destroyed: threads may still use
  // the store while static objects are destroyed)
  static auto& held = *new std::map<std::string, FileLock>();
  char real[PATH_MAX];
  if (::realpath(root_ref.str().c_str(), real) == nullptr) {
    return make_io_error("open store", root_ref, errno);
  }
  std::string root = real;
  std::lock_guard<std::mutex> guard(mutex);
  for (auto it = held.begin(); it != held.end();) {  // forget stores removed since
    bool gone = !fs::exists(it->first + "/store.lock");
    it = gone ? held.erase(it) : std::next(it);
  }
  if (held.count(root) != 0) {
    return llvm::Error::success();
  }
  std::string path = root + "/store.lock";
  auto alone = FileLock::try_acquire(path, LockMode::exclusive);
  if (!alone) {
    return alone.takeError();
  }
  // Reclaim errors are ignored: what stays is tried again by the next process.
  if (*alone) {
    llvm::consumeError(reclaim_all(root).takeError());
    // From exclusive, a conversion (it may wait while another process reclaims).
    if (auto err = (*alone)->change_mode(LockMode::shared)) {
      return err;
    }
    held.emplace(root, std::move(**alone));
    return llvm::Error::success();
  }
  auto shared = FileLock::acquire(path, LockMode::shared);
  if (!shared) {
    return shared.takeError();
  }
  held.emplace(root, std::move(*shared));
  llvm::consumeError(reclaim_dead(root).takeError());
  return llvm::Error::success();
}

}  // namespace kiln::cache
