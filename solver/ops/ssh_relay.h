// Internal to solver/ops: RUN --mount=type=ssh. A socket of kiln's own, owned and
// moded as the mount asks, that relays each connection to the user's ssh-agent
// (`kiln build --ssh ID=SOCKET`), as BuildKit's session forwards the agent.
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <llvm/Support/Error.h>

namespace kiln::solver::ops::detail {

/// A listening unix socket at `path` whose connections are relayed, byte for byte,
/// to the agent socket `agent`: one upstream connection per accepted one, both
/// closed as soon as either side closes, so the agent sees each client come and
/// go. Every descriptor is close-on-exec (none reaches the RUN's process). The
/// destructor stops accepting, closes every connection and removes the socket.
/// Thread-safe.
class SshRelay {
 public:
  /// Creates the socket at `path` (in an existing directory; the path may be
  /// longer than a sockaddr holds), owned by `uid`:`gid` with `mode`, and starts
  /// relaying to `agent`.
  static llvm::Expected<std::unique_ptr<SshRelay>> start(const std::string& path,
                                                         const std::string& agent, uint32_t uid,
                                                         uint32_t gid, uint32_t mode);
  ~SshRelay();
  SshRelay(const SshRelay&) = delete;
  SshRelay& operator=(const SshRelay&) = delete;

 private:
  SshRelay(std::string path, std::string agent, int listen_fd, int wake_read, int wake_write);
  void accept_loop();
  void pump(int client, int upstream);

  std::string path_;
  std::string agent_;
  int listen_fd_;
  int wake_read_;   ///< readable once the relay stops
  int wake_write_;  ///< closed by the destructor
  std::thread acceptor_;
  std::mutex mu_;
  std::vector<std::thread> pumps_;
};

}  // namespace kiln::solver::ops::detail
