// Reading the Dockerfile with BuildKit's size limit.
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

#include "frontend/instructions.h"
#include "support/error.h"

namespace kiln::frontend {

std::string dockerfile_too_large(llvm::StringRef path) {
  return "Dockerfile exceeds maximum allowed size of " + std::to_string(kMaxDockerfileSize) +
         " bytes: " + path.str();
}

llvm::Expected<std::string> read_dockerfile(llvm::StringRef path) {
  bool stdin_ = path == "-";
  int fd = stdin_ ? 0 : ::open(path.str().c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return make_io_error("open", path, errno);
  }
  std::string text;
  char buffer[65536];
  llvm::Error err = llvm::Error::success();
  while (true) {
    ssize_t n = ::read(fd, buffer, sizeof(buffer));
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n < 0) {
      err = make_io_error("read", stdin_ ? "standard input" : path, errno);
      break;
    }
    if (n == 0) {
      break;
    }
    text.append(buffer, static_cast<size_t>(n));
    if (text.size() > kMaxDockerfileSize) {
      err = make_error(dockerfile_too_large(stdin_ ? "standard input" : path));
      break;
    }
  }
  if (!stdin_) {
    ::close(fd);
  }
  if (err) {
    return std::move(err);
  }
  return text;
}

}  // namespace kiln::frontend
