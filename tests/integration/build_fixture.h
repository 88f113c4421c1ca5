// Helpers for `kiln build` integration tests: a store with the busybox base
// imported, a context directory, and a loopback HTTP server that counts and
// timestamps the requests RUN steps make (`wget http://127.0.0.1:PORT/name`), so
// a test can tell which steps really ran and when.
#pragma once

#include <unistd.h>

#include <chrono>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "tests/testutil/loopback_http.h"
#include "tests/testutil/testutil.h"

namespace kiln::testutil {

/// Counts GET requests by path on 127.0.0.1:<port()>, with the time of each.
class StepCounter {
 public:
  StepCounter() : http_([this](const HttpRequest& r) { return answer(r); }) {}

  int port() const { return http_.port(); }
  /// A shell command for a RUN step that records `name`.
  std::string hit(const std::string& name) const {
    return "wget -q -O /dev/null http://127.0.0.1:" + std::to_string(port()) + "/" + name;
  }
  int count(const std::string& name) {
    std::lock_guard lock(mu_);
    return static_cast<int>(times_[name].size());
  }
  /// Answers GET `name` with `status`, `headers` (lines "Name: value") and `body`
  /// from now on (else "200 OK" and "ok").
  void respond(const std::string& name, const std::string& body,
               const std::vector<std::string>& headers = {}, int status = 200) {
    std::lock_guard lock(mu_);
    replies_[name] = LoopbackHttp::reply(status, body, headers);
  }
  /// The request line and headers of the last request for `name` ("" when none).
  std::string last_request(const std::string& name) {
    std::lock_guard lock(mu_);
    return requests_[name];
  }
  /// Times of the requests for `name`, oldest first.
  std::vector<std::chrono::steady_clock::time_point> times(const std::string& name) {
    std::lock_guard lock(mu_);
    return times_[name];
  }

 private:
  std::string answer(const HttpRequest& r) {
    std::lock_guard lock(mu_);
    times_[r.path].push_back(std::chrono::steady_clock::now());
    requests_[r.path] = r.head;
    auto it = replies_.find(r.path);
    return it != replies_.end() ? it->second : LoopbackHttp::reply(200, "ok");
  }

  std::mutex mu_;
  std::map<std::string, std::vector<std::chrono::steady_clock::time_point>> times_;
  std::map<std::string, std::string> replies_;
  std::map<std::string, std::string> requests_;
  LoopbackHttp http_;  // last: its thread stops before the maps go
};

/// A temp dir holding a store (root/) with busybox:local imported and a build
/// context (ctx/).
class BuildFixture {
 public:
  BuildFixture() {
    make_busybox_rootfs(dir_ / "bb");
    tar_directory(dir_ / "bb", dir_ / "bb.tar");
    Output o = kiln(root(), {"import", dir_ / "bb.tar", "busybox:local"});
    INFO(o.err);
    REQUIRE(o.exit_code == 0);
  }
  std::string root() const { return dir_ / "root"; }
  std::string ctx() const { return dir_ / "ctx"; }
  std::string path(const std::string& rel) const { return dir_ / rel; }
  /// Writes CONTEXT/rel.
  void file(const std::string& rel, const std::string& text) const {
    write_file(ctx() + "/" + rel, text);
  }
  /// `kiln build --progress=plain ARGS... CONTEXT` in this store.
  Output build(std::vector<std::string> args, const std::vector<std::string>& env = {}) const {
    std::vector<std::string> argv = {KILN_BINARY, "--root", root(), "build", "--progress=plain"};
    argv.insert(argv.end(), args.begin(), args.end());
    argv.push_back(ctx());
    return run(argv, "", env);
  }
  /// Like build() but requires success.
  Output build_ok(std::vector<std::string> args, const std::vector<std::string>& env = {}) const {
    Output o = build(std::move(args), env);
    INFO(o.err);
    REQUIRE(o.exit_code == 0);
    return o;
  }

 private:
  TempDir dir_{"kiln-build-test-"};
};

/// `kiln build -o type=local,dest=OUT ARGS...` in `f`, required to succeed.
inline void build_to(const BuildFixture& f, const std::string& out,
                     std::vector<std::string> args = {}) {
  args.insert(args.begin(), {"-o", "type=local,dest=" + f.path(out)});
  f.build_ok(args);
}

/// A file of a rootfs written by build_to() into OUT.
inline std::string out_file(const BuildFixture& f, const std::string& out, const std::string& rel) {
  return read_file(f.path(out) + "/" + rel);
}

/// `kiln inspect REF` in `f`'s store, required to succeed: the image's object.
inline nlohmann::json inspect(const BuildFixture& f, const std::string& ref) {
  Output o = kiln(f.root(), {"inspect", ref});
  INFO(o.err);
  REQUIRE(o.exit_code == 0);
  auto j = nlohmann::json::parse(o.out);
  return j.is_array() ? j[0] : j;
}

}  // namespace kiln::testutil
