#include "registry/mirrors.h"

#include <unistd.h>

#include <cerrno>
#include <cstdlib>

#include <nlohmann/json.hpp>

#include "support/error.h"
#include "support/fs.h"

namespace kiln::registry {

llvm::Expected<Mirror> parse_mirror(llvm::StringRef text) {
  Mirror mirror;
  llvm::StringRef rest = text.trim();
  if (rest.contains("://")) {
    auto [scheme, after] = rest.split("://");
    if (scheme != "http" && scheme != "https") {
      return make_error("registry mirror " + quote(text) + ": unsupported scheme " + quote(scheme));
    }
    mirror.scheme = scheme.str();
    rest = after;
  }
  auto [domain, prefix] = rest.split('/');
  if (domain.empty()) {
    return make_error("registry mirror " + quote(text) + ": no host");
  }
  mirror.domain = domain.str();
  mirror.prefix = prefix.trim('/').str();
  return mirror;
}

std::string default_config_dir() {
  if (const char* dir = std::getenv("KILN_CONFIG_DIR"); dir && *dir) {
    return dir;
  }
  if (::geteuid() == 0) {
    return "/etc/kiln";
  }
  if (const char* xdg = std::getenv("XDG_CONFIG_HOME"); xdg && *xdg) {
    return std::string(xdg) + "/kiln";
  }
  const char* home = std::getenv("HOME");
  return std::string(home && *home ? home : "/") + "/.config/kiln";
}

llvm::Error parse_daemon_json(llvm::StringRef json, RegistryConfig& config) {
  nlohmann::json doc;
  try {
    doc = nlohmann::json::parse(json);
  } catch (const nlohmann::json::exception& e) {
    return make_error(llvm::Twine("invalid JSON: ") + e.what());
  }
  if (!doc.is_object()) {
    return make_error("expected a JSON object");
  }
  auto strings = [&](const char* key) -> llvm::Expected<std::vector<std::string>> {
    std::vector<std::string> out;
    auto it = doc.find(key);
    if (it == doc.end()) {
      return out;
    }
    if (!it->is_array()) {
      return make_error(quote(key) + " must be a list of strings");
    }
    for (const nlohmann::json& item : *it) {
      if (!item.is_string()) {
        return make_error(quote(key) + " must be a list of strings");
      }
      out.push_back(item.get<std::string>());
    }
    return out;
  };
  auto mirrors = strings("registry-mirrors");
  if (!mirrors) {
    return mirrors.takeError();
  }
  for (const std::string& text : *mirrors) {
    auto mirror = parse_mirror(text);
    if (!mirror) {
      return mirror.takeError();
    }
    config.mirrors["docker.io"].push_back(std::move(*mirror));
  }
  auto insecure = strings("insecure-registries");
  if (!insecure) {
    return insecure.takeError();
  }
  config.insecure_registries.insert(config.insecure_registries.end(), insecure->begin(),
                                    insecure->end());
  return llvm::Error::success();
}

namespace {

// One [[registry]] table being read.
struct RegistryEntry {
  std::string prefix, location;
  bool insecure = false;
  bool digest_only = false;
  std::vector<Mirror> mirrors;
};

// A TOML value of the subset registries.conf uses: "string", 'string', true, false,
// or a one-line array of strings (kept as its raw text, unused here).
llvm::Expected<std::string> toml_value(llvm::StringRef raw) {
  raw = raw.trim();
  if (raw.size() >= 2 && (raw.front() == '"' || raw.front() == '\'')) {
    size_t close = raw.find(raw.front(), 1);
    if (close == llvm::StringRef::npos) {
      return make_error("unterminated string");
    }
    return raw.slice(1, close).str();
  }
  if (raw.startswith("true")) {
    return std::string("true");
  }
  if (raw.startswith("false")) {
    return std::string("false");
  }
  if (raw.startswith("[")) {
    return raw.str();
  }
  return make_error("unsupported value " + quote(raw));
}

void add_entry(RegistryEntry& entry, RegistryConfig& config) {
  std::string domain = entry.prefix.empty() ? entry.location : entry.prefix;
  domain = llvm::StringRef(domain).split('/').first.str();
  if (domain.empty()) {
    return;
  }
  if (entry.insecure) {
    config.insecure_registries.push_back(domain);
    std::string location = llvm::StringRef(entry.location).split('/').first.str();
    if (!location.empty() && location != domain) {
      config.insecure_registries.push_back(location);
    }
  }
  for (Mirror& mirror : entry.mirrors) {
    if (entry.digest_only) {
      mirror.pull_from = Mirror::PullFrom::digest_only;
    }
    if (mirror.insecure) {
      config.insecure_registries.push_back(mirror.domain);
    }
    config.mirrors[domain].push_back(std::move(mirror));
  }
  entry = RegistryEntry();
}

void set_registry_key(RegistryEntry& entry, llvm::StringRef key, const std::string& value) {
  if (key == "prefix") {
    entry.prefix = value;
  } else if (key == "location") {
    entry.location = value;
  } else if (key == "insecure") {
    entry.insecure = value == "true";
  } else if (key == "mirror-by-digest-only") {
    entry.digest_only = value == "true";
  }
}

llvm::Error set_mirror_key(Mirror& mirror, llvm::StringRef key, const std::string& value) {
  if (key == "location") {
    auto parsed = parse_mirror(value);
    if (!parsed) {
      return parsed.takeError();
    }
    parsed->insecure = mirror.insecure;
    parsed->pull_from = mirror.pull_from;
    mirror = std::move(*parsed);
  } else if (key == "insecure") {
    mirror.insecure = value == "true";
  } else if (key == "pull-from-mirror") {
    if (value == "all") {
      mirror.pull_from = Mirror::PullFrom::all;
    } else if (value == "digest-only") {
      mirror.pull_from = Mirror::PullFrom::digest_only;
    } else if (value == "tag-only") {
      mirror.pull_from = Mirror::PullFrom::tag_only;
    } else {
      return make_error("pull-from-mirror " + quote(value) +
                        " (expected 'all', 'digest-only' or 'tag-only')");
    }
  }
  return llvm::Error::success();
}

}  // namespace

llvm::Error parse_registries_conf(llvm::StringRef toml, RegistryConfig& config) {
  enum class Table { other, registry, mirror } table = Table::other;
  std::optional<RegistryEntry> entry;
  int number = 0;
  llvm::SmallVector<llvm::StringRef, 64> lines;
  toml.split(lines, '\n');
  for (llvm::StringRef line : lines) {
    ++number;
    line = line.trim();
    if (line.empty() || line.startswith("#")) {
      continue;
    }
    auto fail = [&](const llvm::Twine& message) {
      return make_error("line " + llvm::Twine(number) + ": " + message);
    };
    if (line.startswith("[")) {
      std::string name = line.trim("[]").trim().str();
      if (name == "registry") {
        if (entry) {
          add_entry(*entry, config);
        }
        entry.emplace();
        table = Table::registry;
      } else if (name == "registry.mirror") {
        if (!entry) {
          return fail("[[registry.mirror]] outside a [[registry]]");
        }
        entry->mirrors.emplace_back();
        table = Table::mirror;
      } else {
        table = Table::other;
      }
      continue;
    }
    auto [key_raw, value_raw] = line.split('=');
    llvm::StringRef key = key_raw.trim();
    auto value = toml_value(value_raw);
    if (!value) {
      return fail(error_message(value.takeError()));
    }
    if (table == Table::registry) {
      set_registry_key(*entry, key, *value);
    } else if (table == Table::mirror) {
      if (llvm::Error err = set_mirror_key(entry->mirrors.back(), key, *value)) {
        return fail(error_message(std::move(err)));
      }
    }
  }
  if (entry) {
    add_entry(*entry, config);
  }
  return llvm::Error::success();
}

llvm::Expected<RegistryConfig> load_registry_config(llvm::StringRef dir,
                                                    const std::vector<std::string>& flag_mirrors) {
  RegistryConfig config;
  for (const std::string& text : flag_mirrors) {
    auto mirror = parse_mirror(text);
    if (!mirror) {
      return with_context(mirror.takeError(), "--registry-mirror");
    }
    config.mirrors["docker.io"].push_back(std::move(*mirror));
  }
  using Parser = llvm::Error (*)(llvm::StringRef, RegistryConfig&);
  std::pair<const char*, Parser> files[] = {{"daemon.json", parse_daemon_json},
                                            {"registries.conf", parse_registries_conf}};
  for (const auto& [name, parse] : files) {
    std::string path = (dir + "/" + name).str();
    auto text = fs::read_file(path);
    if (!text) {
      llvm::Error err = text.takeError();
      bool missing = false;
      err = llvm::handleErrors(std::move(err), [&](std::unique_ptr<IoError> io) -> llvm::Error {
        if (io->errno_value() == ENOENT) {
          missing = true;
          return llvm::Error::success();
        }
        return llvm::Error(std::move(io));
      });
      if (err) {
        return err;
      }
      if (missing) {
        continue;
      }
    }
    if (auto err = parse(*text, config)) {
      return with_context(std::move(err), quote(path));
    }
  }
  return config;
}

}  // namespace kiln::registry
