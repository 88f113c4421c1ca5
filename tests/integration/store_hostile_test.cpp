// Hostile archives through `kiln load` and `kiln import`: each is rejected with an
// exact message naming the entry, and the store is left as it was.

#include <archive.h>
#include <archive_entry.h>
#include <sys/stat.h>

#include <algorithm>

#include <catch2/catch.hpp>

#include "support/digest.h"
#include "tests/testutil/testutil.h"

using kiln::testutil::Output;
using kiln::testutil::run;
using kiln::testutil::TempDir;

namespace {

struct Entry {
  std::string name;
  char type = 'f';   // f file, d dir, l symlink, h hard link, c char device
  std::string data;  // file content, or the link target
};

std::string write_tar(const std::vector<Entry>& entries) {
  std::string out;
  archive* a = archive_write_new();
  archive_write_set_format_pax_restricted(a);
  archive_write_set_bytes_in_last_block(a, 1);
  archive_write_open(
      a, &out, nullptr,
      [](archive*, void* ctx, const void* buf, size_t n) -> la_ssize_t {
        static_cast<std::string*>(ctx)->append(static_cast<const char*>(buf), n);
        return static_cast<la_ssize_t>(n);
      },
      nullptr);
  for (const Entry& e : entries) {
    archive_entry* entry = archive_entry_new();
    archive_entry_set_pathname(entry, e.name.c_str());
    archive_entry_set_perm(entry, 0644);
    switch (e.type) {
      case 'd':
        archive_entry_set_filetype(entry, AE_IFDIR);
        break;
      case 'l':
        archive_entry_set_filetype(entry, AE_IFLNK);
        archive_entry_set_symlink(entry, e.data.c_str());
        break;
      case 'h':
        archive_entry_set_filetype(entry, AE_IFREG);
        archive_entry_set_hardlink(entry, e.data.c_str());
        break;
      case 'c':
        archive_entry_set_filetype(entry, AE_IFCHR);
        archive_entry_set_rdevmajor(entry, 1);
        archive_entry_set_rdevminor(entry, 3);
        break;
      default:
        archive_entry_set_filetype(entry, AE_IFREG);
        archive_entry_set_size(entry, static_cast<la_int64_t>(e.data.size()));
    }
    archive_write_header(a, entry);
    if (e.type == 'f') {
      archive_write_data(a, e.data.data(), e.data.size());
    }
    archive_entry_free(entry);
  }
  archive_write_close(a);
  archive_write_free(a);
  return out;
}

// The regular files and directories of a tar, in order.
std::vector<Entry> read_tar(const std::string& bytes) {
  std::vector<Entry> out;
  archive* a = archive_read_new();
  archive_read_support_format_tar(a);
  archive_read_open_memory(a, bytes.data(), bytes.size());
  archive_entry* entry = nullptr;
  while (archive_read_next_header(a, &entry) == ARCHIVE_OK) {
    Entry e{archive_entry_pathname(entry), archive_entry_filetype(entry) == AE_IFDIR ? 'd' : 'f',
            ""};
    char buf[65536];
    la_ssize_t n;
    while ((n = archive_read_data(a, buf, sizeof(buf))) > 0) {
      e.data.append(buf, static_cast<size_t>(n));
    }
    out.push_back(std::move(e));
  }
  archive_read_free(a);
  return out;
}

std::string kiln_ok(const std::string& root, const std::vector<std::string>& args) {
  Output o = kiln::testutil::kiln(root, args);
  INFO(o.err);
  REQUIRE(o.exit_code == 0);
  return o.out;
}

// What a store holds: blob names, temp files and the image tables.
std::string store_state(const std::string& root) {
  Output db = run({"sqlite3", root + "/kiln.db",
                   "SELECT * FROM image_names ORDER BY name; "
                   "SELECT digest, config, size FROM manifests ORDER BY digest; "
                   "SELECT * FROM blob_refs ORDER BY manifest, blob;"});
  REQUIRE(db.exit_code == 0);
  return run({"ls", root + "/blobs/sha256"}).out + run({"ls", "-A", root + "/tmp"}).out + db.out;
}

// A store holding busybox:1 and the docker-archive of it, as entries.
struct Fixture {
  TempDir dir;
  std::string root = dir / "root";
  std::vector<Entry> archive;
  std::string layer_entry;  // "blobs/sha256/<hex>" of the layer
  std::string manifest;     // "sha256:<hex>" of the manifest

  Fixture() {
    kiln::testutil::make_busybox_rootfs(dir / "rootfs");
    kiln::testutil::tar_directory(dir / "rootfs", dir / "rootfs.tar");
    kiln_ok(root, {"import", dir / "rootfs.tar", "busybox:1"});
    archive = read_tar(kiln_ok(root, {"save", "busybox:1"}));
    std::string images = kiln_ok(root, {"images", "--digests"});
    manifest = images.substr(images.find("sha256:"), 71);
    for (const Entry& e : archive) {
      if (e.type == 'f' && e.data.size() > 100000) {
        layer_entry = e.name;
      }
    }
  }

  // Runs `kiln load` on `entries`; requires failure and an unchanged store.
  std::string load_error(const std::vector<Entry>& entries) {
    return load_bytes_error(write_tar(entries));
  }
  std::string load_bytes_error(const std::string& bytes) {
    std::string before = store_state(root);
    Output o = kiln::testutil::kiln(root, {"load"}, bytes);
    CHECK(o.exit_code == 1);
    CHECK(o.out == "");
    CHECK(store_state(root) == before);
    return o.err;
  }
  std::string import_error(const std::vector<Entry>& entries) {
    std::string before = store_state(root);
    Output o = kiln::testutil::kiln(root, {"import", "-", "evil:1"}, write_tar(entries));
    CHECK(o.exit_code == 1);
    CHECK(o.out == "");
    CHECK(store_state(root) == before);
    return o.err;
  }
};

}  // namespace

TEST_CASE("load rejects hostile archives and stores nothing", "[integration][hostile]") {
  Fixture f;
  REQUIRE(!f.layer_entry.empty());
  std::string layer_hex = f.layer_entry.substr(13);

  auto escaping = f.archive;
  escaping.push_back({"../evil", 'f', "x"});
  CHECK(f.load_error(escaping) == "error: load: entry '../evil': path escapes the archive\n");

  auto absolute = f.archive;
  absolute.insert(absolute.begin(), {"/etc/evil", 'f', "x"});
  CHECK(f.load_error(absolute) == "error: load: entry '/etc/evil': absolute path\n");

  auto lying = f.archive;
  std::string changed;
  for (Entry& e : lying) {
    if (e.name == f.layer_entry) {
      e.data[e.data.size() / 2] ^= 0x55;
      changed = e.data;
    }
  }
  CHECK(f.load_error(lying) == "error: load: entry '" + f.layer_entry + "': content digest is '" +
                                   kiln::Digest::of(changed).str() + "'\n");

  auto missing = f.archive;
  std::erase_if(missing, [&](const Entry& e) { return e.name == f.layer_entry; });
  CHECK(f.load_error(missing) == "error: load: index.json: manifest '" + f.manifest +
                                     "': layer 'sha256:" + layer_hex +
                                     "': missing from the archive\n");

  auto garbage = f.archive;
  std::erase_if(garbage, [](const Entry& e) { return e.name == "index.json"; });
  for (Entry& e : garbage) {
    if (e.name == "manifest.json") {
      e.data = "[{\"Config\": ";
    }
  }
  CHECK_THAT(f.load_error(garbage),
             Catch::StartsWith("error: load: manifest.json: malformed JSON"));

  auto linked = f.archive;
  linked.push_back({"blobs/sha256/passwd", 'l', "/etc/passwd"});
  CHECK(f.load_error(linked) ==
        "error: load: entry 'blobs/sha256/passwd': link target '/etc/passwd' is absolute\n");

  std::string whole = write_tar(f.archive);
  CHECK(f.load_bytes_error(whole.substr(0, whole.size() / 2)) ==
        "error: load: entry '" + f.layer_entry + "': truncated archive\n");
  CHECK(f.load_bytes_error(std::string(5000, 'z')) == "error: load: not a tar archive\n");
}

TEST_CASE("import rejects hostile rootfs tarballs and stores nothing", "[integration][hostile]") {
  Fixture f;
  CHECK(f.import_error({{"ok", 'f', "x"}, {"../x", 'f', "x"}}) ==
        "error: import: entry '../x': path escapes the root filesystem\n");
  CHECK(f.import_error({{"a/../../x", 'f', "x"}}) ==
        "error: import: entry 'a/../../x': path escapes the root filesystem\n");
  CHECK(f.import_error({{"/etc/passwd", 'f', "x"}}) ==
        "error: import: entry '/etc/passwd': absolute path\n");
  CHECK(f.import_error({{"a", 'l', "/etc"}, {"a/passwd", 'f', "x"}}) ==
        "error: import: entry 'a/passwd': parent 'a' is a symlink\n");
  CHECK(f.import_error({{"dev", 'd', ""}, {"dev/null", 'c', ""}}) ==
        "error: import: entry 'dev/null': device nodes are not allowed\n");
  CHECK(f.import_error({{"x", 'h', "../../etc/shadow"}}) ==
        "error: import: entry 'x': link target '../../etc/shadow' escapes the root "
        "filesystem\n");
  CHECK(f.import_error({{"a", 'l', "/etc"}, {"x", 'h', "a/shadow"}}) ==
        "error: import: entry 'x': parent 'a' is a symlink\n");
  std::string before = store_state(f.root);
  Output o = kiln::testutil::kiln(f.root, {"import", "-"}, std::string(3000, 'z'));
  CHECK(o.exit_code == 1);
  CHECK(o.err == "error: import: invalid tar: Unrecognized archive format\n");
  CHECK(store_state(f.root) == before);
}

TEST_CASE("import reads gzip, xz and zstd tarballs to the same layer", "[integration][hostile]") {
  Fixture f;
  std::string id = kiln_ok(f.root, {"inspect", "--", "busybox:1"});
  std::vector<std::string> diff_ids;
  for (std::string tool : {"gzip", "xz", "zstd"}) {
    INFO(tool);
    run({"sh", "-c", tool + " -c < " + f.dir / "rootfs.tar" + " > " + f.dir / "rootfs.z"});
    kiln_ok(f.root, {"import", f.dir / "rootfs.z", "packed:" + tool});
    std::string out = kiln_ok(f.root, {"inspect", "packed:" + tool});
    diff_ids.push_back(out.substr(out.find("\"Layers\"")));
  }
  CHECK(diff_ids[0] == diff_ids[1]);
  CHECK(diff_ids[0] == diff_ids[2]);
  CHECK(id.find(diff_ids[0]) != std::string::npos);
}

namespace {

// A gzip layer: a tar holding one file of `size` zero bytes (a decompression bomb
// when large: gzip shrinks zeros about 1000 times).
std::string zero_layer(size_t size) {
  std::string out;
  archive* a = archive_write_new();
  archive_write_set_format_pax_restricted(a);
  archive_write_add_filter_gzip(a);
  archive_write_set_filter_option(a, "gzip", "compression-level", "9");
  archive_write_open(
      a, &out, nullptr,
      [](archive*, void* ctx, const void* buf, size_t n) -> la_ssize_t {
        static_cast<std::string*>(ctx)->append(static_cast<const char*>(buf), n);
        return static_cast<la_ssize_t>(n);
      },
      nullptr);
  archive_entry* entry = archive_entry_new();
  archive_entry_set_pathname(entry, "zeros");
  archive_entry_set_filetype(entry, AE_IFREG);
  archive_entry_set_perm(entry, 0644);
  archive_entry_set_size(entry, static_cast<la_int64_t>(size));
  archive_write_header(a, entry);
  std::string chunk(1 << 20, '\0');
  for (size_t done = 0; done < size; done += chunk.size()) {
    archive_write_data(a, chunk.data(), std::min(chunk.size(), size - done));
  }
  archive_entry_free(entry);
  archive_write_close(a);
  archive_write_free(a);
  return out;
}

// The sha256 of the gunzipped `blob`.
std::string gunzip_digest(const std::string& blob) {
  std::string out;
  archive* a = archive_read_new();
  archive_read_support_filter_gzip(a);
  archive_read_support_format_raw(a);
  archive_read_open_memory(a, blob.data(), blob.size());
  archive_entry* entry = nullptr;
  REQUIRE(archive_read_next_header(a, &entry) == ARCHIVE_OK);
  char buf[65536];
  la_ssize_t n;
  while ((n = archive_read_data(a, buf, sizeof(buf))) > 0) {
    out.append(buf, static_cast<size_t>(n));
  }
  archive_read_free(a);
  return kiln::Digest::of(out).str();
}

// A legacy docker-archive of one image: `layer` and a config listing `diff_ids`.
std::vector<Entry> docker_archive(const std::string& layer, const std::string& diff_ids) {
  std::string config = R"({"architecture":"amd64","os":"linux","rootfs":{"type":"layers",)"
                       R"("diff_ids":[)" +
                       diff_ids + "]}}";
  return {{"manifest.json", 'f',
           R"([{"Config":"config.json","RepoTags":["evil:1"],"Layers":["layer.tar.gz"]}])"},
          {"config.json", 'f', config},
          {"layer.tar.gz", 'f', layer}};
}

}  // namespace

TEST_CASE("load checks the config's diff IDs against the layers", "[integration][hostile]") {
  Fixture f;
  std::string layer = zero_layer(1000);
  std::string real = gunzip_digest(layer);
  std::string wrong = "sha256:" + std::string(64, 'b');
  auto lying = docker_archive(layer, "\"" + wrong + "\"");
  std::string config_id = kiln::Digest::of(lying[1].data).str();
  std::string layer_id = kiln::Digest::of(layer).str();
  CHECK(f.load_error(lying) == "error: load: image '" + config_id + "': layer '" + layer_id +
                                   "': diff ID is '" + real + "', the config says '" + wrong +
                                   "'\n");
  auto short_list = docker_archive(layer, "");
  CHECK(f.load_error(short_list) ==
        "error: load: manifest.json: image 0: config has 0 diff_ids for 1 layers\n");
  // The same archive with the right diff ID loads.
  Output o =
      kiln::testutil::kiln(f.root, {"load"}, write_tar(docker_archive(layer, "\"" + real + "\"")));
  INFO(o.err);
  CHECK(o.exit_code == 0);
}

TEST_CASE("load stops a layer that inflates past the limits", "[integration][hostile]") {
  Fixture f;
  std::string bomb = zero_layer(size_t{300} << 20);
  REQUIRE(bomb.size() < (1 << 20));
  std::string real = gunzip_digest(bomb);
  auto archive = docker_archive(bomb, "\"" + real + "\"");
  std::string config_id = kiln::Digest::of(archive[1].data).str();
  CHECK(f.load_error(archive) ==
        "error: load: image '" + config_id + "': layer '" + kiln::Digest::of(bomb).str() +
            "': decompress: layer inflates to more than 67108864 bytes (limits: "
            "KILN_LAYER_MAX_RATIO=200 times the compressed size of " +
            std::to_string(bomb.size()) + " bytes, KILN_LAYER_MAX_SIZE=0)\n");
  // The limits are the user's to raise.
  std::string tar = f.dir / "bomb.tar";
  kiln::testutil::write_file(tar, write_tar(archive));
  Output o =
      run({KILN_BINARY, "--root", f.root, "load", "-i", tar}, "", {"KILN_LAYER_MAX_RATIO=0"});
  INFO(o.err);
  CHECK(o.exit_code == 0);
}
