// Registry mirrors and per-registry settings: docker's daemon.json
// (`registry-mirrors` for docker.io, `insecure-registries`) and the [[registry]] /
// [[registry.mirror]] tables of containers' registries.conf, read from kiln's
// configuration directory, plus --registry-mirror.
#pragma once

#include <map>
#include <string>
#include <vector>

#include <llvm/ADT/StringRef.h>
#include <llvm/Support/Error.h>

namespace kiln::registry {

/// One mirror of a registry: pulls of that registry's repositories try it first.
struct Mirror {
  /// "host[:port]" of the mirror.
  std::string domain;
  /// Repository path prefix on the mirror ("" or "team/cache"): repository
  /// `library/alpine` is pulled from `<prefix>/library/alpine`.
  std::string prefix;
  /// "http", "https", or "" (HTTPS, or probed like an insecure registry).
  std::string scheme;
  bool insecure = false;
  /// Which manifest pulls use the mirror (registries.conf `pull-from-mirror`, or
  /// `mirror-by-digest-only` of its registry): all, only by digest, only by tag.
  /// Blobs, addressed by digest and verified, may come from any mirror.
  enum class PullFrom { all, digest_only, tag_only };
  PullFrom pull_from = PullFrom::all;

  bool operator==(const Mirror&) const = default;
};

/// Parses a mirror location: "https://mirror.example", "http://127.0.0.1:5001",
/// "mirror.example:5000/prefix". Fails on an empty host or another scheme.
llvm::Expected<Mirror> parse_mirror(llvm::StringRef text);

/// Mirrors and insecure registries from configuration.
struct RegistryConfig {
  /// Mirrors by registry domain ("docker.io", "quay.io"), tried in order.
  std::map<std::string, std::vector<Mirror>> mirrors;
  /// Registries ("host[:port]") that may be reached over plain HTTP.
  std::vector<std::string> insecure_registries;
};

/// kiln's configuration directory: KILN_CONFIG_DIR, else /etc/kiln for root, else
/// $XDG_CONFIG_HOME/kiln (~/.config/kiln).
std::string default_config_dir();

/// Adds the settings of daemon.json text `json` (`registry-mirrors` become mirrors
/// of docker.io; `insecure-registries`) to `config`. Other keys are ignored.
llvm::Error parse_daemon_json(llvm::StringRef json, RegistryConfig& config);

/// Adds the settings of registries.conf text `toml` to `config`: each
/// [[registry]] with `prefix` or `location` (a registry domain), `insecure` and
/// `mirror-by-digest-only`, and its [[registry.mirror]] entries with `location`,
/// `insecure` and `pull-from-mirror` ("all", "digest-only", "tag-only"). Other tables and
/// keys are ignored; errors name the line.
llvm::Error parse_registries_conf(llvm::StringRef toml, RegistryConfig& config);

/// Reads `dir`/daemon.json and `dir`/registries.conf (each may be absent) and adds
/// `flag_mirrors` (--registry-mirror, docker.io mirrors tried before configured ones).
/// Errors name the file.
llvm::Expected<RegistryConfig> load_registry_config(llvm::StringRef dir,
                                                    const std::vector<std::string>& flag_mirrors);

}  // namespace kiln::registry
