// registry_bench [MB_PER_LAYER=60] [LAYERS=5]: push and pull of a LAYERS-layer image
// (random, incompressible layers) to a local docker-registry with kiln's registry
// client, next to `skopeo copy` of the same image in the same run.

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <random>
#include <string>

#include "oci/media_types.h"
#include "oci/reference.h"
#include "oci/types.h"
#include "registry/transfer.h"
#include "support/error.h"
#include "support/fs.h"

using namespace kiln;

namespace {

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

void write_file(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary) << bytes;
}

int fail(llvm::Error err) {
  std::cerr << "registry_bench: " << error_message(std::move(err)) << "\n";
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  size_t mb = argc > 1 ? std::atoi(argv[1]) : 60;
  int layers = argc > 2 ? std::atoi(argv[2]) : 5;
  llvm::Expected<std::string> dir = fs::make_temp_dir("/tmp", "kiln-registry-bench-");
  if (!dir) {
    return fail(dir.takeError());
  }
  int port = 20000 + getpid() % 20000;
  std::string domain = "127.0.0.1:" + std::to_string(port);
  write_file(*dir + "/config.yml",
             "version: 0.1\nlog:\n  level: error\n  accesslog:\n"
             "    disabled: true\nstorage:\n  filesystem:\n"
             "    rootdirectory: " +
                 *dir + "/storage\nhttp:\n  addr: " + domain + "\n");
  pid_t registry = fork();
  if (registry == 0) {
    int fd = open((*dir + "/registry.log").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    dup2(fd, 1);
    dup2(fd, 2);
    execlp("docker-registry", "docker-registry", "serve", (*dir + "/config.yml").c_str(), nullptr);
    _exit(127);
  }
  sleep(1);

  registry::MemoryBlobStore store;
  std::mt19937_64 gen(42);
  oci::Manifest manifest;
  manifest.media_type = oci::media_type::kOciManifest.str();
  std::string diff_ids;
  for (int i = 0; i < layers; ++i) {
    std::string bytes(mb << 20, '\0');
    for (size_t j = 0; j + 8 <= bytes.size(); j += 8) {
      uint64_t v = gen();
      std::memcpy(&bytes[j], &v, 8);
    }
    manifest.layers.push_back(oci::describe(oci::media_type::kOciLayer, bytes));
    diff_ids += std::string(i ? "," : "") + "\"" + manifest.layers.back().digest.str() + "\"";
    store.put(bytes);
  }
  std::string config = R"({"architecture":"amd64","os":"linux","rootfs":{"type":"layers",)"
                       R"("diff_ids":[)" +
                       diff_ids + "]}}";
  manifest.config = oci::describe(oci::media_type::kOciConfig, config);
  store.put(config);
  std::string manifest_bytes = oci::to_json(manifest);
  Digest manifest_digest = store.put(manifest_bytes);

  auto client = registry::Client::create();
  if (!client) {
    return fail(client.takeError());
  }
  auto ref = oci::parse_reference(domain + "/bench/kiln:1");
  auto start = std::chrono::steady_clock::now();
  auto pushed = registry::push_image(**client, *ref, store, manifest_digest);
  double kiln_push = seconds_since(start);
  if (!pushed) {
    return fail(pushed.takeError());
  }
  registry::MemoryBlobStore pulled_store;
  start = std::chrono::steady_clock::now();
  auto pulled = registry::pull_image(**client, *ref, pulled_store);
  double kiln_pull = seconds_since(start);
  if (!pulled) {
    return fail(pulled.takeError());
  }

  std::string layout = *dir + "/layout";
  llvm::consumeError(fs::make_dirs(layout + "/blobs/sha256"));
  for (const auto& [digest, bytes] : store.blobs()) {
    write_file(layout + "/blobs/sha256/" + digest.hex(), bytes);
  }
  write_file(layout + "/oci-layout", R"({"imageLayoutVersion":"1.0.0"})");
  oci::Index index;
  oci::Descriptor entry = oci::describe(oci::media_type::kOciManifest, manifest_bytes);
  entry.annotations[oci::annotation::kRefName.str()] = "v1";
  index.manifests.push_back(entry);
  write_file(layout + "/index.json", oci::to_json(index));
  start = std::chrono::steady_clock::now();
  int rc1 = std::system(("skopeo copy -q --dest-tls-verify=false oci:" + layout + ":v1 docker://" +
                         domain + "/bench/skopeo:1")
                            .c_str());
  double skopeo_push = seconds_since(start);
  start = std::chrono::steady_clock::now();
  int rc2 = std::system(("skopeo copy -q --src-tls-verify=false docker://" + domain +
                         "/bench/skopeo:1 oci:" + *dir + "/pulled:v1")
                            .c_str());
  double skopeo_pull = seconds_since(start);

  kill(registry, SIGTERM);
  waitpid(registry, nullptr, 0);
  llvm::consumeError(fs::remove_all(*dir));
  std::printf("image: %d layers x %zu MB\n", layers, mb);
  std::printf("kiln   push %.2fs  pull %.2fs (to memory)\n", kiln_push, kiln_pull);
  std::printf("skopeo push %.2fs  pull %.2fs (to an OCI layout dir)%s\n", skopeo_push, skopeo_pull,
              rc1 || rc2 ? "  [skopeo failed]" : "");
  return 0;
}
