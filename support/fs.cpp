#include "support/fs.h"

#include <fcntl.h>
#include <ftw.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <vector>

#include "support/error.h"

namespace kiln::fs {

llvm::Expected<std::string> read_file(llvm::StringRef path) {
  int fd = ::open(path.str().c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return make_io_error("open", path, errno);
  }
  std::string out;
  struct stat st {};
  if (::fstat(fd, &st) == 0 && st.st_size > 0) {
    out.reserve(static_cast<size_t>(st.st_size));
  }
  char buf[65536];
  while (true) {
    ssize_t n = ::read(fd, buf, sizeof(buf));
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      int e = errno;
      ::close(fd);
      return make_io_error("read", path, e);
    }
    if (n == 0) {
      break;
    }
    out.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  return out;
}

llvm::Error make_dirs(llvm::StringRef path, unsigned mode) {
  std::string p = path.str();
  if (p.empty()) {
    return llvm::Error::success();
  }
  for (size_t i = 1; i <= p.size(); ++i) {
    if (i == p.size() || p[i] == '/') {
      std::string part = p.substr(0, i);
      if (::mkdir(part.c_str(), mode) != 0 && errno != EEXIST) {
        return make_io_error("create directory", part, errno);
      }
    }
  }
  struct stat st {};
  if (::stat(p.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    return make_io_error("create directory", p, ENOTDIR);
  }
  return llvm::Error::success();
}

namespace {
int remove_entry(const char* path, const struct stat*, int, struct FTW*) {
  return ::remove(path) == 0 || errno == ENOENT ? 0 : -1;
}
}  // namespace

llvm::Error remove_all(llvm::StringRef path) {
  std::string p = path.str();
  struct stat st {};
  if (::lstat(p.c_str(), &st) != 0) {
    return errno == ENOENT ? llvm::Error::success() : make_io_error("remove", path, errno);
  }
  if (!S_ISDIR(st.st_mode)) {
    if (::unlink(p.c_str()) != 0) {
      return make_io_error("remove", path, errno);
    }
    return llvm::Error::success();
  }
  // Directories need write+exec to remove their entries; restore it on the way.
  if (::nftw(p.c_str(), remove_entry, 64, FTW_DEPTH | FTW_PHYS | FTW_MOUNT) != 0) {
    return make_io_error("remove", path, errno);
  }
  return llvm::Error::success();
}

bool exists(llvm::StringRef path) {
  struct stat st {};
  return ::lstat(path.str().c_str(), &st) == 0;
}

std::string join(llvm::StringRef a, llvm::StringRef b) {
  if (a.empty()) {
    return b.str();
  }
  if (b.empty()) {
    return a.str();
  }
  std::string out = a.str();
  if (out.back() != '/') {
    out += '/';
  }
  out += b.ltrim('/');
  return out;
}

llvm::Expected<std::string> make_temp_dir(llvm::StringRef parent, llvm::StringRef prefix) {
  if (auto err = make_dirs(parent)) {
    return err;
  }
  std::string tmpl = join(parent, (prefix + "XXXXXX").str());
  std::vector<char> buf(tmpl.begin(), tmpl.end());
  buf.push_back('\0');
  if (::mkdtemp(buf.data()) == nullptr) {
    return make_io_error("create temp directory in", parent, errno);
  }
  return std::string(buf.data());
}

namespace {

template <typename Write>
bool write_each(llvm::StringRef data, Write write) {
  while (!data.empty()) {
    ssize_t n = write(data.data(), data.size());
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      return false;
    }
    data = data.drop_front(static_cast<size_t>(n));
  }
  return true;
}

}  // namespace

bool write_all(int fd, llvm::StringRef data) {
  return write_each(data, [fd](const char* p, size_t n) { return ::write(fd, p, n); });
}

bool send_all(int fd, llvm::StringRef data) {
  return write_each(data, [fd](const char* p, size_t n) { return ::send(fd, p, n, MSG_NOSIGNAL); });
}

}  // namespace kiln::fs
