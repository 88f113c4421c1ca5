// run_bench: start-to-exit time of `true` in a busybox rootfs through the OCI
// executor (runc by default, KILN_OCI_RUNTIME=crun), median of N runs (default 20).
// Usage: run_bench [N]   (as root)
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "runtime/executor.h"
#include "support/atomic_file.h"
#include "support/error.h"
#include "support/fs.h"

namespace {

int fail(llvm::Error err) {
  std::fprintf(stderr, "error: %s\n", kiln::error_message(std::move(err)).c_str());
  return 1;
}

llvm::Error make_rootfs(const std::string& rootfs) {
  for (const char* sub : {"", "/bin", "/etc"}) {
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
  if (::symlink("busybox", (rootfs + "/bin/true").c_str()) != 0) {
    return kiln::make_io_error("create symlink", rootfs + "/bin/true", errno);
  }
  return kiln::write_file_atomic(rootfs + "/etc/passwd", "root:x:0:0:root:/root:/bin/sh\n");
}

}  // namespace

int main(int argc, char** argv) {
  int runs = argc > 1 ? std::atoi(argv[1]) : 20;
  auto dir = kiln::fs::make_temp_dir("/tmp", "kiln-run-bench-");
  if (!dir) {
    return fail(dir.takeError());
  }
  std::string rootfs = kiln::fs::join(*dir, "rootfs");
  auto kind = kiln::runtime::parse_runtime_kind(
      std::getenv("KILN_OCI_RUNTIME") ? std::getenv("KILN_OCI_RUNTIME") : "");
  if (!kind) {
    return fail(kind.takeError());
  }
  if (auto err = make_rootfs(rootfs)) {
    return fail(std::move(err));
  }
  auto executor = kiln::runtime::make_oci_executor({*kind, kiln::fs::join(*dir, "state"), "", ""});
  if (!executor) {
    return fail(executor.takeError());
  }
  std::vector<double> ms;
  for (int i = 0; i < runs; ++i) {
    kiln::runtime::RunRequest request;
    request.rootfs = rootfs;
    request.process.args = {"true"};
    auto start = std::chrono::steady_clock::now();
    auto status = (*executor)->run(request, nullptr);
    auto end = std::chrono::steady_clock::now();
    if (!status) {
      return fail(status.takeError());
    }
    if (status->code() != 0) {
      std::fprintf(stderr, "error: true exited with %d\n", status->code());
      return 1;
    }
    ms.push_back(std::chrono::duration<double, std::milli>(end - start).count());
  }
  llvm::consumeError(kiln::fs::remove_all(*dir));
  std::sort(ms.begin(), ms.end());
  std::printf(
      "run_bench: %s, `true` start to exit, %d runs: median %.1f ms, min %.1f ms, "
      "max %.1f ms\n",
      (*executor)->name().str().c_str(), runs, ms[ms.size() / 2], ms.front(), ms.back());
  return 0;
}
