#include "cache/image_index.h"

#include <catch2/catch.hpp>

#include "oci/image_config.h"
#include "oci/media_types.h"
#include "oci/types.h"
#include "support/error.h"
#include "tests/testutil/testutil.h"

using kiln::Digest;
using kiln::cache::ImageStore;
namespace oci = kiln::oci;

namespace {

struct PlatformImage {
  Digest manifest;
  Digest config;
  std::string json;
};

// A one-layer image of `arch` (`variant`) whose layer bytes are `layer`.
PlatformImage put_image(ImageStore& store, const std::string& arch, const std::string& variant,
                        const std::string& layer, const std::string& created) {
  auto layer_digest = store.content().put(layer);
  REQUIRE(static_cast<bool>(layer_digest));
  oci::ImageConfig config;
  config.created = created;
  config.architecture = arch;
  config.variant = variant;
  config.os = "linux";
  config.diff_ids.push_back(*layer_digest);
  std::string config_bytes = oci::to_json(config);
  REQUIRE(static_cast<bool>(store.content().put(config_bytes)));
  oci::Manifest manifest;
  manifest.media_type = oci::media_type::kOciManifest.str();
  manifest.config = oci::describe(oci::media_type::kOciConfig, config_bytes);
  manifest.layers.push_back(oci::describe(oci::media_type::kOciLayer, layer));
  std::string json = oci::to_json(manifest);
  auto digest = store.content().put(json);
  REQUIRE(static_cast<bool>(digest));
  return {*digest, Digest::of(config_bytes), json};
}

oci::Descriptor entry(const PlatformImage& image, const std::string& platform) {
  oci::Descriptor d = oci::describe(oci::media_type::kOciManifest, image.json);
  auto p = oci::parse_platform(platform);
  REQUIRE(static_cast<bool>(p));
  d.platform = *p;
  return d;
}

}  // namespace

TEST_CASE("an image index is one image holding every platform's blobs", "[image_index]") {
  kiln::testutil::TempDir dir;
  auto opened = ImageStore::open(dir.path());
  REQUIRE(static_cast<bool>(opened));
  ImageStore& store = **opened;
  PlatformImage amd = put_image(store, "amd64", "", "amd64 layer", "2024-01-01T00:00:00Z");
  PlatformImage arm = put_image(store, "arm", "v7", "arm layer", "2024-02-01T00:00:00Z");
  oci::Index index;
  index.media_type = oci::media_type::kOciIndex.str();
  index.manifests = {entry(amd, "linux/amd64"), entry(arm, "linux/arm/v7")};
  auto index_digest = store.content().put(oci::to_json(index));
  REQUIRE(static_cast<bool>(index_digest));

  auto added = kiln::cache::add_index(store, *index_digest, {"docker.io/library/app:1"});
  REQUIRE(static_cast<bool>(added));
  CHECK(added->manifest == *index_digest);
  CHECK(added->config == *index_digest);  // the ID of a multi-platform image
  CHECK(added->created == 1706745600);    // the newest platform's
  auto resolved = store.resolve("app:1");
  REQUIRE(static_cast<bool>(resolved));
  CHECK(resolved->manifest == *index_digest);

  auto chosen = kiln::cache::manifest_for_platform(store.content(), *index_digest,
                                                   *oci::parse_platform("linux/armhf"));
  REQUIRE(static_cast<bool>(chosen));
  CHECK(chosen->manifest == arm.manifest);
  CHECK(chosen->config == arm.config);
  CHECK(chosen->platform.str() == "linux/arm/v7");

  auto none = kiln::cache::manifest_for_platform(store.content(), *index_digest,
                                                 *oci::parse_platform("linux/arm64"));
  REQUIRE(!none);
  CHECK(kiln::error_message(none.takeError()) ==
        "image '" + index_digest->str() +
            "' has no manifest for platform 'linux/arm64' (it has linux/amd64, linux/arm/v7)");

  // A single manifest is its own platform's; another platform is refused.
  auto single = kiln::cache::manifest_for_platform(store.content(), amd.manifest,
                                                   *oci::parse_platform("linux/amd64"));
  REQUIRE(static_cast<bool>(single));
  CHECK(single->manifest == amd.manifest);
  auto wrong = kiln::cache::manifest_for_platform(store.content(), amd.manifest,
                                                  *oci::parse_platform("linux/arm64"));
  REQUIRE(!wrong);
  CHECK(kiln::error_message(wrong.takeError()) == "image '" + amd.manifest.str() +
                                                      "' is for platform 'linux/amd64', not "
                                                      "'linux/arm64'");

  // Removing the name deletes every platform's blobs.
  auto removed = store.remove("app:1", kiln::cache::Force::no);
  REQUIRE(static_cast<bool>(removed));
  CHECK(!store.content().exists(arm.manifest));
  CHECK(!store.content().exists(*index_digest));
}

TEST_CASE("add_index refuses a manifest and an index with a missing blob", "[image_index]") {
  kiln::testutil::TempDir dir;
  auto opened = ImageStore::open(dir.path());
  REQUIRE(static_cast<bool>(opened));
  ImageStore& store = **opened;
  PlatformImage amd = put_image(store, "amd64", "", "layer", "2024-01-01T00:00:00Z");
  auto not_index = kiln::cache::add_index(store, amd.manifest, {});
  REQUIRE(!not_index);
  CHECK(kiln::error_message(not_index.takeError()) ==
        "blob '" + amd.manifest.str() + "' is not an image index");

  oci::Index index;
  index.media_type = oci::media_type::kOciIndex.str();
  oci::Descriptor missing = entry(amd, "linux/arm64");
  missing.digest = Digest::of("not stored");
  index.manifests = {entry(amd, "linux/amd64"), missing};
  auto index_digest = store.content().put(oci::to_json(index));
  REQUIRE(static_cast<bool>(index_digest));
  auto added = kiln::cache::add_index(store, *index_digest, {"docker.io/library/app:2"});
  REQUIRE(!added);
  CHECK(!store.resolve("app:2"));
}
