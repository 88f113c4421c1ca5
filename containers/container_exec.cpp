#include "containers/container_exec.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>

#include "runtime/container_control.h"
#include "runtime/user.h"
#include "support/error.h"

namespace kiln::containers {
namespace {

void redirect_to_null(std::initializer_list<int> fds) {
  int null_fd = ::open("/dev/null", O_RDWR | O_CLOEXEC);
  if (null_fd < 0) {
    return;
  }
  for (int fd : fds) {
    ::dup2(null_fd, fd);
  }
  ::close(null_fd);
}

}  // namespace

std::vector<std::string> exec_env(const std::vector<std::string>& flags) {
  std::vector<std::string> out;
  for (const std::string& e : flags) {
    if (e.find('=') != std::string::npos) {
      out.push_back(e);
    } else if (const char* value = std::getenv(e.c_str())) {
      out.push_back(e + "=" + value);
    }
  }
  return out;
}

llvm::Expected<std::vector<std::string>> exec_command(const ContainerStore& store,
                                                      const std::string& id,
                                                      const ExecOptions& options) {
  auto state = store.current_state(id);
  if (!state) {
    return state.takeError();
  }
  if (state->status != ContainerStatus::running || !store.has_runner(id)) {
    return make_error("container " + id + " is not running");
  }
  runtime::ExecRequest request;
  request.args = options.args;
  request.env = exec_env(options.env);
  request.cwd = options.workdir;
  request.tty = options.tty;
  if (!options.user.empty()) {
    auto user = runtime::resolve_user_in_rootfs(store.paths(id).rootfs(), options.user);
    if (!user) {
      return user.takeError();
    }
    request.user = *user;
  }
  auto control = runtime::ContainerControl::open(container_runtime(store.root()));
  if (!control) {
    return control.takeError();
  }
  std::vector<std::string> argv = control->exec_argv(id, request);
  if (options.detach) {
    argv.insert(std::find(argv.begin(), argv.end(), "exec") + 1, "--detach");
  }
  return argv;
}

llvm::Error exec_in_container(llvm::StringRef root, llvm::StringRef name,
                              const ExecOptions& options) {
  auto found = ContainerStore::open_container(root, name);
  if (!found) {
    return found.takeError();
  }
  auto argv = exec_command(found->store, found->id, options);
  if (!argv) {
    return argv.takeError();
  }
  if (options.detach) {
    redirect_to_null({0, 1, 2});  // runc exec --detach: it keeps no stdio of ours
  } else if (!options.interactive) {
    redirect_to_null({0});
  }
  std::vector<char*> args;
  for (auto& a : *argv) {
    args.push_back(a.data());
  }
  args.push_back(nullptr);
  ::execv(args[0], args.data());
  return make_io_error("run", argv->front(), errno);
}

}  // namespace kiln::containers
