#include "frontend/git_ref.h"

#include <map>

#include "support/error.h"

namespace kiln::frontend {
namespace {

/// Go's url.QueryUnescape for the characters a query needs ("%XX", '+').
std::string unescape(llvm::StringRef s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '+') {
      out += ' ';
    } else if (s[i] == '%' && i + 2 < s.size() && llvm::isHexDigit(s[i + 1]) &&
               llvm::isHexDigit(s[i + 2])) {
      out += static_cast<char>(llvm::hexFromNibbles(s[i + 1], s[i + 2]));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

/// "user@host:path" (scp-like ssh), as gitutil's scp pattern: no "://", a user
/// part, a host and a path after ':'.
bool is_scp_like(llvm::StringRef s) {
  size_t at = s.find('@');
  size_t colon = s.find(':');
  return at != llvm::StringRef::npos && at > 0 && colon != llvm::StringRef::npos &&
         colon > at + 1 && s.find("://") == llvm::StringRef::npos &&
         s.substr(0, at).find('/') == llvm::StringRef::npos;
}

llvm::Expected<bool> parse_bool(llvm::StringRef key, const std::optional<std::string>& v) {
  if (!v) {
    return true;
  }
  if (*v == "1" || *v == "t" || *v == "T" || *v == "true" || *v == "TRUE" || *v == "True") {
    return true;
  }
  if (*v == "0" || *v == "f" || *v == "F" || *v == "false" || *v == "FALSE" || *v == "False") {
    return false;
  }
  return make_error("invalid " + key.str() + " value: \"" + *v + "\"");
}

/// BuildKit's loadQuery: the keys of the query form, into `ref`.
llvm::Error load_query(llvm::StringRef query, GitRef& ref) {
  std::map<std::string, std::optional<std::string>> values;
  llvm::SmallVector<llvm::StringRef, 8> parts;
  query.split(parts, '&', -1, false);
  for (llvm::StringRef part : parts) {
    auto [k, v] = part.split('=');
    std::string key = unescape(k);
    if (values.count(key)) {
      return make_error("query \"" + key + "\" has multiple values");
    }
    std::optional<std::string> value;
    if (part.contains('=') && !v.empty()) {
      value = unescape(v);
    }
    if (!value && key != "submodules" && key != "keep-git-dir") {
      return make_error("query \"" + key + "\" has no value");
    }
    values[key] = value;
  }
  std::string tag, branch;
  for (const auto& [key, value] : values) {
    if (key == "ref") {
      if (!ref.ref.empty() && ref.ref != *value) {
        return make_error("ref conflicts: \"" + ref.ref + "\" vs \"" + *value + "\"");
      }
      ref.ref = *value;
    } else if (key == "tag") {
      tag = *value;
    } else if (key == "branch") {
      branch = *value;
    } else if (key == "subdir") {
      if (!ref.subdir.empty() && ref.subdir != *value) {
        return make_error("subdir conflicts: \"" + ref.subdir + "\" vs \"" + *value + "\"");
      }
      ref.subdir = *value;
    } else if (key == "checksum" || key == "commit") {
      ref.checksum = *value;
    } else if (key == "keep-git-dir" || key == "submodules") {
      auto b = parse_bool(key, value);
      if (!b) {
        return b.takeError();
      }
      (key == "keep-git-dir" ? ref.keep_git_dir : ref.submodules) = *b;
    } else {
      return make_error("unexpected query \"" + key + "\"");
    }
  }
  auto take = [&](std::string name, llvm::StringRef prefix) -> llvm::Error {
    if (!llvm::StringRef(name).startswith(prefix)) {
      name = prefix.str() + name;
    }
    if (!ref.ref.empty() && ref.ref != name) {
      return make_error("ref conflicts: \"" + ref.ref + "\" vs \"" + name + "\"");
    }
    ref.ref = name;
    return llvm::Error::success();
  };
  if (!tag.empty()) {
    if (auto err = take(tag, "refs/tags/")) {
      return err;
    }
  }
  if (!branch.empty()) {
    if (!tag.empty()) {
      return make_error("branch conflicts with tag");
    }
    if (auto err = take(branch, "refs/heads/")) {
      return err;
    }
  }
  return llvm::Error::success();
}

}  // namespace

bool is_hex(llvm::StringRef text) {
  return !text.empty() && llvm::all_of(text, [](char c) { return llvm::isHexDigit(c); });
}

llvm::Expected<std::optional<GitRef>> parse_git_ref(llvm::StringRef source) {
  bool http = source.startswith("http://") || source.startswith("https://");
  bool scheme = http || source.startswith("git://") || source.startswith("ssh://");
  if (!scheme && !is_scp_like(source)) {
    return std::nullopt;
  }
  auto [before_fragment, fragment] = source.split('#');
  auto [remote, query] = before_fragment.split('?');
  if (http) {
    llvm::StringRef rest = remote.split("://").second;
    size_t slash = rest.find('/');
    if (slash == llvm::StringRef::npos || !rest.substr(slash).endswith(".git")) {
      return std::nullopt;
    }
  }
  GitRef ref;
  ref.remote = remote.str();
  auto [r, subdir] = fragment.split(':');
  ref.ref = r.str();
  ref.subdir = subdir.str();
  if (auto err = load_query(query, ref)) {
    return std::move(err);
  }
  if (!ref.checksum.empty() && ref.ref.empty()) {
    // A whole commit name is the ref; a prefix checks the remote's HEAD.
    if (is_hex(ref.checksum) && (ref.checksum.size() == 40 || ref.checksum.size() == 64)) {
      ref.ref = ref.checksum;
    }
  }
  // Nothing that reaches git's command line may read as an option.
  if (llvm::StringRef(ref.remote).startswith("-") || llvm::StringRef(ref.ref).startswith("-")) {
    return make_error("invalid git source " + quote(source) + ": it may not start an option");
  }
  for (llvm::StringRef part : {llvm::StringRef(ref.remote), llvm::StringRef(ref.ref)}) {
    if (part.find_first_of(llvm::StringRef("\0\n\r", 3)) != llvm::StringRef::npos) {
      return make_error("invalid git source " + quote(source) + ": control characters");
    }
  }
  return ref;
}

}  // namespace kiln::frontend
