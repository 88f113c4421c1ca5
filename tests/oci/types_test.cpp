#include "oci/types.h"

#include <string>

#include <catch2/catch.hpp>

#include "oci/image_config.h"
#include "oci/media_types.h"
#include "support/error.h"

namespace oci = kiln::oci;

namespace {

template <typename T>
T ok(llvm::Expected<T> v) {
  if (!v) {
    FAIL(kiln::error_message(v.takeError()));
  }
  return std::move(*v);
}

template <typename T>
std::string error_of(llvm::Expected<T> v) {
  REQUIRE(!v);
  return kiln::error_message(v.takeError());
}

const std::string kA = "sha256:" + std::string(64, 'a');
const std::string kB = "sha256:" + std::string(64, 'b');

}  // namespace

TEST_CASE("media type classifiers", "[types]") {
  namespace mt = oci::media_type;
  CHECK(oci::is_manifest(mt::kOciManifest));
  CHECK(oci::is_manifest(mt::kDockerManifest));
  CHECK(!oci::is_manifest(mt::kOciIndex));
  CHECK(oci::is_index(mt::kDockerManifestList));
  CHECK(oci::is_index(mt::kOciIndex));
  CHECK(oci::is_config(mt::kDockerConfig));
  CHECK(oci::is_layer(mt::kDockerForeignLayer));
  CHECK(oci::is_foreign_layer(mt::kOciForeignLayerGzip));
  CHECK(!oci::is_foreign_layer(mt::kOciLayerGzip));
  CHECK(!oci::is_layer(mt::kOciConfig));
  CHECK(oci::compression_of(mt::kDockerLayerGzip) == oci::Compression::gzip);
  CHECK(oci::compression_of(mt::kDockerForeignLayer) == oci::Compression::gzip);
  CHECK(oci::compression_of(mt::kOciLayerZstd) == oci::Compression::zstd);
  CHECK(oci::compression_of(mt::kOciLayer) == oci::Compression::none);
  CHECK(oci::layer_media_type(oci::Compression::zstd, oci::MediaFamily::docker) ==
        "application/vnd.docker.image.rootfs.diff.tar.zstd");
  CHECK(oci::detect_compression(llvm::StringRef("\x1f\x8b\x08", 3)) == oci::Compression::gzip);
  CHECK(oci::detect_compression("\x28\xb5\x2f\xfd") == oci::Compression::zstd);
  CHECK(oci::detect_compression("ustar") == oci::Compression::none);
}

TEST_CASE("manifest JSON is written in Go struct order with omitempty", "[types]") {
  oci::Manifest m;
  m.media_type = oci::media_type::kOciManifest.str();
  m.config.media_type = oci::media_type::kOciConfig.str();
  m.config.digest = ok(kiln::Digest::parse(kA));
  m.config.size = 7;
  oci::Descriptor layer;
  layer.media_type = oci::media_type::kOciLayerGzip.str();
  layer.digest = ok(kiln::Digest::parse(kB));
  layer.size = 42;
  layer.annotations["b"] = "x<y";
  layer.annotations["a"] = "1";
  m.layers.push_back(layer);
  std::string json = oci::to_json(m);
  CHECK(json ==
        R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",)"
        R"("config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":")" +
            kA +
            R"(","size":7},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip",)"
            R"("digest":")" +
            kB + R"(","size":42,"annotations":{"a":"1","b":"x\u003cy"}}]})");
  oci::Manifest back = ok(oci::parse_manifest(json));
  CHECK(back == m);
  CHECK(oci::to_json(back) == json);
}

TEST_CASE("index JSON round trip with platforms", "[types]") {
  std::string json =
      R"({"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.list.v2+json",)"
      R"("manifests":[{"mediaType":"application/vnd.docker.distribution.manifest.v2+json",)"
      R"("digest":")" +
      kA + R"(","size":528,"platform":{"architecture":"arm64","os":"linux","variant":"v8"}}]})";
  oci::Index index = ok(oci::parse_index(json));
  REQUIRE(index.manifests.size() == 1);
  REQUIRE(index.manifests[0].platform);
  CHECK(index.manifests[0].platform->str() == "linux/arm64/v8");
  CHECK(oci::to_json(index) == json);
  oci::Index empty;
  CHECK(oci::to_json(empty) == R"({"schemaVersion":2,"manifests":[]})");
}

TEST_CASE("manifest parse errors name the field", "[types]") {
  CHECK(error_of(oci::parse_manifest("{")).rfind("invalid manifest: malformed JSON: ", 0) == 0);
  CHECK(error_of(oci::parse_manifest("[]")) == "invalid manifest: expected a JSON object");
  CHECK(error_of(oci::parse_manifest(R"({"schemaVersion":1})")) ==
        "invalid manifest: 'schemaVersion': expected 2, got 1");
  CHECK(error_of(oci::parse_manifest(R"({"schemaVersion":2})")) ==
        "invalid manifest: 'config': missing");
  CHECK(error_of(oci::parse_manifest(
            R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json"})")) ==
        "invalid manifest: 'mediaType': unexpected media type "
        "'application/vnd.oci.image.index.v1+json'");
  CHECK(error_of(oci::parse_manifest(R"({"schemaVersion":2,"config":{"digest":")" + kA +
                                     R"(","size":1},"layers":[{"digest":")" + kA +
                                     R"(","size":-1}]})")) ==
        "invalid manifest: 'layers[0].size': must not be negative");
  CHECK(error_of(
            oci::parse_manifest(R"({"schemaVersion":2,"config":{"digest":"md5:00","size":1}})")) ==
        "invalid manifest: 'config.digest': invalid digest 'md5:00': unsupported algorithm 'md5'");
  CHECK(error_of(oci::parse_manifest(R"({"schemaVersion":2,"config":{"digest":")" + kA +
                                     R"(","size":"1"}})")) ==
        "invalid manifest: 'config.size': expected an integer");
  CHECK(error_of(oci::parse_descriptor(R"({"mediaType":"x","size":1})")) ==
        "invalid descriptor: 'digest': missing");
}

TEST_CASE("platform parsing and matching", "[types]") {
  CHECK(ok(oci::parse_platform("linux/arm64/v8")).str() == "linux/arm64/v8");
  CHECK(error_of(oci::parse_platform("linux")) ==
        "invalid platform 'linux': expected 'os/arch[/variant]'");
  oci::Platform arm = ok(oci::parse_platform("linux/arm64/v8"));
  oci::Platform arm_plain = ok(oci::parse_platform("linux/arm64"));
  CHECK(oci::platform_matches(arm, arm_plain));
  CHECK(oci::platform_matches(arm_plain, arm));
  CHECK(!oci::platform_matches(ok(oci::parse_platform("linux/amd64")), arm));
  CHECK(!oci::platform_matches(ok(oci::parse_platform("linux/arm/v7")),
                               ok(oci::parse_platform("linux/arm/v6"))));
}

TEST_CASE("image config keeps unknown fields through a round trip", "[types]") {
  std::string docker_style =
      R"({"architecture":"amd64","config":{"Hostname":"","Env":["PATH=/bin"],)"
      R"("Cmd":["/bin/sh","-c","echo a > b && c"],"Image":"sha256:00","Labels":null,)"
      R"("ExposedPorts":{"8080/tcp":{},"443/tcp":{}},"Healthcheck":{"Test":["CMD","true"],)"
      R"("Interval":30000000000,"Retries":3}},"container":"abc","created":"2024-01-02T03:04:05Z",)"
      R"("docker_version":"20.10.0","history":[{"created":"2024-01-02T03:04:05Z",)"
      R"("created_by":"/bin/sh -c #(nop) CMD","empty_layer":true,"x":1}],"os":"linux",)"
      R"("rootfs":{"type":"layers","diff_ids":[")" +
      kA + R"("]}})";
  oci::ImageConfig c = ok(oci::parse_image_config(docker_style));
  CHECK(c.config.cmd.size() == 3);
  CHECK(c.config.exposed_ports.size() == 2);
  REQUIRE(c.config.healthcheck);
  CHECK(c.config.healthcheck->interval == 30000000000);
  CHECK(c.config.healthcheck->retries == 3);
  CHECK(c.history.at(0).empty_layer);
  std::string out = oci::to_json(c);
  CHECK(out == R"({"created":"2024-01-02T03:04:05Z","architecture":"amd64","os":"linux","config":{)"
               R"("ExposedPorts":{"443/tcp":{},"8080/tcp":{}},"Env":["PATH=/bin"],)"
               R"("Cmd":["/bin/sh","-c","echo a \u003e b \u0026\u0026 c"],)"
               R"("Healthcheck":{"Test":["CMD","true"],"Interval":30000000000,"Retries":3},)"
               R"("Hostname":"","Image":"sha256:00"},"rootfs":{"type":"layers",)"
               R"("diff_ids":[")" +
                   kA +
                   R"("]},"history":[{"created":"2024-01-02T03:04:05Z",)"
                   R"("created_by":"/bin/sh -c #(nop) CMD","empty_layer":true,"x":1}],)"
                   R"("container":"abc","docker_version":"20.10.0"})");
  oci::ImageConfig again = ok(oci::parse_image_config(out));
  CHECK(again == c);
  CHECK(oci::to_json(again) == out);
}

TEST_CASE("image config errors name the field", "[types]") {
  CHECK(error_of(oci::parse_image_config(R"({"config":{"Env":"x"}})")) ==
        "invalid image config: 'config.Env': expected an array of strings");
  CHECK(error_of(oci::parse_image_config(R"({"rootfs":{"diff_ids":["sha256:x"]}})")) ==
        "invalid image config: 'rootfs.diff_ids[0]': invalid digest 'sha256:x': expected 64 "
        "hex characters, got 1");
  CHECK(error_of(oci::parse_image_config(R"({"history":[{"empty_layer":"yes"}]})")) ==
        "invalid image config: 'history[0].empty_layer': expected true or false");
  CHECK(error_of(oci::parse_image_config("null")) ==
        "invalid image config: expected a JSON object");
}

TEST_CASE("describe hashes the bytes", "[types]") {
  oci::Descriptor d = oci::describe(oci::media_type::kOciConfig, "{}");
  CHECK(d.digest.str() ==
        "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a");
  CHECK(d.size == 2);
}
