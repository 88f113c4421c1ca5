// Helpers for integration tests: temp dirs that clean up, a busybox rootfs from
// Debian's busybox-static, and running the real kiln binary.
#pragma once

#include <string>
#include <vector>

namespace kiln::testutil {

/// A temp directory under /tmp removed (recursively) by the destructor.
class TempDir {
 public:
  explicit TempDir(const std::string& prefix = "kiln-test-");
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  std::string operator/(const std::string& rel) const { return path_ + "/" + rel; }

 private:
  std::string path_;
};

/// Writes a busybox rootfs into `dir`: bin/busybox (Debian's /bin/busybox), a symlink
/// per applet, etc/passwd and etc/group with root and an `app` user (1001:1002).
void make_busybox_rootfs(const std::string& dir);

/// Writes a tar of `dir` (sorted, numeric owners, mtime 0) to `tar_path`.
void tar_directory(const std::string& dir, const std::string& tar_path);

struct Output {
  int exit_code = -1;
  std::string out;
  std::string err;
};

/// Runs `argv` (argv[0] looked up in PATH), feeding `input` on stdin; waits.
Output run(const std::vector<std::string>& argv, const std::string& input = {},
           const std::vector<std::string>& extra_env = {});

/// Runs the built kiln with `--root root` and `args`.
Output kiln(const std::string& root, const std::vector<std::string>& args,
            const std::string& input = {});

/// Writes `text` to `path`, creating parent directories.
void write_file(const std::string& path, const std::string& text);
/// Reads a whole file; empty when missing.
std::string read_file(const std::string& path);

}  // namespace kiln::testutil
