// Git repositories made by a test and served as git's "dumb" HTTP protocol serves
// them: static files (after `git update-server-info`) from a loopback server.
#pragma once

#include <sys/stat.h>
#include <unistd.h>

#include <string>

#include <catch2/catch.hpp>

#include "tests/testutil/loopback_http.h"
#include "tests/testutil/testutil.h"

namespace kiln::testutil {

/// Serves the files under a directory on 127.0.0.1:<port()> (GET only; the query
/// is ignored, so git's smart-protocol probe gets the static info/refs and falls
/// back to the dumb protocol). With hang(), it accepts and never answers.
class StaticFileServer {
 public:
  explicit StaticFileServer(std::string dir)
      : dir_(std::move(dir)), http_([this](const HttpRequest& r) { return answer(r); }) {}

  std::string url() const { return http_.url(); }
  /// From now on, accepts connections and never answers them.
  void hang() { http_.hang(); }
  /// Requests seen so far.
  int requests() const { return http_.connections(); }

 private:
  std::string answer(const HttpRequest& r) const {
    std::string path = r.path.substr(0, r.path.find('?'));
    std::string file = dir_ + "/" + path;
    struct stat st {};
    if (path.find("..") == std::string::npos && ::stat(file.c_str(), &st) == 0 &&
        S_ISREG(st.st_mode)) {
      return LoopbackHttp::reply(200, read_file(file), {"Content-Type: application/octet-stream"});
    }
    return LoopbackHttp::reply(404, "");
  }

  std::string dir_;
  LoopbackHttp http_;  // last: its thread stops before dir_ goes
};

/// Runs `script` with sh -e in `dir` (created), git configured for a test
/// (no global or system config, a name and email); requires success.
inline std::string git_script(const std::string& dir, const std::string& script) {
  run({"mkdir", "-p", dir});
  Output o = run({"sh", "-ec", "cd '" + dir + "' && " + script}, "",
                 {"GIT_CONFIG_GLOBAL=/dev/null", "GIT_CONFIG_NOSYSTEM=1", "GIT_AUTHOR_NAME=test",
                  "GIT_AUTHOR_EMAIL=test@example.com", "GIT_COMMITTER_NAME=test",
                  "GIT_COMMITTER_EMAIL=test@example.com"});
  INFO(o.err);
  REQUIRE(o.exit_code == 0);
  return o.out;
}

/// The commit `rev` names in the repository at `dir`.
inline std::string git_rev(const std::string& dir, const std::string& rev) {
  std::string out = git_script(dir, "git rev-parse '" + rev + "'");
  return out.substr(0, out.find('\n'));
}

}  // namespace kiln::testutil
