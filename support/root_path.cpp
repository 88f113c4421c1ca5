#include "support/root_path.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <deque>

#include <llvm/ADT/SmallVector.h>

#include "support/error.h"

namespace kiln {
namespace {

constexpr int kMaxSymlinks = 255;

void push_front(llvm::StringRef path, std::deque<std::string>& pending) {
  llvm::SmallVector<llvm::StringRef, 16> parts;
  path.split(parts, '/', -1, false);
  for (auto it = parts.rbegin(); it != parts.rend(); ++it) {
    pending.push_front(it->str());
  }
}

}  // namespace

std::string join_path_parts(const std::vector<std::string>& parts, size_t count) {
  std::string out;
  for (size_t i = 0; i < parts.size() && i < count; ++i) {
    out += i == 0 ? parts[i] : "/" + parts[i];
  }
  return out;
}

llvm::Expected<std::vector<std::string>> resolve_below_root(llvm::StringRef root,
                                                            llvm::StringRef path, bool follow_last,
                                                            llvm::StringRef where) {
  std::string base = root.rtrim('/').str();
  std::vector<std::string> done;
  std::deque<std::string> pending;
  push_front(path, pending);
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
    if (missing || (pending.empty() && !follow_last)) {
      continue;
    }
    std::string host = base + "/" + join_path_parts(done);
    struct stat st {};
    if (::lstat(host.c_str(), &st) != 0) {
      missing = true;
      continue;
    }
    if (!S_ISLNK(st.st_mode)) {
      continue;
    }
    if (++links > kMaxSymlinks) {
      return make_error("resolve " + quote(path) + " in " + where + ": too many symlinks");
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
  return done;
}

}  // namespace kiln
