#include "containers/container_log.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <ctime>
#include <deque>
#include <vector>

#include <nlohmann/json.hpp>

#include "containers/container_store.h"
#include "support/error.h"
#include "support/fs.h"
#include "support/units.h"

namespace kiln::containers {
namespace {

constexpr int kFollowPollMs = 50;

// Prints one json-file line; lines that do not parse are skipped.
void emit(llvm::StringRef line, bool timestamps) {
  auto entry = nlohmann::json::parse(line.begin(), line.end(), nullptr, false);
  if (!entry.is_object() || !entry.contains("log") || !entry["log"].is_string()) {
    return;
  }
  std::string text = entry["log"].get<std::string>();
  if (timestamps) {
    text = entry.value("time", "") + " " + text;
  }
  fs::write_all(entry.value("stream", "stdout") == "stderr" ? 2 : 1, text);
}

// The complete lines of a log file's text (a partial last line is left out).
std::vector<llvm::StringRef> complete_lines(llvm::StringRef text) {
  std::vector<llvm::StringRef> out;
  while (true) {
    size_t nl = text.find('\n');
    if (nl == llvm::StringRef::npos) {
      return out;
    }
    if (nl > 0) {
      out.push_back(text.take_front(nl));
    }
    text = text.drop_front(nl + 1);
  }
}

// An open log file read from where the last read stopped.
struct Follower {
  int fd = -1;
  ino_t inode = 0;
  std::string pending;  // an incomplete last line

  ~Follower() { close(); }
  void close() {
    if (fd >= 0) {
      ::close(fd);
      fd = -1;
    }
    pending.clear();
  }
  bool open(const std::string& path) {
    fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    struct stat st {};
    if (fd < 0 || ::fstat(fd, &st) != 0) {
      close();
      return false;
    }
    inode = st.st_ino;
    return true;
  }
  // Prints the complete lines added since the last call; returns how many.
  size_t drain(bool timestamps) {
    size_t count = 0;
    char buf[64 * 1024];
    ssize_t n;
    while (fd >= 0 && (n = ::read(fd, buf, sizeof(buf))) > 0) {
      pending.append(buf, static_cast<size_t>(n));
      size_t last = pending.rfind('\n');
      if (last == std::string::npos) {
        continue;
      }
      for (llvm::StringRef line : complete_lines(llvm::StringRef(pending).take_front(last + 1))) {
        emit(line, timestamps);
        ++count;
      }
      pending.erase(0, last + 1);
    }
    return count;
  }
};

void follow(const std::string& path, const LogReadOptions& options, Follower& f,
            const std::function<bool()>& running) {
  while (true) {
    if (f.drain(options.timestamps) > 0) {
      continue;
    }
    struct stat st {};
    bool exists = ::stat(path.c_str(), &st) == 0;
    if (f.fd < 0 || (exists && st.st_ino != f.inode)) {
      // Rotated (or created): finish the old file (lines may have landed in it
      // after the read above), then read the new one from its start.
      f.drain(options.timestamps);
      f.close();
      if (exists && f.open(path)) {
        continue;
      }
    }
    if (!running()) {
      f.drain(options.timestamps);
      return;
    }
    ::usleep(kFollowPollMs * 1000);
  }
}

}  // namespace

llvm::Expected<LogWriter> LogWriter::open(llvm::StringRef path, int64_t max_size) {
  int fd = ::open(path.str().c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
  if (fd < 0) {
    return make_io_error("open log", path, errno);
  }
  struct stat st {};
  ::fstat(fd, &st);
  return LogWriter(path.str(), fd, st.st_size, max_size);
}

LogWriter::LogWriter(LogWriter&& other) noexcept
    : path_(std::move(other.path_)),
      fd_(std::exchange(other.fd_, -1)),
      size_(other.size_),
      max_size_(other.max_size_) {}

LogWriter::~LogWriter() {
  if (fd_ >= 0) {
    ::close(fd_);
  }
}

void LogWriter::rotate() {
  std::string old = path_ + ".1";
  if (::rename(path_.c_str(), old.c_str()) != 0) {
    return;
  }
  int fd = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0640);
  if (fd < 0) {
    return;  // keep appending to the renamed file rather than lose output
  }
  ::close(fd_);
  fd_ = fd;
  size_ = 0;
}

void LogWriter::append(runtime::OutputStream stream, llvm::StringRef line) {
  if (fd_ < 0) {
    return;
  }
  if (max_size_ > 0 && size_ >= max_size_) {
    rotate();
  }
  nlohmann::json entry = {{"log", line.str() + "\n"},
                          {"stream", stream == runtime::OutputStream::err ? "stderr" : "stdout"},
                          {"time", rfc3339_utc(now_ns(), 9)}};
  std::string text = entry.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
  fs::write_all(fd_, text);
  size_ += static_cast<int64_t>(text.size());
}

llvm::Error print_logs(llvm::StringRef path_ref, const LogReadOptions& options,
                       const std::function<bool()>& running) {
  std::string path = path_ref.str();
  Follower current;
  bool opened = current.open(path);
  if (options.from_offset) {
    if (opened) {
      ::lseek(current.fd, *options.from_offset, SEEK_SET);
    }
  } else {
    std::string old_text;
    if (auto text = fs::read_file(path + ".1")) {
      old_text = std::move(*text);
    } else {
      llvm::consumeError(text.takeError());
    }
    std::string text;
    char buf[64 * 1024];
    ssize_t n;
    while (opened && (n = ::read(current.fd, buf, sizeof(buf))) > 0) {
      text.append(buf, static_cast<size_t>(n));
    }
    size_t cut = text.rfind('\n');
    current.pending = cut == std::string::npos ? text : text.substr(cut + 1);
    text.resize(cut == std::string::npos ? 0 : cut + 1);
    std::vector<llvm::StringRef> lines = complete_lines(old_text);
    std::vector<llvm::StringRef> more = complete_lines(text);
    lines.insert(lines.end(), more.begin(), more.end());
    size_t first = options.tail && *options.tail < lines.size() ? lines.size() - *options.tail : 0;
    for (size_t i = first; i < lines.size(); ++i) {
      emit(lines[i], options.timestamps);
    }
  }
  if (options.follow) {
    follow(path, options, current, running);
  }
  return llvm::Error::success();
}

llvm::Error print_container_logs(llvm::StringRef root, llvm::StringRef name,
                                 const LogReadOptions& options) {
  auto found = ContainerStore::open_container(root, name);
  if (!found) {
    return found.takeError();
  }
  auto& [store, id] = *found;
  if (auto state = store.current_state(id); !state) {
    return state.takeError();
  }
  return print_logs(store.paths(id).log(), options, [&] { return store.has_runner(id); });
}

}  // namespace kiln::containers
