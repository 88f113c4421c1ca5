// Registry credentials and challenges: docker's ~/.docker/config.json (`auths`,
// `credsStore`, `credHelpers`), credential helpers (`docker-credential-NAME get`),
// and the WWW-Authenticate challenges of the distribution spec.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include <llvm/ADT/StringRef.h>
#include <llvm/Support/Error.h>

namespace kiln::registry {

/// A user name and secret for one registry. `identity_token` (a refresh token from
/// a credential helper, user "<token>") replaces basic credentials when set.
struct Credentials {
  std::string username;
  std::string password;
  std::string identity_token;
  bool operator==(const Credentials&) const = default;
};

/// One parsed WWW-Authenticate challenge: `Bearer realm="...",service="..."`.
struct Challenge {
  std::string scheme;                         // lowercased: "bearer", "basic"
  std::map<std::string, std::string> params;  // keys lowercased
};

/// Parses a WWW-Authenticate header value (quoted strings with backslash escapes).
/// Fails on a value without a scheme: "invalid WWW-Authenticate header '...'".
llvm::Expected<Challenge> parse_challenge(llvm::StringRef header);

/// The key under which docker's config stores credentials of registry `domain`
/// (as written in references): "https://index.docker.io/v1/" for docker.io, else
/// the domain itself.
std::string config_key(llvm::StringRef domain);

/// The registry a `docker login SERVER` argument names: its host
/// ("https://h:5000/v2/" is "h:5000"), with "index.docker.io" and
/// "registry-1.docker.io" (as in "https://index.docker.io/v1/") as "docker.io".
std::string server_domain(llvm::StringRef server);

/// The path of docker's client config: $DOCKER_CONFIG/config.json, else
/// $HOME/.docker/config.json.
std::string default_docker_config_path();

/// Reads the credentials of `domain` from the config at `config_path`: the
/// credential helper named in `credHelpers[domain]` or `credsStore`, else the base64
/// `auth` (or `username`/`password`) of the `auths` entry whose key matches (with or
/// without scheme and path). None when nothing is configured; a missing file is
/// nothing configured. Fails on an unreadable or invalid file, or a failing helper,
/// with the path or helper in the message.
llvm::Expected<std::optional<Credentials>> load_credentials(llvm::StringRef config_path,
                                                            llvm::StringRef domain);

/// Runs `docker-credential-<helper> get` with `server` on stdin and parses its JSON
/// answer. A helper that says "credentials not found in native keychain" gives none.
llvm::Expected<std::optional<Credentials>> run_credential_helper(llvm::StringRef helper,
                                                                 llvm::StringRef server);

/// Stores `credentials` for `domain` in the config at `config_path` (base64 `auth` in
/// `auths`, or the configured credential helper's `store`), keeping every other key
/// of the file. Writes atomically with mode 0600, creating the directory.
llvm::Error save_credentials(llvm::StringRef config_path, llvm::StringRef domain,
                             const Credentials& credentials);

/// Removes the credentials of `domain` (from `auths`, or through the helper's
/// `erase`). Returns false when there were none.
llvm::Expected<bool> erase_credentials(llvm::StringRef config_path, llvm::StringRef domain);

/// Base64 (standard alphabet, padded).
std::string base64_encode(llvm::StringRef bytes);
/// Decodes standard base64; fails on invalid input.
llvm::Expected<std::string> base64_decode(llvm::StringRef text);

}  // namespace kiln::registry
