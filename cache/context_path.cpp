#include "cache/context_path.h"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>

#include "cache/context_hash.h"
#include "support/error.h"
#include "support/root_path.h"

namespace kiln::cache {

llvm::Expected<std::string> resolve_context_path(llvm::StringRef root, llvm::StringRef path,
                                                 FollowLast follow) {
  auto parts =
      resolve_below_root(root, clean_context_path(path), follow == FollowLast::yes, "the context");
  if (!parts) {
    return parts.takeError();
  }
  return join_path_parts(*parts);
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
