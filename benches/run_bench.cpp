// run_bench: how fast containers start, as medians (as root).
//
//   executor   `true` through the OCI executor in this process (bundle, runc
//              create/start/delete): the floor under every `kiln run`
//   run --rm   `kiln run --rm --network none base true`, start to exit
//   run -d     `kiln run -d --network none base sleep 600` until it returns (the
//              container runs then)
//   exec       `kiln exec C true` into one of those, round trip
//
// With --docker IMAGE (an image the local docker has, e.g. busybox:local) and a
// reachable docker daemon, the same three CLI rows with docker and the ratios.
//
// Usage: run_bench [--runs N] [--kiln PATH] [--docker IMAGE]
//   --runs N   counted runs per row (default 20, after 2 warm-ups)
//   --kiln     the kiln binary (default: build/cli/kiln beside this bench)
#include <fcntl.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include "runtime/executor.h"
#include "support/atomic_file.h"
#include "support/error.h"
#include "support/fs.h"

extern char** environ;

namespace {

constexpr int kWarmups = 2;

int fail(llvm::Error err) {
  std::fprintf(stderr, "run_bench: error: %s\n", kiln::error_message(std::move(err)).c_str());
  return 1;
}

// Runs `argv`, stdout captured (trailing newline dropped), stderr passed on.
// Returns the exit code, or -1 when it could not start.
int run(const std::vector<std::string>& argv, std::string* out = nullptr) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) {
    return -1;
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, fds[1], 1);
  std::vector<char*> args;
  for (const auto& a : argv) {
    args.push_back(const_cast<char*>(a.c_str()));
  }
  args.push_back(nullptr);
  pid_t pid = 0;
  int rc = posix_spawnp(&pid, args[0], &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  ::close(fds[1]);
  std::string text;
  char buf[4096];
  ssize_t n;
  while (rc == 0 && (n = ::read(fds[0], buf, sizeof(buf))) > 0) {
    text.append(buf, static_cast<size_t>(n));
  }
  ::close(fds[0]);
  if (rc != 0) {
    return -1;
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  while (!text.empty() && text.back() == '\n') {
    text.pop_back();
  }
  if (out) {
    *out = text;
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

double now_ms() {
  return std::chrono::duration<double, std::milli>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

struct Row {
  std::string name;
  std::vector<double> ms;
  double median() const {
    std::vector<double> sorted = ms;
    std::sort(sorted.begin(), sorted.end());
    return sorted.empty() ? 0 : sorted[sorted.size() / 2];
  }
};

void print(const Row& row) {
  if (row.ms.empty()) {
    return;
  }
  auto [lo, hi] = std::minmax_element(row.ms.begin(), row.ms.end());
  std::printf("run_bench: %-32s median %7.1f ms  (min %.1f, max %.1f, n=%zu)\n", row.name.c_str(),
              row.median(), *lo, *hi, row.ms.size());
  std::fflush(stdout);
}

// Times `once` kWarmups + `runs` times; `once` returns false on failure.
bool measure(Row& row, int runs, const std::function<bool()>& once) {
  for (int i = 0; i < kWarmups + runs; ++i) {
    double start = now_ms();
    if (!once()) {
      std::fprintf(stderr, "run_bench: %s failed\n", row.name.c_str());
      return false;
    }
    if (i >= kWarmups) {
      row.ms.push_back(now_ms() - start);
    }
  }
  print(row);
  return true;
}

llvm::Error make_rootfs(const std::string& rootfs) {
  for (const char* sub : {"", "/bin", "/etc", "/tmp"}) {
    if (::mkdir((rootfs + sub).c_str(), 0755) != 0) {
      return kiln::make_io_error("create directory", rootfs + sub, errno);
    }
  }
  auto busybox = kiln::fs::read_file("/bin/busybox");
  if (!busybox) {
    return busybox.takeError();
  }
  if (auto err = kiln::write_file_atomic(rootfs + "/bin/busybox", *busybox, 0755)) {
    return err;
  }
  for (const char* applet : {"sh", "true", "sleep"}) {
    std::string link = rootfs + "/bin/" + applet;
    if (::symlink("busybox", link.c_str()) != 0) {
      return kiln::make_io_error("create symlink", link, errno);
    }
  }
  return kiln::write_file_atomic(rootfs + "/etc/passwd", "root:x:0:0:root:/root:/bin/sh\n");
}

Row executor_row(const std::string& dir, const std::string& rootfs, int runs) {
  Row row{"executor (in process) true", {}};
  auto kind = kiln::runtime::parse_runtime_kind(
      std::getenv("KILN_OCI_RUNTIME") ? std::getenv("KILN_OCI_RUNTIME") : "");
  auto executor =
      kind ? kiln::runtime::make_oci_executor({*kind, kiln::fs::join(dir, "state"), "", ""})
           : llvm::Expected<std::unique_ptr<kiln::runtime::Executor>>(kind.takeError());
  if (!executor) {
    fail(executor.takeError());
    return row;
  }
  measure(row, runs, [&] {
    kiln::runtime::RunRequest request;
    request.rootfs = rootfs;
    request.process.args = {"true"};
    request.process.network = kiln::runtime::NetworkMode::none;
    auto status = (*executor)->run(request, nullptr);
    if (!status) {
      fail(status.takeError());
      return false;
    }
    return status->code() == 0;
  });
  return row;
}

// The CLI rows for a docker-like tool: `tool` is argv before the verb.
std::vector<Row> cli_rows(const std::string& label, const std::vector<std::string>& tool,
                          const std::string& image, int runs) {
  auto cmd = [&](std::vector<std::string> args) {
    std::vector<std::string> argv = tool;
    argv.insert(argv.end(), args.begin(), args.end());
    return argv;
  };
  std::vector<Row> rows(3);
  rows[0].name = label + " run --rm true";
  if (!measure(rows[0], runs, [&] {
        return run(cmd({"run", "--rm", "--network", "none", image, "true"})) == 0;
      })) {
    return rows;
  }
  std::vector<std::string> ids;
  rows[1].name = label + " run -d (to running)";
  measure(rows[1], runs, [&] {
    std::string id;
    bool ok = run(cmd({"run", "-d", "--network", "none", image, "sleep", "600"}), &id) == 0;
    ids.push_back(id);
    return ok && !id.empty();
  });
  rows[2].name = label + " exec true";
  if (!ids.empty() && !ids.back().empty()) {
    measure(rows[2], runs, [&] { return run(cmd({"exec", ids.back(), "true"})) == 0; });
  }
  std::vector<std::string> rm = cmd({"rm", "-f"});
  rm.insert(rm.end(), ids.begin(), ids.end());
  std::string ignored;
  run(rm, &ignored);
  return rows;
}

std::string default_kiln() {
  char buf[4096];
  ssize_t n = ::readlink("/proc/self/exe", buf, sizeof(buf) - 1);
  std::string self = n > 0 ? std::string(buf, static_cast<size_t>(n)) : "";
  std::string build = self.substr(0, self.rfind('/'));  // build/benches
  return build.substr(0, build.rfind('/')) + "/cli/kiln";
}

}  // namespace

int main(int argc, char** argv) {
  int runs = 20;
  std::string kiln = default_kiln();
  std::string docker_image;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--runs" && i + 1 < argc) {
      runs = std::atoi(argv[++i]);
    } else if (arg == "--kiln" && i + 1 < argc) {
      kiln = argv[++i];
    } else if (arg == "--docker" && i + 1 < argc) {
      docker_image = argv[++i];
    } else if (std::isdigit(static_cast<unsigned char>(arg[0]))) {
      runs = std::atoi(arg.c_str());  // the old `run_bench N`
    } else {
      std::fprintf(stderr, "usage: run_bench [--runs N] [--kiln PATH] [--docker IMAGE]\n");
      return 2;
    }
  }
  auto dir = kiln::fs::make_temp_dir("/var/tmp", "kiln-run-bench-");
  if (!dir) {
    return fail(dir.takeError());
  }
  std::string rootfs = kiln::fs::join(*dir, "rootfs");
  if (auto err = make_rootfs(rootfs)) {
    return fail(std::move(err));
  }
  Row executor = executor_row(*dir, rootfs, runs);
  std::string root = kiln::fs::join(*dir, "root");
  std::string tar = kiln::fs::join(*dir, "base.tar");
  std::vector<Row> kiln_rows;
  if (run({"tar", "-C", rootfs, "-cf", tar, "."}) != 0 ||
      run({kiln, "--root", root, "import", tar, "base:1"}) != 0) {
    std::fprintf(stderr, "run_bench: could not import the base image with %s\n", kiln.c_str());
  } else {
    kiln_rows = cli_rows("kiln", {kiln, "--root", root}, "base:1", runs);
  }
  if (!docker_image.empty()) {
    if (run({"docker", "image", "inspect", docker_image}) != 0) {
      std::fprintf(stderr, "run_bench: docker has no image %s; skipping docker\n",
                   docker_image.c_str());
    } else {
      std::vector<Row> docker_rows = cli_rows("docker", {"docker"}, docker_image, runs);
      for (size_t i = 0; i < docker_rows.size() && i < kiln_rows.size(); ++i) {
        if (!docker_rows[i].ms.empty() && !kiln_rows[i].ms.empty()) {
          std::printf("run_bench: %-32s kiln/docker = %.2f\n", kiln_rows[i].name.c_str(),
                      kiln_rows[i].median() / docker_rows[i].median());
        }
      }
    }
  }
  llvm::consumeError(kiln::fs::remove_all(*dir));
  return executor.ms.empty() || kiln_rows.empty() ? 1 : 0;
}
