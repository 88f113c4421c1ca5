#include "compose/interpolate.h"

#include <llvm/ADT/StringExtras.h>

#include "support/error.h"
#include "support/fs.h"

namespace kiln::compose {
namespace {

bool name_start(char c) { return llvm::isAlpha(c) || c == '_'; }
bool name_char(char c) { return llvm::isAlnum(c) || c == '_'; }

struct Expander {
  const Environment& env;
  std::string where;
  const WarnFn& warn;
  int depth = 0;

  llvm::Error invalid() {
    return make_error("invalid interpolation format for " + where +
                      ". You may need to escape any $ with another $");
  }

  const std::string* lookup(const std::string& name) {
    auto it = env.find(name);
    return it == env.end() ? nullptr : &it->second;
  }

  // Expands text[i..] up to the end or to an unmatched '}' when `in_braces`.
  llvm::Expected<std::string> expand(llvm::StringRef text, size_t& i, bool in_braces) {
    if (++depth > 100) {
      return invalid();
    }
    std::string out;
    while (i < text.size()) {
      char c = text[i];
      if (in_braces && c == '}') {
        --depth;
        return out;
      }
      if (c != '$') {
        out += c;
        ++i;
        continue;
      }
      if (i + 1 >= text.size()) {
        out += '$';
        ++i;
        continue;
      }
      char next = text[i + 1];
      if (next == '$') {
        out += '$';
        i += 2;
        continue;
      }
      if (name_start(next)) {
        size_t j = i + 1;
        while (j < text.size() && name_char(text[j])) {
          ++j;
        }
        std::string name = text.slice(i + 1, j).str();
        i = j;
        out += value_or_warn(name);
        continue;
      }
      if (next != '{') {
        out += '$';
        ++i;
        continue;
      }
      i += 2;
      auto braced = expand_braced(text, i);
      if (!braced) {
        return braced.takeError();
      }
      out += *braced;
    }
    if (in_braces) {
      return invalid();
    }
    --depth;
    return out;
  }

  std::string value_or_warn(const std::string& name) {
    if (const std::string* v = lookup(name)) {
      return *v;
    }
    if (warn) {
      warn("The \"" + name + "\" variable is not set. Defaulting to a blank string.");
    }
    return "";
  }

  // After "${": NAME [op word] "}".
  llvm::Expected<std::string> expand_braced(llvm::StringRef text, size_t& i) {
    size_t j = i;
    if (j >= text.size() || !name_start(text[j])) {
      return invalid();
    }
    while (j < text.size() && name_char(text[j])) {
      ++j;
    }
    std::string name = text.slice(i, j).str();
    i = j;
    if (i >= text.size()) {
      return invalid();
    }
    if (text[i] == '}') {
      ++i;
      return value_or_warn(name);
    }
    bool colon = false;
    if (text[i] == ':') {
      colon = true;
      ++i;
    }
    if (i >= text.size()) {
      return invalid();
    }
    char op = text[i];
    if (op != '-' && op != '?' && op != '+') {
      return invalid();
    }
    ++i;
    auto word = expand(text, i, true);
    if (!word) {
      return word.takeError();
    }
    ++i;  // the closing brace
    const std::string* value = lookup(name);
    bool set = value && (!colon || !value->empty());
    switch (op) {
      case '-':
        return set ? *value : *word;
      case '+':
        return set ? *word : std::string();
      default:
        if (set) {
          return *value;
        }
        return make_error("required variable " + name + " is missing a value" +
                          (word->empty() ? "" : ": " + *word));
    }
  }
};

}  // namespace

llvm::Expected<std::string> interpolate(llvm::StringRef text, const Environment& env,
                                        llvm::StringRef where, const WarnFn& warn) {
  if (!text.contains('$')) {
    return text.str();
  }
  Expander e{env, where.str(), warn};
  size_t i = 0;
  return e.expand(text, i, false);
}

llvm::Error interpolate_tree(Node& node, const Environment& env, const std::string& path,
                             const WarnFn& warn) {
  switch (node.kind) {
    case Node::Kind::null:
      return llvm::Error::success();
    case Node::Kind::scalar: {
      auto value = interpolate(node.text, env, path, warn);
      if (!value) {
        return with_context(value.takeError(), node.where.str());
      }
      node.text = std::move(*value);
      return llvm::Error::success();
    }
    case Node::Kind::sequence:
      for (size_t k = 0; k < node.items.size(); ++k) {
        if (auto err =
                interpolate_tree(node.items[k], env, path + "[" + std::to_string(k) + "]", warn)) {
          return err;
        }
      }
      return llvm::Error::success();
    case Node::Kind::mapping:
      for (auto& [key, value] : node.entries) {
        // Extension fields (x-*) are kept as written.
        if (llvm::StringRef(key).startswith("x-")) {
          continue;
        }
        if (auto err = interpolate_tree(value, env, path.empty() ? key : path + "." + key, warn)) {
          return err;
        }
      }
      return llvm::Error::success();
  }
  return llvm::Error::success();
}

llvm::Expected<std::vector<std::pair<std::string, std::string>>> parse_env_file(
    llvm::StringRef text, llvm::StringRef path, const Environment& env) {
  std::vector<std::pair<std::string, std::string>> out;
  Environment scope = env;
  llvm::SmallVector<llvm::StringRef, 64> lines;
  text.split(lines, '\n');
  for (size_t n = 0; n < lines.size(); ++n) {
    llvm::StringRef line = lines[n].rtrim("\r").ltrim();
    if (line.empty() || line.startswith("#")) {
      continue;
    }
    if (line.startswith("export ")) {
      line = line.drop_front(7).ltrim();
    }
    auto [key, value] = line.split('=');
    key = key.trim();
    std::string where = path.str() + ":" + std::to_string(n + 1);
    if (key.empty() || !name_start(key.front()) ||
        !llvm::all_of(key, [](char c) { return name_char(c) || c == '.' || c == '-'; })) {
      return make_error(where + ": unexpected character in variable name " + quote(key));
    }
    if (!line.contains('=')) {
      // A bare KEY takes the environment's value, when set.
      if (auto it = env.find(key.str()); it != env.end()) {
        out.emplace_back(key.str(), it->second);
      }
      continue;
    }
    value = value.ltrim();
    std::string result;
    if (value.startswith("'")) {
      size_t end = value.find('\'', 1);
      if (end == llvm::StringRef::npos) {
        return make_error(where + ": unterminated quoted value");
      }
      result = value.slice(1, end).str();
    } else if (value.startswith("\"")) {
      std::string raw;
      size_t k = 1;
      bool closed = false;
      for (; k < value.size(); ++k) {
        char c = value[k];
        if (c == '\\' && k + 1 < value.size()) {
          char e = value[++k];
          raw += e == 'n' ? '\n' : e == 't' ? '\t' : e == 'r' ? '\r' : e;
          if (e != 'n' && e != 't' && e != 'r' && e != '"' && e != '\\' && e != '$') {
            raw.insert(raw.size() - 1, "\\");
          }
          continue;
        }
        if (c == '"') {
          closed = true;
          break;
        }
        raw += c;
      }
      if (!closed) {
        return make_error(where + ": unterminated quoted value");
      }
      auto expanded = interpolate(raw, scope, key, nullptr);
      if (!expanded) {
        return with_context(expanded.takeError(), where);
      }
      result = *expanded;
    } else {
      if (size_t hash = value.find(" #"); hash != llvm::StringRef::npos) {
        value = value.take_front(hash);
      }
      auto expanded = interpolate(value.trim(), scope, key, nullptr);
      if (!expanded) {
        return with_context(expanded.takeError(), where);
      }
      result = *expanded;
    }
    scope[key.str()] = result;
    out.emplace_back(key.str(), std::move(result));
  }
  return out;
}

llvm::Expected<std::vector<std::pair<std::string, std::string>>> read_env_file(
    llvm::StringRef path, const Environment& env) {
  auto text = fs::read_file(path);
  if (!text) {
    return text.takeError();
  }
  return parse_env_file(*text, path, env);
}

}  // namespace kiln::compose
