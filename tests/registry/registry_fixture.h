// Test helpers for registry tests: temp dirs, a real `docker-registry` on a free
// loopback port (plain, TLS, htpasswd or token auth), helper processes started and
// stopped by PID, and small test images made in memory.
#pragma once

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include <csignal>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "oci/media_types.h"
#include "oci/types.h"
#include "registry/blob_store.h"
#include "support/digest.h"
#include "support/error.h"
#include "support/fs.h"

namespace kiln::testing {

/// A temp directory removed (recursively) by the destructor.
struct TempDir {
  std::string path;
  TempDir() {
    llvm::Expected<std::string> dir = fs::make_temp_dir("/tmp", "kiln-registry-test-");
    REQUIRE(static_cast<bool>(dir));
    path = *dir;
  }
  ~TempDir() { llvm::consumeError(fs::remove_all(path)); }
  std::string operator/(const std::string& name) const { return fs::join(path, name); }
};

inline void write_text(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
}

inline std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

/// Runs `command` with /bin/sh; returns its exit code and (when `out`) its stdout.
inline int run_command(const std::string& command, std::string* out = nullptr) {
  FILE* pipe = popen(command.c_str(), "r");
  REQUIRE(pipe != nullptr);
  std::string text;
  char buffer[65536];
  for (size_t n; (n = fread(buffer, 1, sizeof(buffer), pipe)) > 0;) {
    text.append(buffer, n);
  }
  int status = pclose(pipe);
  if (out) {
    *out = std::move(text);
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/// A free TCP port on 127.0.0.1 (bound then released).
inline int free_port() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0);
  socklen_t len = sizeof(addr);
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  close(fd);
  return ntohs(addr.sin_port);
}

/// True once something accepts connections on 127.0.0.1:`port` (waits up to 10 s).
inline bool wait_for_port(int port) {
  for (int i = 0; i < 200; ++i) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(port);
    bool ok = connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
    close(fd);
    if (ok) {
      return true;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return false;
}

/// A child process started with `argv`, output to `log`, stopped (SIGTERM, then
/// SIGKILL) and reaped by PID in the destructor.
class ChildProcess {
 public:
  ChildProcess(const std::vector<std::string>& argv, const std::string& log) {
    pid_ = fork();
    REQUIRE(pid_ >= 0);
    if (pid_ == 0) {
      int fd = open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      dup2(fd, 1);
      dup2(fd, 2);
      std::vector<char*> args;
      for (const std::string& a : argv) {
        args.push_back(const_cast<char*>(a.c_str()));
      }
      args.push_back(nullptr);
      execvp(args[0], args.data());
      _exit(127);
    }
  }
  ~ChildProcess() {
    kill(pid_, SIGTERM);
    for (int i = 0; i < 100; ++i) {
      if (waitpid(pid_, nullptr, WNOHANG) == pid_) {
        return;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
  }
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;
  pid_t pid() const { return pid_; }

 private:
  pid_t pid_ = -1;
};

/// How a LocalRegistry authenticates and listens.
struct RegistryConfig {
  /// PEM certificate and key: serve HTTPS.
  std::string tls_cert, tls_key;
  /// An htpasswd file (bcrypt): basic auth.
  std::string htpasswd;
  /// Token auth: realm URL, service, issuer and the signing certificate bundle.
  std::string token_realm, token_service, token_issuer, token_certs;
};

/// Debian's `docker-registry` on 127.0.0.1:<free port> with storage in a temp dir.
class LocalRegistry {
 public:
  explicit LocalRegistry(const RegistryConfig& config = {}) : port_(free_port()) {
    std::string yaml =
        "version: 0.1\nlog:\n  level: error\n  accesslog:\n    disabled: true\n"
        "storage:\n  filesystem:\n    rootdirectory: " +
        dir_ / "storage" + "\n  delete:\n    enabled: true\n" +
        "http:\n  addr: 127.0.0.1:" + std::to_string(port_) + "\n";
    if (!config.tls_cert.empty()) {
      yaml += "  tls:\n    certificate: " + config.tls_cert + "\n    key: " + config.tls_key + "\n";
    }
    if (!config.htpasswd.empty()) {
      yaml += "auth:\n  htpasswd:\n    realm: kiln-test\n    path: " + config.htpasswd + "\n";
    } else if (!config.token_realm.empty()) {
      yaml += "auth:\n  token:\n    realm: " + config.token_realm +
              "\n    service: " + config.token_service + "\n    issuer: " + config.token_issuer +
              "\n    rootcertbundle: " + config.token_certs + "\n";
    }
    write_text(dir_ / "config.yml", yaml);
    process_ = std::make_unique<ChildProcess>(
        std::vector<std::string>{"docker-registry", "serve", dir_ / "config.yml"},
        dir_ / "registry.log");
    REQUIRE(wait_for_port(port_));
  }
  int port() const { return port_; }
  /// "127.0.0.1:PORT".
  std::string domain() const { return "127.0.0.1:" + std::to_string(port_); }
  std::string log() const { return read_text(dir_ / "registry.log"); }

 private:
  TempDir dir_;
  int port_;
  std::unique_ptr<ChildProcess> process_;
};

/// Deterministic pseudo-random bytes.
inline std::string random_bytes(size_t size, uint32_t seed) {
  std::mt19937 gen(seed);
  std::string out(size, '\0');
  for (char& c : out) {
    c = static_cast<char>(gen() & 0xff);
  }
  return out;
}

/// An image made in memory: `layer_count` gzip tar layers with one file of
/// `layer_size` random bytes each, an OCI config and an OCI manifest.
struct TestImage {
  registry::MemoryBlobStore store;
  Digest manifest;
  Digest config;
  std::vector<oci::Descriptor> layers;
  std::string manifest_bytes;
};

/// Builds a TestImage with `tar` and `gzip -n` (real layer tarballs).
inline void make_test_image(TestImage& image, int layer_count, size_t layer_size, uint32_t seed) {
  TempDir work;
  std::string diff_ids;
  for (int i = 0; i < layer_count; ++i) {
    std::string dir = work / ("layer" + std::to_string(i));
    REQUIRE(!fs::make_dirs(dir));
    write_text(fs::join(dir, "file" + std::to_string(i)), random_bytes(layer_size, seed + i));
    std::string tar, gz;
    REQUIRE(run_command("tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -C " + dir +
                            " -cf " + dir + ".tar .",
                        nullptr) == 0);
    tar = read_text(dir + ".tar");
    REQUIRE(run_command("gzip -n -c " + dir + ".tar", &gz) == 0);
    image.store.put(gz);
    image.layers.push_back(oci::describe(oci::media_type::kOciLayerGzip, gz));
    diff_ids += std::string(i ? "," : "") + "\"" + Digest::of(tar).str() + "\"";
  }
  std::string config = R"({"architecture":"amd64","os":"linux","config":{"Cmd":["/file0"]},)"
                       R"("rootfs":{"type":"layers","diff_ids":[)" +
                       diff_ids + "]}}";
  image.config = image.store.put(config);
  oci::Manifest manifest;
  manifest.media_type = oci::media_type::kOciManifest.str();
  manifest.config = oci::describe(oci::media_type::kOciConfig, config);
  manifest.layers = image.layers;
  image.manifest_bytes = oci::to_json(manifest);
  image.manifest = image.store.put(image.manifest_bytes);
}

/// Writes every blob of `store` and an index.json naming `manifest` as `tag` into
/// an OCI image layout at `dir` (for skopeo's oci: transport).
inline void write_oci_layout(const std::string& dir, const registry::MemoryBlobStore& store,
                             const Digest& manifest, const std::string& tag) {
  REQUIRE(!fs::make_dirs(fs::join(dir, "blobs/sha256")));
  for (const auto& [digest, bytes] : store.blobs()) {
    write_text(fs::join(dir, "blobs/sha256/" + digest.hex()), bytes);
  }
  write_text(fs::join(dir, "oci-layout"), R"({"imageLayoutVersion":"1.0.0"})");
  oci::Index index;
  oci::Descriptor entry = oci::describe(oci::media_type::kOciManifest, *store.read(manifest));
  entry.annotations[oci::annotation::kRefName.str()] = tag;
  index.manifests.push_back(entry);
  write_text(fs::join(dir, "index.json"), oci::to_json(index));
}

/// tests/registry/fault_proxy.py in front of `registry`, with a plan file the test rewrites.
class FaultProxy {
 public:
  explicit FaultProxy(const LocalRegistry& registry) : port_(kiln::testing::free_port()) {
    plan(nlohmann::json::array());
    process_ = std::make_unique<ChildProcess>(
        std::vector<std::string>{"/usr/bin/python3",
                                 KILN_SOURCE_DIR "/tests/registry/fault_proxy.py",
                                 std::to_string(port_), std::to_string(registry.port()),
                                 dir_ / "plan.json", dir_ / "counts.json"},
        dir_ / "proxy.log");
    REQUIRE(kiln::testing::wait_for_port(port_));
  }
  std::string domain() const { return "127.0.0.1:" + std::to_string(port_); }
  /// Replaces the fault rules.
  void plan(const nlohmann::json& rules) {
    std::string path = dir_ / "plan.json";
    kiln::testing::write_text(path + ".tmp", nlohmann::json{{"rules", rules}}.dump());
    std::rename((path + ".tmp").c_str(), path.c_str());
  }
  /// Requests seen so far, by "METHOD kind".
  int count(const std::string& key) const {
    std::string text = kiln::testing::read_text(dir_ / "counts.json");
    if (text.empty()) {
      return 0;
    }
    return nlohmann::json::parse(text).value(key, 0);
  }

 private:
  TempDir dir_;
  int port_;
  std::unique_ptr<ChildProcess> process_;
};

}  // namespace kiln::testing
