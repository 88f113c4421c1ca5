#include "compose/node.h"

#include <cmath>
#include <cstdio>
#include <set>

#include <llvm/ADT/StringExtras.h>
#include <yaml-cpp/yaml.h>

#include "support/error.h"
#include "support/fs.h"

namespace kiln::compose {

std::string Location::str() const {
  if (!file) {
    return "";
  }
  return line > 0 ? *file + ":" + std::to_string(line) : *file;
}

Node Node::str(std::string text, ScalarType type) {
  Node n;
  n.kind = Kind::scalar;
  n.text = std::move(text);
  n.type = type;
  return n;
}

Node Node::integer(long long value) { return str(std::to_string(value), ScalarType::integer); }

Node Node::boolean(bool value) { return str(value ? "true" : "false", ScalarType::boolean); }

Node Node::map() {
  Node n;
  n.kind = Kind::mapping;
  return n;
}

Node Node::seq() {
  Node n;
  n.kind = Kind::sequence;
  return n;
}

Location Node::key_where(size_t index) const {
  Location l = where;
  if (index < key_lines.size() && key_lines[index] > 0) {
    l.line = key_lines[index];
  } else if (index < entries.size()) {
    l = entries[index].second.where;
  }
  return l;
}

const Node* Node::find(llvm::StringRef key) const {
  for (const auto& [k, v] : entries) {
    if (k == key) {
      return &v;
    }
  }
  return nullptr;
}

Node* Node::find(llvm::StringRef key) {
  for (auto& [k, v] : entries) {
    if (k == key) {
      return &v;
    }
  }
  return nullptr;
}

Node& Node::set(llvm::StringRef key, Node value) {
  kind = Kind::mapping;
  if (Node* existing = find(key)) {
    *existing = std::move(value);
    return *existing;
  }
  entries.emplace_back(key.str(), std::move(value));
  return entries.back().second;
}

void Node::erase(llvm::StringRef key) {
  for (size_t i = 0; i < entries.size(); ++i) {
    if (entries[i].first == key) {
      entries.erase(entries.begin() + i);
      if (i < key_lines.size()) {
        key_lines.erase(key_lines.begin() + i);
      }
      return;
    }
  }
}

namespace {

bool bool_word(llvm::StringRef t) {
  std::string l = t.lower();
  return l == "true" || l == "false" || l == "yes" || l == "no" || l == "on" || l == "off" ||
         l == "y" || l == "n";
}

bool null_word(llvm::StringRef t) { return t.empty() || t == "~" || t.lower() == "null"; }

bool int_text(llvm::StringRef t) {
  t.consume_front("-") || t.consume_front("+");
  if (t.empty()) {
    return false;
  }
  if (t.consume_front("0x") || t.consume_front("0o")) {
    return !t.empty() && llvm::all_of(t, llvm::isHexDigit);
  }
  return llvm::all_of(t, llvm::isDigit);
}

bool float_text(llvm::StringRef t) {
  std::string l = t.lower();
  if (l == ".inf" || l == "-.inf" || l == "+.inf" || l == ".nan") {
    return true;
  }
  t.consume_front("-") || t.consume_front("+");
  bool digits = false;
  bool dot = false;
  bool exp = false;
  for (size_t i = 0; i < t.size(); ++i) {
    char c = t[i];
    if (llvm::isDigit(c)) {
      digits = true;
    } else if (c == '.' && !dot && !exp) {
      dot = true;
    } else if ((c == 'e' || c == 'E') && digits && !exp) {
      exp = true;
      if (i + 1 < t.size() && (t[i + 1] == '-' || t[i + 1] == '+')) {
        ++i;
      }
    } else {
      return false;
    }
  }
  return digits;
}

}  // namespace

bool Node::is_bool_text() const { return kind == Kind::scalar && bool_word(text); }
bool Node::is_int_text() const { return kind == Kind::scalar && int_text(text); }
bool Node::is_float_text() const { return kind == Kind::scalar && float_text(text); }
bool Node::is_null_text() const { return kind == Kind::scalar && null_word(text); }

std::string Node::type_name() const {
  switch (kind) {
    case Kind::null:
      return "null";
    case Kind::sequence:
      return "array";
    case Kind::mapping:
      return "object";
    case Kind::scalar:
      break;
  }
  if (type == ScalarType::string) {
    return "string";
  }
  if (type == ScalarType::integer || (type == ScalarType::auto_ && int_text(text))) {
    return "number";
  }
  if (type == ScalarType::auto_ && float_text(text)) {
    return "number";
  }
  if (type == ScalarType::boolean || (type == ScalarType::auto_ && bool_word(text))) {
    return "boolean";
  }
  return "string";
}

namespace {

constexpr int kMaxDepth = 200;
/// Values a document may hold once its aliases are expanded: a few aliases of
/// aliases (the "billion laughs") would otherwise fill memory.
constexpr size_t kMaxNodes = 200000;

struct Converter {
  std::shared_ptr<const std::string> file;
  /// Where `!reset` and `!override` values go (optional).
  MergeTags* tags = nullptr;
  size_t nodes = 0;
  /// The mapping keys from the root to the value being converted ("[]" for a
  /// sequence item).
  std::vector<std::string> path;

  llvm::Expected<Node> convert(const YAML::Node& in, int depth) {
    if (depth > kMaxDepth) {
      return make_error(*file + ": YAML nested too deeply");
    }
    if (++nodes > kMaxNodes) {
      return make_error(*file + ": document contains excessive aliasing (more than " +
                        std::to_string(kMaxNodes) + " values once its aliases are expanded)");
    }
    Node out;
    out.where = Location{file, in.Mark().line + 1};
    switch (in.Type()) {
      case YAML::NodeType::Undefined:
      case YAML::NodeType::Null:
        // A quoted empty string is a scalar; `key:` alone is null.
        if (in.Tag() == "!") {
          out.kind = Node::Kind::scalar;
          out.type = ScalarType::string;
        }
        return out;
      case YAML::NodeType::Scalar:
        out.kind = Node::Kind::scalar;
        out.text = in.Scalar();
        out.type = in.Tag() == "!" ? ScalarType::string : ScalarType::auto_;
        if (out.type == ScalarType::auto_ && null_word(out.text)) {
          out.kind = Node::Kind::null;
          out.text.clear();
        }
        return out;
      case YAML::NodeType::Sequence:
        out.kind = Node::Kind::sequence;
        path.push_back("[]");
        for (const auto& item : in) {
          if (item.Tag() == "!reset") {
            continue;  // an item reset is left out of its own sequence only
          }
          auto v = convert(item, depth + 1);
          if (!v) {
            path.pop_back();
            return v.takeError();
          }
          out.items.push_back(std::move(*v));
        }
        path.pop_back();
        return out;
      case YAML::NodeType::Map:
        break;
    }
    out.kind = Node::Kind::mapping;
    std::vector<Node> merges;
    for (const auto& kv : in) {
      if (!kv.first.IsScalar()) {
        return make_error(Location{file, kv.first.Mark().line + 1}.str() +
                          ": mapping keys must be strings");
      }
      std::string key = kv.first.Scalar();
      // The Compose Specification's merge tags: `!reset` drops what the files
      // before said (its own value is ignored), `!override` replaces it.
      const std::string& tag = kv.second.Tag();
      if ((tag == "!reset" || tag == "!override") && key != "<<") {
        path.push_back(key);
        if (tags) {
          tags->replaced.push_back(path);
        }
        path.pop_back();
        if (tag == "!reset") {
          continue;
        }
      }
      path.push_back(key);
      auto v = convert(kv.second, depth + 1);
      path.pop_back();
      if (!v) {
        return v.takeError();
      }
      if (key == "<<" && kv.first.Tag() != "!") {
        merges.push_back(std::move(*v));
        continue;
      }
      if (out.find(key)) {
        return make_error(Location{file, kv.first.Mark().line + 1}.str() + ": mapping key " +
                          quote(key) + " already defined");
      }
      out.entries.emplace_back(std::move(key), std::move(*v));
      out.key_lines.push_back(kv.first.Mark().line + 1);
    }
    // Merge keys: the mapping's own keys win, then earlier merged maps.
    for (const Node& merge : merges) {
      std::vector<const Node*> sources;
      if (merge.is_map()) {
        sources.push_back(&merge);
      } else if (merge.is_seq()) {
        for (const auto& item : merge.items) {
          sources.push_back(&item);
        }
      }
      for (const Node* src : sources) {
        if (!src->is_map()) {
          return make_error(merge.where.str() +
                            ": merge key '<<' needs a mapping or a list of mappings");
        }
        for (const auto& [k, val] : src->entries) {
          if (!out.find(k)) {
            out.entries.emplace_back(k, val);
            out.key_lines.push_back(merge.where.line);
          }
        }
      }
    }
    return out;
  }
};

}  // namespace

llvm::Expected<Node> parse_yaml(llvm::StringRef text, llvm::StringRef path, MergeTags* tags) {
  Converter conv{std::make_shared<const std::string>(path.str()), tags};
  try {
    YAML::Node root = YAML::Load(text.str());
    return conv.convert(root, 0);
  } catch (const YAML::Exception& e) {
    return make_error(path + ":" + llvm::Twine(e.mark.line + 1) + ": " + e.msg);
  }
}

llvm::Expected<Node> load_yaml_file(llvm::StringRef path, MergeTags* tags) {
  auto text = fs::read_file(path);
  if (!text) {
    return text.takeError();
  }
  return parse_yaml(*text, path, tags);
}

void remove_path(Node& node, llvm::ArrayRef<std::string> path) {
  Node* at = &node;
  for (size_t i = 0; i + 1 < path.size(); ++i) {
    at = at->is_map() ? at->find(path[i]) : nullptr;
    if (!at) {
      return;
    }
  }
  if (!path.empty() && at->is_map()) {
    at->erase(path.back());
  }
}

namespace {

bool needs_quotes(llvm::StringRef s) {
  if (s.empty() || bool_word(s) || null_word(s) || int_text(s) || float_text(s)) {
    return true;
  }
  if (llvm::StringRef(",[]{}#&*!|>'\"%@`").contains(s.front()) || s.front() == ' ' ||
      s.back() == ' ' || s.back() == ':') {
    return true;
  }
  // "-", "?" and ":" start a plain scalar unless a space (or nothing) follows.
  if (llvm::StringRef("-?:").contains(s.front()) && (s.size() == 1 || s[1] == ' ')) {
    return true;
  }
  if (s.contains(": ") || s.contains(" #")) {
    return true;
  }
  for (char c : s) {
    if (static_cast<unsigned char>(c) < 0x20) {
      return true;
    }
  }
  return false;
}

std::string double_quoted(llvm::StringRef s) {
  std::string out = "\"";
  for (char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\r':
        out += "\\r";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof(buf), "\\x%02X", c);
          out += buf;
        } else {
          out += c;
        }
    }
  }
  return out + "\"";
}

std::string scalar_text(const Node& n) {
  if (n.is_null()) {
    return "null";
  }
  if (n.type == ScalarType::string || n.type == ScalarType::auto_) {
    if (n.type == ScalarType::string && needs_quotes(n.text)) {
      return double_quoted(n.text);
    }
    if (n.type == ScalarType::auto_ && n.text.find('\n') != std::string::npos) {
      return double_quoted(n.text);
    }
  }
  return n.text;
}

std::string key_text(llvm::StringRef key) {
  return needs_quotes(key) ? double_quoted(key) : key.str();
}

void emit(const Node& n, int indent, std::string& out);

// The value after "key:" or "- ": inline for scalars and empty collections.
void emit_value(const Node& v, int indent, std::string& out) {
  if (v.is_map() && !v.entries.empty()) {
    out += "\n";
    emit(v, indent, out);
  } else if (v.is_seq() && !v.items.empty()) {
    out += "\n";
    emit(v, indent, out);
  } else if (v.is_map()) {
    out += " {}\n";
  } else if (v.is_seq()) {
    out += " []\n";
  } else {
    out += " " + scalar_text(v) + "\n";
  }
}

void emit(const Node& n, int indent, std::string& out) {
  std::string pad(indent, ' ');
  if (n.is_map()) {
    for (const auto& [k, v] : n.entries) {
      out += pad + key_text(k) + ":";
      emit_value(v, indent + 2, out);
    }
  } else if (n.is_seq()) {
    for (const auto& item : n.items) {
      if (item.is_map() && !item.entries.empty()) {
        // The first entry shares the dash's line; the rest align under it.
        std::string sub;
        emit(item, indent + 2, sub);
        out += pad + "- " + sub.substr(indent + 2);
      } else if (item.is_seq() && !item.items.empty()) {
        std::string sub;
        emit(item, indent + 2, sub);
        out += pad + "- " + sub.substr(indent + 2);
      } else {
        out += pad + "-";
        emit_value(item, indent + 2, out);
      }
    }
  } else {
    out += pad + scalar_text(n) + "\n";
  }
}

}  // namespace

std::string emit_yaml(const Node& node) {
  std::string out;
  if (node.is_map() && node.entries.empty()) {
    return "{}\n";
  }
  emit(node, 0, out);
  return out;
}

std::string go_duration(long long ns) {
  if (ns == 0) {
    return "0s";
  }
  std::string sign = ns < 0 ? "-" : "";
  unsigned long long u = ns < 0 ? -static_cast<unsigned long long>(ns) : ns;
  auto frac = [](unsigned long long v, unsigned long long unit) {
    std::string s = std::to_string(v / unit);
    unsigned long long rest = v % unit;
    if (rest) {
      std::string digits = std::to_string(rest + unit).substr(1);
      while (!digits.empty() && digits.back() == '0') {
        digits.pop_back();
      }
      s += "." + digits;
    }
    return s;
  };
  if (u < 1000ULL) {
    return sign + std::to_string(u) + "ns";
  }
  if (u < 1000000ULL) {
    return sign + frac(u, 1000ULL) + "µs";
  }
  if (u < 1000000000ULL) {
    return sign + frac(u, 1000000ULL) + "ms";
  }
  std::string out = sign;
  unsigned long long h = u / 3600000000000ULL;
  unsigned long long m = (u / 60000000000ULL) % 60;
  unsigned long long s = u % 60000000000ULL;
  if (h) {
    out += std::to_string(h) + "h";
  }
  if (h || m) {
    out += std::to_string(m) + "m";
  }
  return out + frac(s, 1000000000ULL) + "s";
}

bool parse_duration(llvm::StringRef text, long long& ns) {
  text = text.trim();
  if (text.empty()) {
    return false;
  }
  if (int_text(text)) {
    long long secs = 0;
    if (text.getAsInteger(10, secs)) {
      return false;
    }
    ns = secs * 1000000000LL;
    return true;
  }
  long double total = 0;
  while (!text.empty()) {
    size_t n = 0;
    while (n < text.size() && (llvm::isDigit(text[n]) || text[n] == '.')) {
      ++n;
    }
    if (n == 0) {
      return false;
    }
    long double value = std::strtold(text.substr(0, n).str().c_str(), nullptr);
    text = text.drop_front(n);
    static const std::pair<const char*, long double> units[] = {
        {"ns", 1}, {"us", 1e3}, {"µs", 1e3}, {"ms", 1e6}, {"s", 1e9}, {"m", 60e9}, {"h", 3600e9}};
    bool found = false;
    for (const auto& [name, scale] : units) {
      llvm::StringRef unit(name);
      if (text.startswith(unit) && !(unit == "m" && text.startswith("ms"))) {
        total += value * scale;
        text = text.drop_front(unit.size());
        found = true;
        break;
      }
    }
    if (!found) {
      return false;
    }
  }
  ns = static_cast<long long>(std::llround(total));
  return true;
}

}  // namespace kiln::compose
