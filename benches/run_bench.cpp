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
// reachable docker daemon, the same three CLI rows with docker, run interleaved
// with kiln's (kiln, docker, kiln, ...) so that both see the same load, and the
// ratios of the medians.
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

// A docker-like command line: argv before the verb, and the image to run.
struct Tool {
  std::string label;
  std::vector<std::string> argv;
  std::string image;
  std::vector<std::string> cmd(std::vector<std::string> args) const {
    std::vector<std::string> out = argv;
    out.insert(out.end(), args.begin(), args.end());
    return out;
  }
};

// Times `once(tool)` for every tool in turn, kWarmups + `runs` rounds, so that
// the tools see the same machine load; one row per tool.
std::vector<Row> measure_interleaved(const std::vector<Tool>& tools, const std::string& what,
                                     int runs,
                                     const std::function<bool(const Tool&, size_t)>& once) {
  std::vector<Row> rows;
  for (const Tool& t : tools) {
    rows.push_back({t.label + " " + what, {}});
  }
  for (int i = 0; i < kWarmups + runs; ++i) {
    for (size_t t = 0; t < tools.size(); ++t) {
      double start = now_ms();
      if (!once(tools[t], t)) {
        std::fprintf(stderr, "run_bench: %s failed\n", rows[t].name.c_str());
        return {};
      }
      if (i >= kWarmups) {
        rows[t].ms.push_back(now_ms() - start);
      }
    }
  }
  for (const Row& row : rows) {
    print(row);
  }
  if (rows.size() == 2) {
    std::printf("run_bench: %-32s %s/%s = %.2f\n", what.c_str(), tools[0].label.c_str(),
                tools[1].label.c_str(), rows[0].median() / rows[1].median());
  }
  return rows;
}

// run --rm, run -d and exec rows for each tool; false when a row failed.
bool cli_rows(const std::vector<Tool>& tools, int runs) {
  if (measure_interleaved(tools, "run --rm true", runs, [](const Tool& t, size_t) {
        return run(t.cmd({"run", "--rm", "--network", "none", t.image, "true"})) == 0;
      }).empty()) {
    return false;
  }
  std::vector<std::vector<std::string>> ids(tools.size());
  auto started =
      measure_interleaved(tools, "run -d (to running)", runs, [&](const Tool& t, size_t index) {
        std::string id;
        bool ok = run(t.cmd({"run", "-d", "--network", "none", t.image, "sleep", "600"}), &id) == 0;
        ids[index].push_back(id);
        return ok && !id.empty();
      });
  bool ok = !started.empty() &&
            !measure_interleaved(tools, "exec true", runs, [&](const Tool& t, size_t index) {
               return run(t.cmd({"exec", ids[index].back(), "true"})) == 0;
             }).empty();
  for (size_t t = 0; t < tools.size(); ++t) {
    std::vector<std::string> rm = tools[t].cmd({"rm", "-f"});
    rm.insert(rm.end(), ids[t].begin(), ids[t].end());
    std::string ignored;
    run(rm, &ignored);
  }
  return ok;
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
  std::vector<Tool> tools;
  if (run({"tar", "-C", rootfs, "-cf", tar, "."}) != 0 ||
      run({kiln, "--root", root, "import", tar, "base:1"}) != 0) {
    std::fprintf(stderr, "run_bench: could not import the base image with %s\n", kiln.c_str());
  } else {
    tools.push_back({"kiln", {kiln, "--root", root}, "base:1"});
  }
  if (!docker_image.empty()) {
    if (run({"docker", "image", "inspect", docker_image}) != 0) {
      std::fprintf(stderr, "run_bench: docker has no image %s; skipping docker\n",
                   docker_image.c_str());
    } else {
      tools.push_back({"docker", {"docker"}, docker_image});
    }
  }
  bool ok = !tools.empty() && cli_rows(tools, runs);
  llvm::consumeError(kiln::fs::remove_all(*dir));
  return executor.ms.empty() || !ok ? 1 : 0;
}
