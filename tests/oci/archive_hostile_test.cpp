// Hostile archives: each is rejected with a message naming the entry, and nothing
// reaches the sink.

#include <functional>
#include <random>
#include <string>

#include <catch2/catch.hpp>

#include "oci/archive_reader.h"
#include "tests/oci/archive_fixture.h"

using namespace kiln;
using namespace kiln::oci;
using namespace kiln::oci::testing;

namespace {

// A valid OCI layout of a tiny image, entry by entry, for tests to spoil.
struct Layout {
  MemoryStore store;
  TinyImage img = make_tiny_image(store);
  std::string index_json;

  Layout() {
    Index index;
    Descriptor d = img.manifest_desc;
    d.annotations[annotation::kRefName.str()] = "docker.io/library/app:1";
    index.manifests.push_back(d);
    index_json = to_json(index);
  }
  std::string blob(llvm::StringRef bytes) { return "blobs/sha256/" + Digest::of(bytes).hex(); }
  TarBuilder& add_blobs(TarBuilder& tar) {
    return tar.file(blob(img.manifest), img.manifest)
        .file(blob(img.config), img.config)
        .file(blob(img.layer_gz), img.layer_gz);
  }
  TarBuilder& add_all(TarBuilder& tar) {
    return add_blobs(tar).file("index.json", index_json).file("oci-layout", "{}");
  }
};

// Reads `tar` and returns the error message; checks nothing was committed.
std::string rejected(const std::string& tar) {
  MemoryStore sink;
  auto result = read_from_string(tar, sink);
  REQUIRE(!result);
  CHECK(sink.blobs.empty());
  CHECK(sink.writers_alive == 0);
  return error_message(result.takeError());
}

}  // namespace

TEST_CASE("hostile: the valid base layout loads", "[archive][hostile]") {
  Layout l;
  TarBuilder tar;
  MemoryStore sink;
  auto result = read_from_string(l.add_all(tar).finish(), sink);
  REQUIRE(ok(std::move(result)).size() == 1);
  CHECK(sink.blobs.size() == 3);
}

TEST_CASE("hostile: entry with '..' escapes", "[archive][hostile]") {
  Layout l;
  TarBuilder tar;
  l.add_all(tar).file("../x", "boom");
  CHECK(rejected(tar.finish()) == "entry '../x': path escapes the archive");
}

TEST_CASE("hostile: '..' in the middle of a name", "[archive][hostile]") {
  TarBuilder tar;
  tar.file("blobs/../../x", "boom");
  CHECK(rejected(tar.finish()) == "entry 'blobs/../../x': path escapes the archive");
}

TEST_CASE("hostile: absolute entry name", "[archive][hostile]") {
  Layout l;
  TarBuilder tar;
  l.add_all(tar).file("/etc/cron.d/x", "boom");
  CHECK(rejected(tar.finish()) == "entry '/etc/cron.d/x': absolute path");
}

TEST_CASE("hostile: entry under a symlinked parent", "[archive][hostile]") {
  TarBuilder tar;
  tar.symlink("x", "blobs").file("x/sha256/abc", "boom");
  CHECK(rejected(tar.finish()) == "entry 'x/sha256/abc': parent 'x' is a link");
}

TEST_CASE("hostile: symlink after an entry below it", "[archive][hostile]") {
  TarBuilder tar;
  tar.file("x/y", "boom").symlink("x", "blobs");
  CHECK(rejected(tar.finish()) == "entry 'x': duplicate entry");
}

TEST_CASE("hostile: symlink escaping the archive", "[archive][hostile]") {
  TarBuilder tar;
  tar.symlink("a/bad", "../../etc/passwd");
  CHECK(rejected(tar.finish()) ==
        "entry 'a/bad': link target '../../etc/passwd' escapes the archive");
}

TEST_CASE("hostile: absolute symlink", "[archive][hostile]") {
  TarBuilder tar;
  tar.symlink("bad", "/etc/passwd");
  CHECK(rejected(tar.finish()) == "entry 'bad': link target '/etc/passwd' is absolute");
}

TEST_CASE("hostile: hard link escaping the archive", "[archive][hostile]") {
  TarBuilder tar;
  tar.hardlink("h", "../x");
  CHECK(rejected(tar.finish()) == "entry 'h': link target '../x' escapes the archive");
}

TEST_CASE("hostile: device node", "[archive][hostile]") {
  Layout l;
  TarBuilder tar;
  l.add_all(tar).device("dev/null");
  CHECK(rejected(tar.finish()) == "entry 'dev/null': device files are not allowed");
}

TEST_CASE("hostile: fifo", "[archive][hostile]") {
  TarBuilder tar;
  tar.fifo("p");
  CHECK(rejected(tar.finish()) == "entry 'p': unsupported file type");
}

TEST_CASE("hostile: duplicate entry", "[archive][hostile]") {
  Layout l;
  TarBuilder tar;
  l.add_all(tar).file("index.json", l.index_json);
  CHECK(rejected(tar.finish()) == "entry 'index.json': duplicate entry");
}

TEST_CASE("hostile: blob whose content lies about its digest", "[archive][hostile]") {
  Layout l;
  TarBuilder tar;
  std::string name = l.blob(l.img.layer_gz);
  tar.file(name, "not the layer");
  CHECK(rejected(tar.finish()) ==
        "entry '" + name + "': content digest is '" + Digest::of("not the layer").str() + "'");
}

TEST_CASE("hostile: blob name that is not a digest", "[archive][hostile]") {
  TarBuilder tar;
  tar.file("blobs/sha256/zz", "x");
  CHECK(rejected(tar.finish()) == "entry 'blobs/sha256/zz': not a sha256 blob name");
}

TEST_CASE("hostile: descriptor size lies", "[archive][hostile]") {
  Layout l;
  Manifest m = ok(parse_manifest(l.img.manifest));
  m.layers[0].size += 1;
  std::string manifest = to_json(m);
  Index index;
  index.manifests.push_back(describe(media_type::kOciManifest, manifest));
  TarBuilder tar;
  l.add_blobs(tar).file(l.blob(manifest), manifest).file("index.json", to_json(index));
  CHECK(rejected(tar.finish()) == "index.json: manifest '" + Digest::of(manifest).str() +
                                      "': layer '" + m.layers[0].digest.str() + "': size is " +
                                      std::to_string(l.img.layer_gz.size()) + ", descriptor says " +
                                      std::to_string(m.layers[0].size));
}

TEST_CASE("hostile: manifest references a missing layer", "[archive][hostile]") {
  Layout l;
  TarBuilder tar;
  tar.file(l.blob(l.img.manifest), l.img.manifest)
      .file(l.blob(l.img.config), l.img.config)
      .file("index.json", l.index_json);
  CHECK(rejected(tar.finish()) == "index.json: manifest '" + l.img.manifest_desc.digest.str() +
                                      "': layer '" + Digest::of(l.img.layer_gz).str() +
                                      "': missing from the archive");
}

TEST_CASE("hostile: index references a missing manifest", "[archive][hostile]") {
  Layout l;
  TarBuilder tar;
  tar.file("index.json", l.index_json);
  CHECK(rejected(tar.finish()) == "index.json: manifest '" + l.img.manifest_desc.digest.str() +
                                      "': missing from the archive");
}

TEST_CASE("hostile: config that is not JSON", "[archive][hostile]") {
  Layout l;
  Manifest m = ok(parse_manifest(l.img.manifest));
  std::string config = "\x01garbage";
  m.config = describe(media_type::kOciConfig, config);
  std::string manifest = to_json(m);
  Index index;
  index.manifests.push_back(describe(media_type::kOciManifest, manifest));
  TarBuilder tar;
  tar.file(l.blob(config), config)
      .file(l.blob(manifest), manifest)
      .file(l.blob(l.img.layer_gz), l.img.layer_gz)
      .file("index.json", to_json(index));
  CHECK(rejected(tar.finish()) == "index.json: manifest '" + Digest::of(manifest).str() +
                                      "': config '" + m.config.digest.str() +
                                      "': not a JSON document");
}

TEST_CASE("hostile: index.json garbage", "[archive][hostile]") {
  TarBuilder tar;
  tar.file("index.json", "{\"schemaVersion\":2,");
  CHECK(rejected(tar.finish()) ==
        "index.json: invalid index: malformed JSON: [json.exception.parse_error.101] parse "
        "error at line 1, column 20: syntax error while parsing object key - unexpected "
        "end of input; expected string literal");
}

TEST_CASE("hostile: manifest.json garbage", "[archive][hostile]") {
  TarBuilder tar;
  tar.file("manifest.json", "[{\"Config\":5}]");
  CHECK(rejected(tar.finish()) == "manifest.json: image 0: 'Config': expected a string");
}

TEST_CASE("hostile: manifest.json references a missing layer", "[archive][hostile]") {
  Layout l;
  std::string config_name = Digest::of(l.img.config).hex() + ".json";
  TarBuilder tar;
  tar.file(config_name, l.img.config)
      .file("manifest.json",
            R"([{"Config":")" + config_name + R"(","RepoTags":null,"Layers":["x/layer.tar"]}])");
  CHECK(rejected(tar.finish()) ==
        "manifest.json: image 0: entry 'x/layer.tar': missing from the archive");
}

TEST_CASE("hostile: manifest.json layer count differs from diff_ids", "[archive][hostile]") {
  Layout l;
  std::string config_name = Digest::of(l.img.config).hex() + ".json";
  TarBuilder tar;
  tar.file(config_name, l.img.config)
      .file("manifest.json", R"([{"Config":")" + config_name + R"(","Layers":[]}])");
  CHECK(rejected(tar.finish()) == "manifest.json: image 0: config has 1 diff_ids for 0 layers");
}

TEST_CASE("hostile: link loop", "[archive][hostile]") {
  Layout l;
  std::string config_name = Digest::of(l.img.config).hex() + ".json";
  TarBuilder tar;
  tar.file(config_name, l.img.config)
      .symlink("a", "b")
      .symlink("b", "a")
      .file("manifest.json", R"([{"Config":")" + config_name + R"(","Layers":["a"]}])");
  CHECK(rejected(tar.finish()) == "manifest.json: image 0: entry 'a': too many levels of links");
}

TEST_CASE("hostile: invalid repo tag", "[archive][hostile]") {
  Layout l;
  std::string config_name = Digest::of(l.img.config).hex() + ".json";
  TarBuilder tar;
  tar.file(config_name, l.img.config)
      .file("manifest.json",
            R"([{"Config":")" + config_name + R"(","RepoTags":["Bad:1"],"Layers":[]}])");
  CHECK(rejected(tar.finish()) ==
        "manifest.json: image 0: repo tag 'Bad:1': invalid reference format: repository name "
        "(library/Bad) must be lowercase");
}

TEST_CASE("hostile: truncated tar", "[archive][hostile]") {
  Layout l;
  TarBuilder tar;
  std::string whole = l.add_all(tar).finish();
  // Cut inside the first blob's data (after its 512-byte header).
  std::string first_blob = whole.substr(0, 100);
  CHECK(rejected(whole.substr(0, 600)) ==
        "entry '" + std::string(first_blob.c_str()) + "': truncated archive");
  // Cut exactly after the first entry: libarchive accepts a missing end-of-archive
  // marker, so the archive is rejected for what it lacks.
  CHECK(rejected(whole.substr(0, 1024)) == "no manifest.json or index.json in the archive");
}

TEST_CASE("hostile: not a tar", "[archive][hostile]") {
  std::string junk;
  for (int i = 0; i < 100; ++i) {
    junk += "this is not a tar archive at all\n";
  }
  CHECK(rejected(junk) == "not a tar archive");
}

TEST_CASE("hostile: empty input", "[archive][hostile]") {
  CHECK(rejected("") == "not a tar archive");
}

TEST_CASE("hostile: tar without image metadata", "[archive][hostile]") {
  TarBuilder tar;
  tar.file("hello.txt", "hi");
  CHECK(rejected(tar.finish()) == "no manifest.json or index.json in the archive");
}

TEST_CASE("hostile: entry under a file", "[archive][hostile]") {
  TarBuilder tar;
  tar.file("a", "x").file("a/b", "y");
  CHECK(rejected(tar.finish()) == "entry 'a/b': parent 'a' is a file");
}

TEST_CASE("hostile: hard link aliases resolve, once validated", "[archive][hostile]") {
  Layout l;
  std::string config_name = Digest::of(l.img.config).hex() + ".json";
  TarBuilder tar;
  tar.file("aaa/layer.tar", l.img.layer_tar)
      .hardlink("bbb/layer.tar", "aaa/layer.tar")
      .file(config_name, l.img.config)
      .file("manifest.json", R"([{"Config":")" + config_name + R"(","Layers":["bbb/layer.tar"]}])");
  MemoryStore sink;
  auto result = ok(read_from_string(tar.finish(), sink));
  REQUIRE(result.size() == 1);
  CHECK(ok(parse_manifest(result[0].manifest_bytes)).layers.at(0).digest ==
        Digest::of(l.img.layer_tar));
}

TEST_CASE("hostile: random corruption never commits a rejected archive", "[archive][hostile]") {
  Layout l;
  TarBuilder tar;
  std::string valid = l.add_all(tar).finish();
  std::mt19937 rng(7);
  int rejected_count = 0;
  for (int i = 0; i < 300; ++i) {
    std::string bad = valid;
    if (i % 3 == 0) {
      bad.resize(rng() % bad.size());
    } else {
      for (int flips = 0; flips < 1 + i % 4; ++flips) {
        bad[rng() % bad.size()] ^= static_cast<char>(1 + rng() % 255);
      }
    }
    MemoryStore sink;
    auto result = read_from_string(bad, sink);
    if (!result) {
      ++rejected_count;
      llvm::consumeError(result.takeError());
      CHECK(sink.blobs.empty());
    }
    CHECK(sink.writers_alive == 0);
  }
  CHECK(rejected_count > 100);
}
