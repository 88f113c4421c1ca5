#include "exporter/cache_config.h"

#include <unistd.h>

#include <catch2/catch.hpp>

#include "cache/build_db.h"
#include "cache/content_store.h"
#include "cache/snapshot.h"
#include "exporter/cache_export.h"
#include "exporter/cache_import.h"
#include "oci/media_types.h"
#include "support/error.h"
#include "support/fs.h"
#include "tests/testutil/testutil.h"

using namespace kiln;
using namespace kiln::exporter;

namespace {

CacheLayer layer(const std::string& bytes, const std::string& diff) {
  CacheLayer l;
  l.blob = oci::describe(oci::media_type::kOciLayerGzip, bytes);
  l.diff_id = Digest::of(diff);
  return l;
}

}  // namespace

TEST_CASE("the cache config numbers shared layers once and is the same for the same cache",
          "[exporter][cache]") {
  CacheLayer base = layer("base", "base-tar");
  CacheLayer run = layer("run", "run-tar");
  CacheLayer copy = layer("copy", "copy-tar");
  CacheConfigBuilder b1;
  b1.add_record(Digest::of("k2"), {base, copy});
  b1.add_record(Digest::of("k1"), {base, run});
  b1.add_record(Digest::of("k0"), {});
  b1.add_mount("ccache", copy);
  b1.add_blob(oci::describe("application/vnd.kiln.cache.files.v1+json", "{}"));
  b1.set_steps(R"([{"name":"x"}])");
  CacheConfig c = b1.build();
  REQUIRE(c.layers.size() == 3);
  REQUIRE(c.records.size() == 3);
  // Records sorted by key; layers numbered by first use in that order.
  CHECK(c.records[0].key < c.records[1].key);
  CHECK(c.records[1].key < c.records[2].key);
  for (const auto& r : c.records) {
    if (r.key == Digest::of("k0")) {
      CHECK(r.layers.empty());
    } else {
      REQUIRE(r.layers.size() == 2);
      CHECK(c.layers[r.layers[0]] == base);
    }
  }
  REQUIRE(c.mounts.size() == 1);
  CHECK(c.layers[c.mounts[0].layer] == copy);
  CHECK(c.all_blobs().size() == 4);

  // The same records added in another order give the same bytes.
  CacheConfigBuilder b2;
  b2.set_steps(R"([{"name":"x"}])");
  b2.add_blob(oci::describe("application/vnd.kiln.cache.files.v1+json", "{}"));
  b2.add_mount("ccache", copy);
  b2.add_record(Digest::of("k0"), {});
  b2.add_record(Digest::of("k1"), {base, run});
  b2.add_record(Digest::of("k2"), {base, copy});
  CHECK(to_json(b2.build()) == to_json(c));

  auto parsed = parse_cache_config(to_json(c));
  REQUIRE(static_cast<bool>(parsed));
  CHECK(*parsed == c);
  CHECK(parsed->steps == R"([{"name":"x"}])");

  std::string manifest = cache_manifest_json(c, to_json(c));
  auto m = oci::parse_manifest(manifest);
  REQUIRE(static_cast<bool>(m));
  CHECK(m->artifact_type == "application/vnd.kiln.cache.v1");
  CHECK(m->config.media_type == "application/vnd.kiln.cache.config.v1+json");
  CHECK(m->config.digest == Digest::of(to_json(c)));
  CHECK(m->layers.size() == 4);
}

TEST_CASE("a bad cache config says what is wrong", "[exporter][cache]") {
  auto err = [](const std::string& json) {
    auto c = parse_cache_config(json);
    REQUIRE(!c);
    return llvm::toString(c.takeError());
  };
  CHECK(err("nope") == "invalid cache config: not JSON");
  CHECK(err(R"({"version":2})") ==
        "invalid cache config: unknown version (this kiln reads version 1)");
  CHECK(err(R"({"version":1,"records":[{"key":"sha256:00","layers":[]}]})")
            .rfind("invalid cache config: 'key': ", 0) == 0);
  std::string key = Digest::of("k").str();
  CHECK(err(R"({"version":1,"layers":[],"records":[{"key":")" + key + R"(","layers":[3]}]})") ==
        "invalid cache config: layer index 3 out of range");
}

TEST_CASE("a local cache export is incremental, prunes what no manifest needs, and reads back",
          "[exporter][cache]") {
  testutil::TempDir dir("kiln-cache-export-");
  auto content = cache::ContentStore::open(dir / "store");
  REQUIRE(static_cast<bool>(content));
  auto put = [&](const std::string& bytes) {
    auto d = content->put(bytes);
    REQUIRE(static_cast<bool>(d));
    CacheLayer l;
    l.blob = oci::describe(oci::media_type::kOciLayerGzip, bytes);
    l.diff_id = Digest::of("diff:" + bytes);
    return l;
  };
  CacheLayer base = put("base layer");
  CacheLayer one = put("layer one");
  CacheLayer two = put("layer two");
  std::string out = dir / "cache";

  CacheConfigBuilder b;
  b.add_record(Digest::of("a"), {base, one});
  auto first = export_cache_local(*content, b.build(), out);
  REQUIRE(static_cast<bool>(first));
  CHECK(first->blobs_written == 4);  // two layers, config, manifest
  CHECK(first->blobs_present == 0);

  auto again = export_cache_local(*content, b.build(), out);
  REQUIRE(static_cast<bool>(again));
  CHECK(again->blobs_written == 0);
  CHECK(again->blobs_present == 4);
  CHECK(again->manifest == first->manifest);

  // A changed cache writes only its new blobs and drops the ones nothing needs.
  CacheConfigBuilder b2;
  b2.add_record(Digest::of("a"), {base, two});
  auto third = export_cache_local(*content, b2.build(), out);
  REQUIRE(static_cast<bool>(third));
  CHECK(third->blobs_written == 3);  // layer two, config, manifest
  CHECK(third->blobs_removed == 3);  // layer one, old config, old manifest
  CHECK(!fs::exists(out + "/blobs/sha256/" + one.blob.digest.hex()));
  CHECK(fs::exists(out + "/blobs/sha256/" + base.blob.digest.hex()));

  // Another tag in the same directory keeps its blobs.
  auto tagged = export_cache_local(*content, b.build(), out, "other");
  REQUIRE(static_cast<bool>(tagged));
  CHECK(fs::exists(out + "/blobs/sha256/" + one.blob.digest.hex()));
  CHECK(fs::exists(out + "/blobs/sha256/" + two.blob.digest.hex()));

  // The importer reads only the config, then fetches blobs (verified) on demand.
  testutil::TempDir store2("kiln-cache-import-");
  auto content2 = cache::ContentStore::open(store2.path());
  REQUIRE(static_cast<bool>(content2));
  auto source = local_cache_source(out, "latest");
  auto config = source->read_config();
  REQUIRE(static_cast<bool>(config));
  REQUIRE(config->records.size() == 1);
  CHECK(config->records[0].key == Digest::of("a"));
  CHECK(config->layers[config->records[0].layers[1]] == two);
  CHECK(!content2->exists(two.blob.digest));
  REQUIRE(!source->fetch(two.blob, *content2));
  CHECK(content2->exists(two.blob.digest));

  // A blob whose bytes changed is refused and not stored.
  std::string path = out + "/blobs/sha256/" + base.blob.digest.hex();
  REQUIRE(::unlink(path.c_str()) == 0);
  testutil::write_file(path, "tampered!!");
  llvm::Error bad = source->fetch(base.blob, *content2);
  REQUIRE(static_cast<bool>(bad));
  CHECK(llvm::toString(std::move(bad)).find("mismatch") != std::string::npos);
  CHECK(!content2->exists(base.blob.digest));
}

TEST_CASE("an inline cache is a member of the image config", "[exporter][cache]") {
  oci::ImageConfig image;
  image.architecture = "amd64";
  image.os = "linux";
  CacheConfigBuilder b;
  b.add_record(Digest::of("k"), {layer("l", "d")});
  add_inline_cache(image, b.build());
  add_inline_cache(image, b.build());  // replaces, never duplicates
  REQUIRE(image.extra.size() == 1);
  CHECK(image.extra[0].first == "kiln.cache.v1");
  auto parsed = parse_cache_config(image.extra[0].second);
  REQUIRE(static_cast<bool>(parsed));
  CHECK(parsed->records.size() == 1);
  CHECK(oci::to_json(image).find("\"kiln.cache.v1\":{\"version\":1") != std::string::npos);
}

TEST_CASE("the inline caches of two platforms merge into one config with every record",
          "[exporter][cache]") {
  CacheLayer base = layer("base", "base-tar");
  CacheLayer amd = layer("run-amd64", "run-amd64-tar");
  CacheLayer arm = layer("run-arm64", "run-arm64-tar");
  CacheConfigBuilder a;
  a.add_record(Digest::of("base"), {base});
  a.add_record(Digest::of("run-amd64"), {base, amd});
  a.set_steps(R"([{"name":"amd64"}])");
  CacheConfigBuilder b;
  b.add_record(Digest::of("base"), {base});
  b.add_record(Digest::of("run-arm64"), {base, arm});
  b.add_mount("ccache", arm);
  b.set_steps(R"([{"name":"arm64"}])");
  CacheConfig merged = merge_cache_configs({a.build(), b.build()});
  REQUIRE(merged.records.size() == 3);
  CHECK(merged.layers.size() == 3);  // base once
  for (const auto& r : merged.records) {
    REQUIRE(!r.layers.empty());
    CHECK(merged.layers[r.layers[0]] == base);
    if (r.key == Digest::of("run-arm64")) {
      REQUIRE(r.layers.size() == 2);
      CHECK(merged.layers[r.layers[1]] == arm);
    }
  }
  REQUIRE(merged.mounts.size() == 1);
  CHECK(merged.layers[merged.mounts[0].layer] == arm);
  CHECK(merged.steps == R"([{"name":"amd64"},{"name":"arm64"}])");
  // The merged config survives its own JSON.
  auto parsed = parse_cache_config(to_json(merged));
  REQUIRE(static_cast<bool>(parsed));
  CHECK(*parsed == merged);
}
