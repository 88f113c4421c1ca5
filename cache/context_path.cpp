#include "cache/context_path.h"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <deque>
#include <vector>

#include <llvm/ADT/SmallVector.h>

#include "cache/context_hash.h"
#include "support/error.h"

namespace kiln::cache {
namespace {

constexpr int kMaxSymlinks = 255;

void push_front(llvm::StringRef path, std::deque<std::string>& pending) {
  llvm::SmallVector<llvm::StringRef, 16> parts;
  path.split(parts, '/', -1, false);
  for (auto it = parts.rbegin(); it != parts.rend(); ++it) {
    pending.push_front(it->str());
  }
}

std::string join_parts(const std::vector<std::string>& parts) {
  std::string out;
  for (const auto& p : parts) {
    out += out.empty() ? p : "/" + p;
  }
  return out;
}

}  // namespace

llvm::Expected<std::string> resolve_context_path(llvm::StringRef root, llvm::StringRef path,
                                                 FollowLast follow) {
  std::string base = root.rtrim('/').str();
  std::vector<std::string> done;
  std::deque<std::string> pending;
  push_front(clean_context_path(path), pending);
  int links = 0;
  bool missing = false;
  while (!pending.empty()) {
    std::string part = std::move(pending.front());
    pending.pop_front();
    if (part == ".") {
      continue;
    }
    if (part == "..") {
      if (!done.empty()) {
        done.pop_back();
      }
      continue;
    }
    done.push_back(std::move(part));
    if (missing || (pending.empty() && follow == FollowLast::no)) {
      continue;
    }
    std::string host = base + "/" + join_parts(done);
    struct stat st {};
    if (::lstat(host.c_str(), &st) != 0) {
      missing = true;
      continue;
    }
    if (!S_ISLNK(st.st_mode)) {
      continue;
    }
    if (++links > kMaxSymlinks) {
      return make_error("resolve " + quote(path) + " in the context: too many symlinks");
    }
    std::string target(static_cast<size_t>(st.st_size) + 1, '\0');
    ssize_t n = ::readlink(host.c_str(), target.data(), target.size());
    if (n < 0) {
      return make_io_error("read link", host, errno);
    }
    target.resize(static_cast<size_t>(n));
    done.pop_back();
    if (llvm::StringRef(target).startswith("/")) {
      done.clear();
    }
    push_front(target, pending);
  }
  return join_parts(done);
}

llvm::Expected<std::string> context_host_path(llvm::StringRef root, llvm::StringRef path,
                                              FollowLast follow) {
  auto rel = resolve_context_path(root, path, follow);
  if (!rel) {
    return rel.takeError();
  }
  std::string base = root.rtrim('/').str();
  if (base.empty()) {
    base = "/";
  }
  return rel->empty() ? base : (base == "/" ? "/" + *rel : base + "/" + *rel);
}

int open_in_root(llvm::StringRef root, llvm::StringRef path, int flags) {
  llvm::StringRef base = root.rtrim('/');
  llvm::StringRef rel = path;
  if (rel.consume_front(base) && !rel.empty() && !rel.startswith("/")) {
    rel = path;  // `root` is only a name prefix of `path`
  }
  rel = rel.ltrim('/');
  std::string root_s = base.empty() ? "/" : base.str();
  int dir = ::open(root_s.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (dir < 0) {
    return -1;
  }
  if (rel.empty()) {
    rel = ".";
  }
  std::string rel_s = rel.str();
  struct open_how how {};
  how.flags = static_cast<uint64_t>(flags | O_CLOEXEC);
  how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
  int fd = static_cast<int>(::syscall(SYS_openat2, dir, rel_s.c_str(), &how, sizeof(how)));
  int e = errno;
  ::close(dir);
  errno = e;
  return fd;
}

}  // namespace kiln::cache
