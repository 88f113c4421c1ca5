// The differential conformance suite, offline half: every case under
// tests/conformance/cases is built by kiln on the busybox base and its flattened
// image (files and config) must equal the case's expected.json, which
// scripts/conformance --update writes from BuildKit's own result.
#include <catch2/catch.hpp>

#include <archive.h>
#include <archive_entry.h>

#include <clocale>
#include <iostream>

#include "support/digest.h"
#include "tests/conformance/cases.h"
#include "tests/conformance/flatten.h"
#include "tests/testutil/testutil.h"

namespace kiln::conformance {
namespace {

using testutil::TempDir;

const std::string kCases = std::string(KILN_SOURCE_DIR) + "/tests/conformance/cases";

/// Writes a docker-archive with the given layer tars (already built) and config.
void write_docker_archive(const std::string& path, const std::vector<std::string>& layers,
                          const nlohmann::json& config) {
  archive* a = archive_write_new();
  archive_write_set_format_pax_restricted(a);
  REQUIRE(archive_write_open_filename(a, path.c_str()) == ARCHIVE_OK);
  auto add = [&](const std::string& name, const std::string& data) {
    archive_entry* e = archive_entry_new();
    archive_entry_set_pathname(e, name.c_str());
    archive_entry_set_filetype(e, AE_IFREG);
    archive_entry_set_perm(e, 0644);
    archive_entry_set_size(e, static_cast<la_int64_t>(data.size()));
    archive_write_header(a, e);
    archive_write_data(a, data.data(), data.size());
    archive_entry_free(e);
  };
  nlohmann::json manifest = nlohmann::json::array();
  nlohmann::json m = {{"Config", "config.json"}, {"Layers", nlohmann::json::array()}};
  for (size_t i = 0; i < layers.size(); ++i) {
    std::string name = "l" + std::to_string(i) + "/layer.tar";
    add(name, layers[i]);
    m["Layers"].push_back(name);
  }
  manifest.push_back(m);
  add("config.json", config.dump());
  add("manifest.json", manifest.dump());
  archive_write_close(a);
  archive_write_free(a);
}

struct TarEntry {
  std::string path;
  unsigned type;
  unsigned mode;
  std::string data;  // file content, symlink target, or hard link source
};

std::string make_tar(const std::vector<TarEntry>& entries) {
  std::vector<char> buf(1 << 20);
  size_t used = 0;
  archive* a = archive_write_new();
  archive_write_set_format_pax_restricted(a);
  archive_write_open_memory(a, buf.data(), buf.size(), &used);
  for (const auto& t : entries) {
    archive_entry* e = archive_entry_new();
    archive_entry_set_pathname(e, t.path.c_str());
    if (t.type == 0) {
      archive_entry_set_filetype(e, AE_IFREG);
      archive_entry_set_hardlink(e, t.data.c_str());
      archive_entry_set_size(e, 0);
    } else {
      archive_entry_set_filetype(e, t.type);
    }
    archive_entry_set_perm(e, t.mode);
    if (t.type == AE_IFLNK) {
      archive_entry_set_symlink(e, t.data.c_str());
    }
    if (t.type == AE_IFREG) {
      archive_entry_set_size(e, static_cast<la_int64_t>(t.data.size()));
    }
    archive_write_header(a, e);
    if (t.type == AE_IFREG) {
      archive_write_data(a, t.data.data(), t.data.size());
    }
    archive_entry_free(e);
  }
  archive_write_close(a);
  archive_write_free(a);
  return std::string(buf.data(), used);
}

}  // namespace

TEST_CASE("flattener applies whiteouts, opaque dirs and hard links") {
  TempDir tmp;
  std::string base_layer = make_tar({{"etc/", AE_IFDIR, 0755, ""},
                                     {"etc/a", AE_IFREG, 0644, "a"},
                                     {"etc/b", AE_IFREG, 0644, "b"},
                                     {"opt/", AE_IFDIR, 0755, ""},
                                     {"opt/x", AE_IFREG, 0600, "x"}});
  std::string top = make_tar({{"etc/.wh.a", AE_IFREG, 0644, ""},
                              {"opt/.wh..wh..opq", AE_IFREG, 0644, ""},
                              {"opt/y", AE_IFREG, 0755, "yy"},
                              {"opt/z", 0, 0755, "opt/y"},
                              {"usr/lib/l", AE_IFLNK, 0777, "../../opt/y"}});
  nlohmann::json config = {{"config", {{"Cmd", {"sh"}}, {"WorkingDir", ""}}},
                           {"history", {{{"created_by", "base"}}, {{"created_by", "top"}}}}};
  write_docker_archive(tmp / "base.tar", {base_layer}, {{"history", {{{"created_by", "base"}}}}});
  write_docker_archive(tmp / "img.tar", {base_layer, top}, config);
  Image base = read_image_tar(tmp / "base.tar");
  Image image = read_image_tar(tmp / "img.tar");
  CHECK(base.files.size() == 5);
  nlohmann::json e = expectation(image, base);
  std::string y = "\"sha256\":\"" + Digest::of("yy").hex() + "\"";
  CHECK(format_expectation(e) ==
        "{\n"
        "  \"config\": {\"Cmd\":[\"sh\"]},\n"
        "  \"history\": [\n"
        "    {\"created_by\":\"top\",\"empty_layer\":false}\n"
        "  ],\n"
        "  \"layers\": 1,\n"
        "  \"files\": {\n"
        "    \"/opt/y\": {\"gid\":0,\"hardlink\":\"/opt/y\",\"mode\":\"0755\"," +
            y +
            ",\"size\":2,\"type\":\"file\",\"uid\":0},\n"
            "    \"/opt/z\": {\"gid\":0,\"hardlink\":\"/opt/y\",\"mode\":\"0755\"," +
            y +
            ",\"size\":2,\"type\":\"file\",\"uid\":0},\n"
            "    \"/usr\": {\"gid\":0,\"mode\":\"0755\",\"type\":\"dir\",\"uid\":0},\n"
            "    \"/usr/lib\": {\"gid\":0,\"mode\":\"0755\",\"type\":\"dir\",\"uid\":0},\n"
            "    \"/usr/lib/l\": {\"gid\":0,\"mode\":\"0777\",\"target\":\"../../opt/y\","
            "\"type\":\"symlink\",\"uid\":0}\n"
            "  },\n"
            "  \"deleted\": [\"/etc/a\",\"/opt/x\"]\n"
            "}\n");
  nlohmann::json other = e;
  other["files"]["/opt/y"]["mode"] = "0700";
  other["config"]["User"] = "app";
  CHECK(diff_expectations(e, other) ==
        std::vector<std::string>{"config.User: expected null, got \"app\"",
                                 "files: /opt/y: mode \"0755\" != \"0700\";"});
}

TEST_CASE("conformance cases build as expected.json says") {
  std::setlocale(LC_ALL, "C.UTF-8");  // libarchive converts non-ASCII names by locale
  TempDir tmp("kiln-conf-");
  std::string root = tmp / "root";
  testutil::make_busybox_rootfs(tmp / "bb");
  testutil::tar_directory(tmp / "bb", tmp / "bb.tar");
  REQUIRE(testutil::kiln(root, {"import", tmp / "bb.tar", "busybox:local"}).exit_code == 0);
  REQUIRE(testutil::kiln(root, {"save", "-o", tmp / "base.tar", "busybox:local"}).exit_code == 0);
  Image base = read_image_tar(tmp / "base.tar");

  auto names = list_cases(kCases);
  REQUIRE(names.size() >= 40);
  size_t same = 0;
  for (const auto& name : names) {
    std::string dir = kCases + "/" + name;
    std::string ctx = tmp / ("ctx-" + name);
    std::string out = tmp / ("out-" + name + ".tar");
    prepare_context(dir, ctx);
    std::vector<std::string> args = {"build", "--progress=plain",    "-f", dir + "/Dockerfile",
                                     "-o",    "type=oci,dest=" + out};
    for (const auto& a : case_args(dir, ctx)) {
      args.push_back(a);
    }
    args.push_back(ctx);
    auto built = testutil::kiln(root, args);
    bool known_bug = !testutil::read_file(dir + "/kiln-differs").empty();
    INFO("case " << name << "\n" << built.err);
    CHECK((built.exit_code == 0 || known_bug));
    if (built.exit_code != 0) {
      continue;
    }
    auto expected_text = testutil::read_file(dir + "/expected.json");
    CHECK_FALSE(expected_text.empty());
    if (expected_text.empty()) {
      continue;
    }
    nlohmann::json actual = expectation(read_image_tar(out), base);
    auto diffs = diff_expectations(nlohmann::json::parse(expected_text), actual);
    std::string text;
    for (const auto& d : diffs) {
      text += "  " + d + "\n";
    }
    std::string known = testutil::read_file(dir + "/kiln-differs");
    if (!known.empty()) {
      WARN("case " << name << ": known kiln bug (kiln-differs): " << known << text);
      continue;
    }
    INFO("differences from expected.json (expected vs kiln):\n" << text);
    CHECK(diffs.empty());
    same += diffs.empty() ? 1 : 0;
  }
  std::cout << "conformance: " << same << "/" << names.size()
            << " cases identical to expected.json\n";
}

}  // namespace kiln::conformance
