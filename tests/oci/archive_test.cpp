#include <cstdio>
#include <string>
#include <thread>

#include <catch2/catch.hpp>

#include "oci/archive_reader.h"
#include "oci/archive_writer.h"
#include "tests/oci/archive_fixture.h"

using namespace kiln;
using namespace kiln::oci;
using namespace kiln::oci::testing;

namespace {

Reference ref(const std::string& text) { return ok(parse_reference(text)); }

// Runs `command` and returns its stdout; fails the test on a non-zero exit.
std::string run(const std::string& command) {
  std::string out;
  FILE* p = ::popen(command.c_str(), "r");
  REQUIRE(p);
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof(buf), p)) > 0) {
    out.append(buf, n);
  }
  int status = ::pclose(p);
  INFO(command << "\n" << out);
  REQUIRE(status == 0);
  return out;
}

}  // namespace

TEST_CASE("docker-archive round trip is byte-identical", "[archive]") {
  MemoryStore store;
  TinyImage img = make_tiny_image(store);
  std::vector<ArchiveImage> images = {
      {{ref("alpine:3"), ref("localhost:5000/x/y:1")}, img.manifest_desc}};
  std::string first = write_to_string(images, store, ArchiveFormat::docker);

  MemoryStore loaded;
  std::vector<LoadedImage> result = ok(read_from_string(first, loaded));
  REQUIRE(result.size() == 1);
  CHECK(result[0].manifest_bytes == img.manifest);
  CHECK(result[0].config_bytes == img.config);
  CHECK(result[0].manifest.digest == img.manifest_desc.digest);
  CHECK(result[0].manifest.media_type == media_type::kOciManifest);
  REQUIRE(result[0].names.size() == 2);
  CHECK(result[0].names[0].str() == "docker.io/library/alpine:3");
  CHECK(result[0].names[1].str() == "localhost:5000/x/y:1");
  CHECK(loaded.blobs.size() == 3);
  CHECK(loaded.blobs.at(img.manifest_desc.digest) == img.manifest);
  CHECK(loaded.writers_alive == 0);

  std::vector<ArchiveImage> again = {{result[0].names, result[0].manifest}};
  CHECK(write_to_string(again, loaded, ArchiveFormat::docker) == first);
}

TEST_CASE("docker-archive entries, manifest.json and index.json", "[archive]") {
  MemoryStore store;
  TinyImage img = make_tiny_image(store);
  std::string tar =
      write_to_string({{{ref("alpine:3")}, img.manifest_desc}}, store, ArchiveFormat::docker);
  TempDir dir;
  std::string path = fs::join(dir.path, "a.tar");
  ok(write_file_atomic(path, tar));
  Digest config = Digest::of(img.config);
  Digest layer = Digest::of(img.layer_gz);
  std::string listing = run("tar -tvf " + path + " --numeric-owner --full-time");
  std::vector<std::string> names = {"blobs/sha256/" + img.manifest_desc.digest.hex(),
                                    "blobs/sha256/" + config.hex(), "blobs/sha256/" + layer.hex()};
  std::sort(names.begin(), names.end());
  std::string expected_names = "blobs/\nblobs/sha256/\n";
  for (const auto& n : names) {
    expected_names += n + "\n";
  }
  expected_names += "index.json\nmanifest.json\noci-layout\nrepositories\n";
  CHECK(run("tar -tf " + path) == expected_names);
  CHECK(listing.find("0/0") != std::string::npos);
  CHECK(listing.find("1970-01-01 00:00:00") != std::string::npos);
  CHECK(run("tar -xOf " + path + " manifest.json") ==
        R"([{"Config":"blobs/sha256/)" + config.hex() +
            R"(","RepoTags":["alpine:3"],"Layers":["blobs/sha256/)" + layer.hex() + "\"]}]\n");
  CHECK(run("tar -xOf " + path + " repositories") ==
        R"({"alpine":{"3":")" + layer.hex() + "\"}}\n");
  CHECK(run("tar -xOf " + path + " oci-layout") == R"({"imageLayoutVersion":"1.0.0"})");
  CHECK(run("tar -xOf " + path + " index.json") ==
        R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json",)"
        R"("manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":")" +
            img.manifest_desc.digest.str() + R"(","size":)" +
            std::to_string(img.manifest_desc.size) +
            R"(,"annotations":{"io.containerd.image.name":"docker.io/library/alpine:3",)"
            R"("org.opencontainers.image.ref.name":"3"}}]})"
            "\n");
}

TEST_CASE("OCI layout round trip is byte-identical and has no docker files", "[archive]") {
  MemoryStore store;
  TinyImage img = make_tiny_image(store);
  std::string first =
      write_to_string({{{ref("app:1")}, img.manifest_desc}}, store, ArchiveFormat::oci);
  CHECK(first.find("manifest.json") == std::string::npos);
  CHECK(first.find("repositories") == std::string::npos);
  MemoryStore loaded;
  auto result = ok(read_from_string(first, loaded));
  REQUIRE(result.size() == 1);
  REQUIRE(result[0].names.size() == 1);
  CHECK(result[0].names[0].str() == "docker.io/library/app:1");
  CHECK(write_to_string({{result[0].names, result[0].manifest}}, loaded, ArchiveFormat::oci) ==
        first);
}

TEST_CASE("an untagged image is saved and loaded without names", "[archive]") {
  MemoryStore store;
  TinyImage img = make_tiny_image(store);
  std::string tar = write_to_string({{{}, img.manifest_desc}}, store, ArchiveFormat::docker);
  CHECK(tar.find(R"("RepoTags":null)") != std::string::npos);
  MemoryStore loaded;
  auto result = ok(read_from_string(tar, loaded));
  REQUIRE(result.size() == 1);
  CHECK(result[0].names.empty());
  CHECK(result[0].config_bytes == img.config);
}

TEST_CASE("two images sharing a layer are written once each blob", "[archive]") {
  MemoryStore store;
  TinyImage a = make_tiny_image(store, "a\n");
  TinyImage b = make_tiny_image(store, "b\n");
  std::string tar =
      write_to_string({{{ref("a:1")}, a.manifest_desc}, {{ref("b:1")}, b.manifest_desc}}, store,
                      ArchiveFormat::docker);
  MemoryStore loaded;
  auto result = ok(read_from_string(tar, loaded));
  REQUIRE(result.size() == 2);
  CHECK(result[0].names.at(0).familiar_str() == "a:1");
  CHECK(result[1].names.at(0).familiar_str() == "b:1");
  CHECK(loaded.blobs.size() == 6);
}

TEST_CASE("gzip and zstd compressed archives are read", "[archive]") {
  MemoryStore store;
  TinyImage img = make_tiny_image(store);
  std::string tar =
      write_to_string({{{ref("alpine:3")}, img.manifest_desc}}, store, ArchiveFormat::docker);
  TempDir dir;
  std::string path = fs::join(dir.path, "a.tar");
  ok(write_file_atomic(path, tar));
  run("gzip -k " + path + " && zstd -q " + path);
  for (const char* ext : {".gz", ".zst"}) {
    INFO(ext);
    int fd = ::open((path + ext).c_str(), O_RDONLY);
    REQUIRE(fd >= 0);
    MemoryStore loaded;
    auto result = read_archive(fd, loaded);
    ::close(fd);
    REQUIRE(ok(std::move(result)).size() == 1);
    CHECK(loaded.blobs.size() == 3);
  }
}

TEST_CASE("legacy docker-archive: manifest.json with layer.tar links", "[archive]") {
  MemoryStore store;
  TinyImage img = make_tiny_image(store);
  // Two layers with the same content: docker < 25 links the second to the first.
  ImageConfig c = ok(parse_image_config(img.config));
  c.diff_ids.push_back(c.diff_ids[0]);
  std::string config = to_json(c);
  Digest config_digest = Digest::of(config);
  std::string manifest_json = R"([{"Config":")" + config_digest.hex() +
                              R"(.json","RepoTags":["busybox:latest"],"Layers":["aaa/layer.tar",)"
                              R"("bbb/layer.tar"]}])";
  std::string tar = TarBuilder()
                        .dir("aaa")
                        .file("aaa/layer.tar", img.layer_tar)
                        .file("aaa/json", "{}")
                        .file("aaa/VERSION", "1.0")
                        .dir("bbb")
                        .symlink("bbb/layer.tar", "../aaa/layer.tar")
                        .file(config_digest.hex() + ".json", config)
                        .file("manifest.json", manifest_json)
                        .file("repositories", "{}")
                        .finish();
  MemoryStore loaded;
  auto result = ok(read_from_string(tar, loaded));
  REQUIRE(result.size() == 1);
  CHECK(result[0].names.at(0).str() == "docker.io/library/busybox:latest");
  CHECK(result[0].config_bytes == config);
  Digest layer = Digest::of(img.layer_tar);
  std::string expected_manifest =
      R"({"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.v2+json",)"
      R"("config":{"mediaType":"application/vnd.docker.container.image.v1+json","digest":")" +
      config_digest.str() + R"(","size":)" + std::to_string(config.size()) +
      R"(},"layers":[{"mediaType":"application/vnd.docker.image.rootfs.diff.tar","digest":")" +
      layer.str() + R"(","size":)" + std::to_string(img.layer_tar.size()) +
      R"(},{"mediaType":"application/vnd.docker.image.rootfs.diff.tar","digest":")" + layer.str() +
      R"(","size":)" + std::to_string(img.layer_tar.size()) + "}]}";
  CHECK(result[0].manifest_bytes == expected_manifest);
  CHECK(result[0].manifest.digest == Digest::of(expected_manifest));
  // config, layer, synthesized manifest; not aaa/json.
  CHECK(loaded.blobs.size() == 3);
  CHECK(loaded.blobs.count(Digest::of("{}")) == 0);
  CHECK(loaded.blobs.at(result[0].manifest.digest) == expected_manifest);
}

TEST_CASE("an OCI layout directory is read", "[archive]") {
  MemoryStore store;
  TinyImage img = make_tiny_image(store);
  std::string tar =
      write_to_string({{{ref("app:1")}, img.manifest_desc}}, store, ArchiveFormat::oci);
  TempDir dir;
  ok(write_file_atomic(fs::join(dir.path, "a.tar"), tar));
  ok(fs::make_dirs(fs::join(dir.path, "layout")));
  run("tar -xf " + dir.path + "/a.tar -C " + dir.path + "/layout");
  MemoryStore loaded;
  auto result = ok(read_layout_dir(fs::join(dir.path, "layout"), loaded));
  REQUIRE(result.size() == 1);
  CHECK(result[0].manifest_bytes == img.manifest);
  CHECK(loaded.blobs.size() == 3);
}

TEST_CASE("skopeo inspects the archives we write", "[archive][skopeo]") {
  MemoryStore store;
  TinyImage img = make_tiny_image(store);
  TempDir dir;
  WriteOptions options;
  std::string docker_path = fs::join(dir.path, "docker.tar");
  std::string oci_path = fs::join(dir.path, "oci.tar");
  std::vector<ArchiveImage> images = {{{ref("kiln-test/tiny:1")}, img.manifest_desc}};
  ok(write_archive_file(docker_path, images, store, options));
  options.format = ArchiveFormat::oci;
  ok(write_archive_file(oci_path, images, store, options));
  std::string layer = Digest::of(img.layer_gz).str();

  // skopeo reads docker-archive layers uncompressed: it lists the diff IDs. Selecting the
  // image by name checks RepoTags (skopeo's own RepoTags output is always empty here).
  std::string docker_out =
      run("skopeo inspect docker-archive:" + docker_path + ":kiln-test/tiny:1");
  CHECK(docker_out.find(Digest::of(img.layer_tar).str()) != std::string::npos);
  CHECK(docker_out.find(R"("Architecture": "amd64")") != std::string::npos);
  std::string config = run("skopeo inspect --config --raw docker-archive:" + docker_path);
  CHECK(config == img.config);

  std::string oci_out = run("skopeo inspect oci-archive:" + oci_path);
  CHECK(oci_out.find(R"("Digest": ")" + img.manifest_desc.digest.str() + "\"") !=
        std::string::npos);
  CHECK(oci_out.find(layer) != std::string::npos);
  CHECK(run("skopeo inspect --raw oci-archive:" + oci_path) == img.manifest);
}

TEST_CASE("reads from a pipe in one pass", "[archive]") {
  MemoryStore store;
  TinyImage img = make_tiny_image(store);
  std::string tar =
      write_to_string({{{ref("alpine:3")}, img.manifest_desc}}, store, ArchiveFormat::docker);
  int fds[2];
  REQUIRE(::pipe(fds) == 0);
  std::thread feeder([&] {
    size_t off = 0;
    while (off < tar.size()) {
      ssize_t n = ::write(fds[1], tar.data() + off, std::min<size_t>(tar.size() - off, 777));
      if (n <= 0) {
        break;
      }
      off += static_cast<size_t>(n);
    }
    ::close(fds[1]);
  });
  MemoryStore loaded;
  auto result = read_archive(fds[0], loaded);
  feeder.join();
  ::close(fds[0]);
  REQUIRE(ok(std::move(result)).size() == 1);
  CHECK(loaded.blobs.size() == 3);
}

TEST_CASE("a multi-platform index: docker-archive takes the wanted platform", "[archive]") {
  MemoryStore store;
  TinyImage amd = make_tiny_image(store, "amd64\n");
  // An arm64 manifest whose blobs are not stored, as after a single-platform pull.
  Manifest arm = ok(parse_manifest(make_tiny_image(store, "arm64\n").manifest));
  std::string arm_manifest = to_json(arm);
  store.blobs.erase(arm.config.digest);
  store.blobs.erase(arm.layers[0].digest);
  store.blobs.erase(Digest::of(arm_manifest));
  Index index;
  index.media_type = media_type::kOciIndex.str();
  Descriptor a = amd.manifest_desc;
  a.platform = ok(parse_platform("linux/amd64"));
  Descriptor b = describe(media_type::kOciManifest, arm_manifest);
  b.platform = ok(parse_platform("linux/arm64/v8"));
  index.manifests = {b, a};
  std::string index_json = to_json(index);
  Descriptor index_desc = describe(media_type::kOciIndex, index_json);
  store.put(index_json);

  std::string tar = write_to_string({{{ref("multi:1")}, index_desc}}, store, ArchiveFormat::docker);
  CHECK(tar.find(R"("Config":"blobs/sha256/)" + Digest::of(amd.config).hex()) != std::string::npos);
  MemoryStore loaded;
  auto result = ok(read_from_string(tar, loaded));
  REQUIRE(result.size() == 1);
  CHECK(result[0].manifest.digest == amd.manifest_desc.digest);
  CHECK(result[0].manifest_bytes == amd.manifest);
  CHECK(result[0].names.at(0).familiar_str() == "multi:1");
  CHECK(loaded.blobs.size() == 3);

  WriteOptions options;
  options.platform = ok(parse_platform("linux/s390x"));
  TempDir dir;
  CHECK(error_message(write_archive_file(fs::join(dir.path, "x.tar"),
                                         {{{ref("multi:1")}, index_desc}}, store, options)) ==
        "index '" + index_desc.digest.str() + "': no manifest for platform 'linux/s390x'");
}

TEST_CASE("umoci unpacks the OCI layout we write", "[archive][umoci]") {
  MemoryStore store;
  TinyImage img = make_tiny_image(store, "unpacked by umoci\n");
  TempDir dir;
  WriteOptions options;
  options.format = ArchiveFormat::oci;
  std::string tar = fs::join(dir.path, "oci.tar");
  ok(write_archive_file(tar, {{{ref("kiln-test/tiny:1")}, img.manifest_desc}}, store, options));
  std::string layout = fs::join(dir.path, "layout");
  ok(fs::make_dirs(layout));
  run("tar -xf " + tar + " -C " + layout);
  std::string bundle = fs::join(dir.path, "bundle");
  run("umoci unpack --image " + layout + ":1 " + bundle + " 2>&1");
  CHECK(ok(fs::read_file(bundle + "/rootfs/etc/hello.txt")) == "unpacked by umoci\n");
}

TEST_CASE("archives written by skopeo are read", "[archive][skopeo]") {
  MemoryStore store;
  TinyImage img = make_tiny_image(store);
  TempDir dir;
  WriteOptions options;
  options.format = ArchiveFormat::oci;
  std::string ours = fs::join(dir.path, "ours.tar");
  ok(write_archive_file(ours, {{{ref("kiln-test/tiny:1")}, img.manifest_desc}}, store, options));
  std::string docker = fs::join(dir.path, "skopeo-docker.tar");
  std::string oci = fs::join(dir.path, "skopeo-oci.tar");
  run("skopeo copy -q oci-archive:" + ours + " docker-archive:" + docker +
      ":kiln-test/tiny:2 2>&1");
  run("skopeo copy -q oci-archive:" + ours + " oci-archive:" + oci + ":kiln-test/tiny:3 2>&1");

  MemoryStore from_docker;
  int fd = ::open(docker.c_str(), O_RDONLY);
  REQUIRE(fd >= 0);
  auto loaded = read_archive(fd, from_docker);
  ::close(fd);
  std::vector<LoadedImage> images = ok(std::move(loaded));
  REQUIRE(images.size() == 1);
  CHECK(images[0].config_bytes == img.config);
  REQUIRE(images[0].names.size() == 1);
  CHECK(images[0].names[0].str() == "docker.io/kiln-test/tiny:2");
  // skopeo stores docker-archive layers uncompressed: the layer is the diff ID.
  Manifest m = ok(parse_manifest(images[0].manifest_bytes));
  REQUIRE(m.layers.size() == 1);
  CHECK(m.layers[0].digest == Digest::of(img.layer_tar));
  CHECK(m.layers[0].media_type == media_type::kDockerLayer);

  MemoryStore from_oci;
  fd = ::open(oci.c_str(), O_RDONLY);
  REQUIRE(fd >= 0);
  loaded = read_archive(fd, from_oci);
  ::close(fd);
  images = ok(std::move(loaded));
  REQUIRE(images.size() == 1);
  CHECK(images[0].config_bytes == img.config);
  CHECK(images[0].manifest_bytes == img.manifest);
  CHECK(images[0].names.size() == 1);
  CHECK(images[0].names[0].str() == "docker.io/kiln-test/tiny:3");
}

TEST_CASE("docker-archive bytes are pinned", "[archive]") {
  MemoryStore store;
  TinyImage img = make_tiny_image(store);
  std::string tar =
      write_to_string({{{ref("alpine:3")}, img.manifest_desc}}, store, ArchiveFormat::docker);
  CHECK(Digest::of(img.layer_gz).str() ==
        "sha256:0ac2181c58adb0fa6fcb301a877c4070cd0b1cf958687c4b65e0d3c01213afbf");
  CHECK(Digest::of(tar).str() ==
        "sha256:a362f246855f7e5b3152971beaa25255688f8708b314978b2cc89ba633914be4");
}
