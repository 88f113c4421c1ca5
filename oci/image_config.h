// The image config (application/vnd.oci.image.config.v1+json and Docker's
// application/vnd.docker.container.image.v1+json) with a lossless JSON round trip.
//
// Fields kiln does not model are kept as raw JSON in `extra` (in their original
// order) and written back after the known fields, so parse → to_json keeps them.
// An image ID is the digest of the config BYTES: keep the bytes of a stored config
// and never re-serialize it to compute an ID.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <llvm/ADT/StringRef.h>
#include <llvm/Support/Error.h>

#include "support/digest.h"

namespace kiln::oci {

/// Unknown JSON members: (key, raw JSON value) in document order.
using ExtraFields = std::vector<std::pair<std::string, std::string>>;

/// HEALTHCHECK settings. Durations are nanoseconds as in docker's JSON; 0 = unset.
struct Healthcheck {
  std::vector<std::string> test;  // {"NONE"}, {"CMD", ...} or {"CMD-SHELL", cmd}
  int64_t interval = 0;
  int64_t timeout = 0;
  int64_t start_period = 0;
  int64_t start_interval = 0;
  int retries = 0;

  bool operator==(const Healthcheck&) const = default;
};

/// The "config" object: how to run a container from the image. Empty values are
/// omitted on output (Go's omitempty), so an explicitly empty or null list in the
/// input reads back as unset.
struct ContainerConfig {
  std::string user;
  std::vector<std::string> exposed_ports;  // "80/tcp", sorted on output
  std::vector<std::string> env;            // "KEY=value" in order
  std::vector<std::string> entrypoint;
  std::vector<std::string> cmd;
  std::vector<std::string> volumes;  // paths, sorted on output
  std::string working_dir;
  std::map<std::string, std::string> labels;
  std::string stop_signal;
  bool args_escaped = false;
  std::optional<Healthcheck> healthcheck;
  std::vector<std::string> on_build;
  std::vector<std::string> shell;
  ExtraFields extra;

  bool operator==(const ContainerConfig&) const = default;
};

/// One entry of the image history.
struct HistoryEntry {
  std::string created;  // RFC 3339, may be empty
  std::string created_by;
  std::string author;
  std::string comment;
  bool empty_layer = false;
  ExtraFields extra;

  bool operator==(const HistoryEntry&) const = default;
};

/// The image config document.
struct ImageConfig {
  std::string created;  // RFC 3339 as written (kept verbatim), may be empty
  std::string author;
  std::string architecture;
  std::string os;
  std::string os_version;
  std::vector<std::string> os_features;
  std::string variant;
  ContainerConfig config;
  std::string rootfs_type = "layers";
  std::vector<Digest> diff_ids;  // uncompressed layer digests, base first
  std::vector<HistoryEntry> history;
  ExtraFields extra;

  bool operator==(const ImageConfig&) const = default;
};

/// Parses a config. Fails on malformed JSON or wrongly typed known fields with
/// "invalid image config: ..." naming the field.
llvm::Expected<ImageConfig> parse_image_config(llvm::StringRef json);

/// Compact JSON: created, author, architecture, os, os.version, os.features, variant,
/// config, rootfs, history, then `extra` (OCI/BuildKit order, omitempty). No newline.
std::string to_json(const ImageConfig& config);

}  // namespace kiln::oci
