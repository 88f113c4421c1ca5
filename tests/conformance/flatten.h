// The conformance suite's oracle side: reads an image tarball (docker-archive as
// `docker save` writes it, or an OCI layout tar), applies its layers in order
// (whiteouts, opaque directories, hard links) into one flat file tree, and turns
// that tree plus the image config into the expectation JSON stored beside each
// case. Deliberately independent of kiln's own oci/ and cache/ code: it judges
// their output.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace kiln::conformance {

/// One path of a flattened file system.
struct Entry {
  std::string type;   ///< dir, file, symlink, char, block, fifo
  unsigned mode = 0;  ///< permission bits incl. setuid/setgid/sticky (07777)
  uint32_t uid = 0;
  uint32_t gid = 0;
  uint64_t size = 0;     ///< files only
  std::string sha256;    ///< files only: hex of the content
  std::string target;    ///< symlinks: the link text
  std::string hardlink;  ///< files in a hard-link group: the group's smallest path
  std::map<std::string, std::string> xattrs;  ///< name → hex of the value
  int group = -1;                             ///< hard-link group while flattening
};

/// A flattened image: config JSON ("config" object of the image config), its
/// history array and the file tree keyed by absolute path ("/etc/passwd").
struct Image {
  nlohmann::json config = nlohmann::json::object();
  nlohmann::json history = nlohmann::json::array();
  size_t layers = 0;
  std::map<std::string, Entry> files;
};

/// Reads a docker-archive or OCI-layout tarball at `path` (first image).
/// Throws std::runtime_error on unreadable input.
Image read_image_tar(const std::string& path);

/// The expectation JSON of `image` relative to `base`: the config fields a
/// Dockerfile can set, history entries past the base's, paths that differ from
/// the base (or are new) and base paths that are gone.
nlohmann::json expectation(const Image& image, const Image& base);

/// Stable text form of an expectation: sorted keys, one path per line.
std::string format_expectation(const nlohmann::json& expectation);

/// Human-readable differences between two expectations ("files: /a: mode 0644 !=
/// 0755"); empty when they are identical.
std::vector<std::string> diff_expectations(const nlohmann::json& expected,
                                           const nlohmann::json& actual);

}  // namespace kiln::conformance
