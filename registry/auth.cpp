#include "registry/auth.h"

#include <cstdlib>

#include <llvm/ADT/ScopeExit.h>
#include <llvm/ADT/SmallString.h>
#include <llvm/Support/FileSystem.h>
#include <llvm/Support/Path.h>
#include <llvm/Support/Program.h>
#include <nlohmann/json.hpp>

#include "support/atomic_file.h"
#include "support/error.h"
#include "support/fs.h"

namespace kiln::registry {

namespace {

constexpr llvm::StringLiteral kAlphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Reads a token or quoted string at the front of `rest`, consuming it.
std::string take_value(llvm::StringRef& rest) {
  std::string out;
  if (!rest.startswith("\"")) {
    size_t end = rest.find_first_of(", ");
    out = rest.substr(0, end).str();
    rest = rest.substr(std::min(end, rest.size()));
    return out;
  }
  size_t i = 1;
  for (; i < rest.size() && rest[i] != '"'; ++i) {
    if (rest[i] == '\\' && i + 1 < rest.size()) {
      ++i;
    }
    out.push_back(rest[i]);
  }
  rest = rest.substr(std::min(i + 1, rest.size()));
  return out;
}

/// The host part of an `auths` key: "https://host:5000/v1/" -> "host:5000".
llvm::StringRef key_host(llvm::StringRef key) {
  size_t scheme = key.find("://");
  if (scheme != llvm::StringRef::npos) {
    key = key.substr(scheme + 3);
  }
  return key.take_until([](char c) { return c == '/'; });
}

llvm::Expected<nlohmann::json> read_config(llvm::StringRef path) {
  if (!fs::exists(path)) {
    return nlohmann::json::object();
  }
  llvm::Expected<std::string> text = fs::read_file(path);
  if (!text) {
    return text.takeError();
  }
  try {
    nlohmann::json config = nlohmann::json::parse(*text);
    if (!config.is_object()) {
      return make_error("read " + quote(path) + ": not a JSON object");
    }
    return config;
  } catch (const nlohmann::json::exception& e) {
    return make_error("read " + quote(path) + ": invalid JSON: " + e.what());
  }
}

/// The credential helper for `domain`: credHelpers[domain], else credsStore, else "".
std::string helper_for(const nlohmann::json& config, llvm::StringRef domain) {
  auto helpers = config.find("credHelpers");
  if (helpers != config.end() && helpers->is_object()) {
    auto it = helpers->find(config_key(domain));
    if (it == helpers->end()) {
      it = helpers->find(domain.str());
    }
    if (it != helpers->end() && it->is_string()) {
      return it->get<std::string>();
    }
  }
  auto store = config.find("credsStore");
  if (store != config.end() && store->is_string()) {
    return store->get<std::string>();
  }
  return "";
}

/// Runs `docker-credential-<helper> <action>` with `input` on stdin; returns its exit
/// code and stdout.
llvm::Expected<std::pair<int, std::string>> run_helper(llvm::StringRef helper,
                                                       llvm::StringRef action,
                                                       llvm::StringRef input) {
  std::string program = ("docker-credential-" + helper).str();
  llvm::ErrorOr<std::string> path = llvm::sys::findProgramByName(program);
  if (!path) {
    return make_error("credential helper " + quote(program) + " not found in PATH");
  }
  llvm::SmallString<128> in_path, out_path;
  if (llvm::sys::fs::createTemporaryFile("kiln-cred-in", "", in_path) ||
      llvm::sys::fs::createTemporaryFile("kiln-cred-out", "", out_path)) {
    return make_error("credential helper " + quote(program) + ": cannot create temp files");
  }
  auto cleanup = llvm::make_scope_exit([&] {
    llvm::sys::fs::remove(in_path);
    llvm::sys::fs::remove(out_path);
  });
  if (llvm::Error err = write_file_atomic(in_path, input, 0600)) {
    return err;
  }
  llvm::Optional<llvm::StringRef> redirects[] = {llvm::StringRef(in_path),
                                                 llvm::StringRef(out_path), llvm::None};
  llvm::StringRef args[] = {program, action};
  std::string message;
  int rc = llvm::sys::ExecuteAndWait(*path, args, llvm::None, redirects, 0, 0, &message);
  if (rc < 0) {
    return make_error("credential helper " + quote(program) + ": " + message);
  }
  llvm::Expected<std::string> out = fs::read_file(out_path);
  if (!out) {
    return out.takeError();
  }
  return std::make_pair(rc, std::move(*out));
}

}  // namespace

std::string base64_encode(llvm::StringRef bytes) {
  std::string out;
  size_t i = 0;
  for (; i + 2 < bytes.size(); i += 3) {
    uint32_t v = (uint8_t(bytes[i]) << 16) | (uint8_t(bytes[i + 1]) << 8) | uint8_t(bytes[i + 2]);
    for (int shift : {18, 12, 6, 0}) {
      out.push_back(kAlphabet[(v >> shift) & 63]);
    }
  }
  size_t left = bytes.size() - i;
  if (left > 0) {
    uint32_t v = uint8_t(bytes[i]) << 16;
    if (left == 2) {
      v |= uint8_t(bytes[i + 1]) << 8;
    }
    out.push_back(kAlphabet[(v >> 18) & 63]);
    out.push_back(kAlphabet[(v >> 12) & 63]);
    out.push_back(left == 2 ? kAlphabet[(v >> 6) & 63] : '=');
    out.push_back('=');
  }
  return out;
}

llvm::Expected<std::string> base64_decode(llvm::StringRef text) {
  std::string out;
  uint32_t acc = 0;
  int bits = 0;
  for (char c : text) {
    if (c == '=') {
      break;
    }
    size_t v = kAlphabet.find(c);
    if (v == llvm::StringRef::npos) {
      return make_error("invalid base64");
    }
    acc = (acc << 6) | uint32_t(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(char((acc >> bits) & 0xff));
    }
  }
  return out;
}

llvm::Expected<Challenge> parse_challenge(llvm::StringRef header) {
  llvm::StringRef rest = header.trim();
  Challenge challenge;
  challenge.scheme = rest.take_until([](char c) { return c == ' '; }).lower();
  if (challenge.scheme.empty()) {
    return make_error("invalid WWW-Authenticate header " + quote(header));
  }
  rest = rest.substr(challenge.scheme.size()).ltrim();
  while (!rest.empty()) {
    size_t eq = rest.find('=');
    if (eq == llvm::StringRef::npos) {
      break;
    }
    std::string key = rest.substr(0, eq).trim().lower();
    rest = rest.substr(eq + 1).ltrim();
    challenge.params[key] = take_value(rest);
    rest = rest.ltrim().ltrim(',').ltrim();
  }
  return challenge;
}

std::string server_domain(llvm::StringRef server) {
  llvm::StringRef host = key_host(server);
  if (host == "index.docker.io" || host == "registry-1.docker.io") {
    return "docker.io";
  }
  return host.str();
}

std::string config_key(llvm::StringRef domain) {
  if (domain == "docker.io" || domain == "index.docker.io" || domain == "registry-1.docker.io") {
    return "https://index.docker.io/v1/";
  }
  return domain.str();
}

std::string default_docker_config_path() {
  if (const char* dir = std::getenv("DOCKER_CONFIG"); dir && *dir) {
    return fs::join(dir, "config.json");
  }
  const char* home = std::getenv("HOME");
  return fs::join(fs::join(home && *home ? home : "/root", ".docker"), "config.json");
}

llvm::Expected<std::optional<Credentials>> run_credential_helper(llvm::StringRef helper,
                                                                 llvm::StringRef server) {
  auto result = run_helper(helper, "get", server);
  if (!result) {
    return result.takeError();
  }
  auto& [rc, out] = *result;
  if (rc != 0) {
    if (llvm::StringRef(out).contains("credentials not found")) {
      return std::nullopt;
    }
    return make_error("credential helper " + quote(("docker-credential-" + helper).str()) +
                      " failed: " + llvm::StringRef(out).trim());
  }
  try {
    nlohmann::json answer = nlohmann::json::parse(out);
    Credentials creds;
    std::string user = answer.value("Username", "");
    std::string secret = answer.value("Secret", "");
    if (user == "<token>") {
      creds.identity_token = secret;
    } else {
      creds.username = user;
      creds.password = secret;
    }
    return creds;
  } catch (const nlohmann::json::exception& e) {
    return make_error("credential helper " + quote(("docker-credential-" + helper).str()) +
                      ": invalid answer: " + e.what());
  }
}

llvm::Expected<std::optional<Credentials>> load_credentials(llvm::StringRef config_path,
                                                            llvm::StringRef domain) {
  llvm::Expected<nlohmann::json> config = read_config(config_path);
  if (!config) {
    return config.takeError();
  }
  std::string key = config_key(domain);
  if (std::string helper = helper_for(*config, domain); !helper.empty()) {
    return run_credential_helper(helper, key);
  }
  auto auths = config->find("auths");
  if (auths == config->end() || !auths->is_object()) {
    return std::nullopt;
  }
  for (auto& [name, entry] : auths->items()) {
    bool match = name == key || key_host(name) == key_host(key);
    if (!match || !entry.is_object()) {
      continue;
    }
    Credentials creds;
    if (entry.contains("auth") && entry["auth"].is_string()) {
      llvm::Expected<std::string> decoded = base64_decode(entry["auth"].get<std::string>());
      if (!decoded) {
        return with_context(decoded.takeError(),
                            "read " + quote(config_path) + ": auths " + quote(name));
      }
      auto [user, pass] = llvm::StringRef(*decoded).split(':');
      creds.username = user.str();
      creds.password = pass.str();
    } else {
      creds.username = entry.value("username", "");
      creds.password = entry.value("password", "");
    }
    creds.identity_token = entry.value("identitytoken", "");
    return creds;
  }
  return std::nullopt;
}

llvm::Error save_credentials(llvm::StringRef config_path, llvm::StringRef domain,
                             const Credentials& credentials) {
  llvm::Expected<nlohmann::json> config = read_config(config_path);
  if (!config) {
    return config.takeError();
  }
  std::string key = config_key(domain);
  if (std::string helper = helper_for(*config, domain); !helper.empty()) {
    nlohmann::json input = {
        {"ServerURL", key}, {"Username", credentials.username}, {"Secret", credentials.password}};
    auto result = run_helper(helper, "store", input.dump());
    if (!result) {
      return result.takeError();
    }
    if (result->first != 0) {
      return make_error("credential helper " + quote("docker-credential-" + helper) +
                        " failed: " + llvm::StringRef(result->second).trim());
    }
    return llvm::Error::success();
  }
  nlohmann::json& auths = (*config)["auths"];
  if (!auths.is_object()) {
    auths = nlohmann::json::object();
  }
  auths[key] = {{"auth", base64_encode(credentials.username + ":" + credentials.password)}};
  if (llvm::Error err = fs::make_dirs(llvm::sys::path::parent_path(config_path), 0700)) {
    return err;
  }
  return write_file_atomic(config_path, config->dump(1, '\t') + "\n", 0600);
}

llvm::Expected<bool> erase_credentials(llvm::StringRef config_path, llvm::StringRef domain) {
  llvm::Expected<nlohmann::json> config = read_config(config_path);
  if (!config) {
    return config.takeError();
  }
  std::string key = config_key(domain);
  if (std::string helper = helper_for(*config, domain); !helper.empty()) {
    auto result = run_helper(helper, "erase", key);
    if (!result) {
      return result.takeError();
    }
    return result->first == 0;
  }
  auto auths = config->find("auths");
  if (auths == config->end() || !auths->is_object() || auths->erase(key) == 0) {
    return false;
  }
  if (llvm::Error err = write_file_atomic(config_path, config->dump(1, '\t') + "\n", 0600)) {
    return err;
  }
  return true;
}

}  // namespace kiln::registry
