#include "network/outbound.h"

#include <fcntl.h>
#include <sched.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <string>
#include <vector>

#include "support/error.h"
#include "support/fs.h"

namespace kiln::network {
namespace {

const char* pasta_binary() {
  static const char* const kCandidates[] = {"/usr/bin/pasta", "/usr/local/bin/pasta", "/bin/pasta"};
  for (const char* path : kCandidates) {
    if (::access(path, X_OK) == 0) {
      return path;
    }
  }
  return nullptr;
}

// Writes 1 to /proc/sys/net/ipv4/ip_forward in the namespace `ns_fd` (the
// file is per namespace, chosen by the opener's).
llvm::Error enable_forwarding(llvm::StringRef netns) {
  std::string ns = netns.str();
  int nsfd = ::open(ns.c_str(), O_RDONLY | O_CLOEXEC);
  if (nsfd < 0) {
    return make_io_error("open network namespace", netns, errno);
  }
  pid_t pid = ::fork();
  if (pid == 0) {
    if (::setns(nsfd, CLONE_NEWNET) != 0) {
      ::_exit(1);
    }
    // Bridged frames need no netfilter here (the setting is per namespace);
    // best effort, it is missing without br_netfilter.
    for (const char* name : {"/proc/sys/net/bridge/bridge-nf-call-iptables",
                             "/proc/sys/net/bridge/bridge-nf-call-ip6tables",
                             "/proc/sys/net/bridge/bridge-nf-call-arptables"}) {
      int nf = ::open(name, O_WRONLY | O_CLOEXEC);
      if (nf >= 0) {
        ssize_t ignored = ::write(nf, "0", 1);
        (void)ignored;
        ::close(nf);
      }
    }
    int fd = ::open("/proc/sys/net/ipv4/ip_forward", O_WRONLY | O_CLOEXEC);
    ::_exit(fd >= 0 && ::write(fd, "1", 1) == 1 ? 0 : 2);
  }
  ::close(nsfd);
  if (pid < 0) {
    return make_io_error("fork to configure", netns, errno);
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    return make_error("turn on forwarding in network namespace " + quote(netns));
  }
  return llvm::Error::success();
}

}  // namespace

llvm::Error start_outbound(llvm::StringRef netns, llvm::StringRef pid_file) {
  const char* pasta = pasta_binary();
  if (!pasta) {
    return llvm::Error::success();
  }
  if (auto err = enable_forwarding(netns)) {
    return err;
  }
  std::string ns = netns.str();
  std::string pid_path = pid_file.str();
  // No inbound forwarding (-t/-u none), no way to the host's loopback
  // (-T/-U none, --no-map-gw): only connections out, as from the host.
  std::vector<std::string> args = {
      pasta,  "--config-net", "--quiet", "--no-map-gw", "--runas", "0:0", "-t",     "none",    "-u",
      "none", "-T",           "none",    "-U",          "none",    "-P",  pid_path, "--netns", ns};
  std::vector<char*> argv;
  for (auto& a : args) {
    argv.push_back(a.data());
  }
  argv.push_back(nullptr);
  pid_t pid = ::fork();
  if (pid == 0) {
    // Default dispositions and mask: pasta treats an ignored SIGPIPE as an
    // error ("Couldn't install signal handlers"), and monitors ignore it.
    for (int sig = 1; sig < NSIG; ++sig) {
      ::signal(sig, SIG_DFL);
    }
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    ::setsid();
    int null = ::open("/dev/null", O_RDWR);
    ::dup2(null, 0);
    ::dup2(null, 1);
    ::dup2(null, 2);
    // Nothing of ours (locks above all) may live on in the daemon.
    ::syscall(SYS_close_range, 3, ~0U, 0);
    ::execv(pasta, argv.data());
    ::_exit(127);
  }
  if (pid < 0) {
    return make_io_error("start pasta for", netns, errno);
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    return make_error("pasta failed to start for network namespace " + quote(netns) +
                      " (exit status " +
                      std::to_string(WIFEXITED(status) ? WEXITSTATUS(status) : 128) + ")");
  }
  return llvm::Error::success();
}

void stop_outbound(llvm::StringRef netns, llvm::StringRef pid_file) {
  auto text = fs::read_file(pid_file);
  if (!text) {
    llvm::consumeError(text.takeError());
    return;
  }
  int pid = 0;
  if (!llvm::StringRef(*text).trim().getAsInteger(10, pid) && pid > 1) {
    // The pid is ours only while its command line still names this namespace.
    auto cmdline = fs::read_file("/proc/" + std::to_string(pid) + "/cmdline");
    if (cmdline && llvm::StringRef(*cmdline).contains("pasta") &&
        llvm::StringRef(*cmdline).contains(netns)) {
      ::kill(pid, SIGTERM);
    }
    if (!cmdline) {
      llvm::consumeError(cmdline.takeError());
    }
  }
  ::unlink(pid_file.str().c_str());
}

}  // namespace kiln::network
