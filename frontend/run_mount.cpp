// `RUN --mount=...` specs, parsed like BuildKit's instructions.parseMount.
#include <limits>
#include <optional>

#include "frontend/go_text.h"
#include "frontend/instructions.h"
#include "frontend/line_parsers.h"
#include "support/error.h"

namespace kiln::frontend {
namespace {

/// One record of Go's encoding/csv (no lazy quotes).
llvm::Expected<std::vector<std::string>> read_csv_record(llvm::StringRef text) {
  if (text.empty()) {
    return make_error("failed to parse csv mounts: EOF");
  }
  std::vector<std::string> fields;
  size_t pos = 0;
  while (true) {
    std::string field;
    if (pos < text.size() && text[pos] == '"') {
      ++pos;
      while (true) {
        if (pos >= text.size()) {
          return make_error("failed to parse csv mounts: extraneous or missing \" in quoted-field");
        }
        if (text[pos] == '"') {
          if (pos + 1 < text.size() && text[pos + 1] == '"') {
            field += '"';
            pos += 2;
            continue;
          }
          ++pos;
          break;
        }
        field += text[pos++];
      }
      if (pos < text.size() && text[pos] != ',') {
        return make_error("failed to parse csv mounts: extraneous or missing \" in quoted-field");
      }
    } else {
      while (pos < text.size() && text[pos] != ',') {
        if (text[pos] == '"') {
          return make_error("failed to parse csv mounts: bare \" in non-quoted field");
        }
        field += text[pos++];
      }
    }
    fields.push_back(std::move(field));
    if (pos >= text.size()) {
      break;
    }
    ++pos;  // ','
  }
  return fields;
}

std::optional<bool> parse_go_bool(llvm::StringRef v) {
  if (v == "1" || v == "t" || v == "T" || v == "true" || v == "TRUE" || v == "True") {
    return true;
  }
  if (v == "0" || v == "f" || v == "F" || v == "false" || v == "FALSE" || v == "False") {
    return false;
  }
  return std::nullopt;
}

std::optional<uint32_t> parse_uint(llvm::StringRef v, unsigned radix) {
  unsigned long long n = 0;
  if (v.empty() || v.getAsInteger(radix, n) || n > std::numeric_limits<uint32_t>::max()) {
    return std::nullopt;
  }
  return static_cast<uint32_t>(n);
}

const char* type_name(RunMount::Type type) {
  switch (type) {
    case RunMount::Type::bind:
      return "bind";
    case RunMount::Type::cache:
      return "cache";
    case RunMount::Type::tmpfs:
      return "tmpfs";
    case RunMount::Type::secret:
      return "secret";
    case RunMount::Type::ssh:
      return "ssh";
  }
  return "bind";
}

/// The state of one spec being parsed.
struct MountParse {
  RunMount m;
  bool ro_auto = true;
  bool sharing_set = false;
};

llvm::Error apply_flag_word(MountParse& st, const std::string& key, const std::string& field) {
  if (key == "readonly" || key == "ro") {
    st.m.read_only = true;
    st.ro_auto = false;
  } else if (key == "readwrite" || key == "rw") {
    st.m.read_only = false;
    st.ro_auto = false;
  } else if (key == "required" &&
             (st.m.type == RunMount::Type::secret || st.m.type == RunMount::Type::ssh)) {
    st.m.required = true;
  } else if (key == "required") {
    return make_error("unexpected key '" + key + "' for mount type '" + type_name(st.m.type) + "'");
  } else {
    return make_error("invalid field '" + field + "' must be a key=value pair");
  }
  return llvm::Error::success();
}

llvm::Error apply_bool(MountParse& st, const std::string& key, const std::string& value) {
  auto b = parse_go_bool(value);
  if (!b) {
    return make_error("invalid value for " + key + ": " + value);
  }
  if (key == "required") {
    if (st.m.type != RunMount::Type::secret && st.m.type != RunMount::Type::ssh) {
      return make_error("unexpected key '" + key + "' for mount type '" + type_name(st.m.type) +
                        "'");
    }
    st.m.required = *b;
    return llvm::Error::success();
  }
  st.m.read_only = (key == "readonly" || key == "ro") ? *b : !*b;
  st.ro_auto = false;
  return llvm::Error::success();
}

// docker/go-units' RAMInBytes: a decimal number with an optional binary unit
// ("64m", "1.5GiB", "512kb").
std::optional<long long> ram_in_bytes(llvm::StringRef text) {
  size_t digits = 0;
  while (digits < text.size() && (llvm::isDigit(text[digits]) || text[digits] == '.')) {
    ++digits;
  }
  double number = 0;
  if (digits == 0 || text.take_front(digits).getAsDouble(number)) {
    return std::nullopt;
  }
  std::string unit = text.drop_front(digits).lower();
  static const char* const kUnits[] = {"", "k", "m", "g", "t", "p"};
  for (int i = 0; i < 6; ++i) {
    std::string u = kUnits[i];
    if (unit == u || (!u.empty() && (unit == u + "b" || unit == u + "ib")) ||
        (u.empty() && unit == "b")) {
      double bytes = number;
      for (int j = 0; j < i; ++j) {
        bytes *= 1024;
      }
      return static_cast<long long>(bytes);
    }
  }
  return std::nullopt;
}

llvm::Error apply_key(MountParse& st, const std::string& key, const std::string& value,
                      const std::string& field) {
  RunMount& m = st.m;
  if (key == "type") {
    static const std::vector<std::string> kTypes = {"bind", "cache", "tmpfs", "secret", "ssh"};
    std::string lower = llvm::StringRef(value).lower();
    for (size_t i = 0; i < kTypes.size(); ++i) {
      if (lower == kTypes[i]) {
        m.type = static_cast<RunMount::Type>(i);
        return llvm::Error::success();
      }
    }
    return make_error(
        with_suggestion("unsupported mount type " + go_quote(value), value, kTypes, true));
  }
  if (key == "from") {
    m.from = value;
  } else if (key == "source" || key == "src") {
    m.source = value;
  } else if (key == "target" || key == "dst" || key == "destination") {
    m.target = value;
  } else if (key == "readonly" || key == "ro" || key == "readwrite" || key == "rw" ||
             key == "required") {
    return apply_bool(st, key, value);
  } else if (key == "id") {
    m.id = value;
  } else if (key == "env") {
    m.env = value;
  } else if (key == "sharing") {
    std::string lower = llvm::StringRef(value).lower();
    if (lower == "shared") {
      m.sharing = RunMount::Sharing::shared;
    } else if (lower == "private") {
      m.sharing = RunMount::Sharing::private_;
    } else if (lower == "locked") {
      m.sharing = RunMount::Sharing::locked;
    } else {
      return make_error(with_suggestion("unsupported sharing value " + go_quote(value), value,
                                        {"shared", "private", "locked"}, true));
    }
    st.sharing_set = true;
  } else if (key == "mode" || key == "uid" || key == "gid") {
    auto n = parse_uint(value, key == "mode" ? 8 : 10);
    if (!n) {
      return make_error("invalid value " + value + " for " + key);
    }
    (key == "mode" ? m.mode : key == "uid" ? m.uid : m.gid) = *n;
  } else if (key == "size") {
    if (m.type != RunMount::Type::tmpfs) {
      return make_error("unexpected key '" + key + "' for mount type '" + type_name(m.type) + "'");
    }
    auto n = ram_in_bytes(value);
    if (!n) {
      return make_error("invalid value for " + key + ": " + value);
    }
    m.size_limit = *n;
  } else {
    static const std::vector<std::string> kKeys = {
        "type", "from", "source", "target", "readonly", "id", "sharing",   "required", "mode",
        "uid",  "gid",  "src",    "dst",    "ro",       "rw", "readwrite", "env",      "size"};
    return make_error(
        with_suggestion("unexpected key '" + key + "' in '" + field + "'", key, kKeys, true));
  }
  return llvm::Error::success();
}

llvm::Error check_mount(MountParse& st) {
  RunMount& m = st.m;
  bool file_info = m.type == RunMount::Type::secret || m.type == RunMount::Type::ssh ||
                   m.type == RunMount::Type::cache;
  std::string type = go_quote(type_name(m.type));
  if (m.mode && !file_info) {
    return make_error("mode not allowed for " + type + " type mounts");
  }
  if (m.uid && !file_info) {
    return make_error("uid not allowed for " + type + " type mounts");
  }
  if (m.gid && !file_info) {
    return make_error("gid not allowed for " + type + " type mounts");
  }
  if (st.ro_auto) {
    m.read_only = !(m.type == RunMount::Type::cache || m.type == RunMount::Type::tmpfs);
  }
  if (m.type == RunMount::Type::secret) {
    if (!m.from.empty()) {
      return make_error("secret mount should not have a from");
    }
    if (st.sharing_set) {
      return make_error("secret mount should not define sharing");
    }
    if (m.source.empty() && m.target.empty() && m.id.empty() && m.env.empty()) {
      return make_error("invalid secret mount. one of source, target required");
    }
    if (!m.source.empty() && !m.id.empty()) {
      return make_error("both source and id can't be set");
    }
    if (m.id.empty()) {
      m.id = !m.source.empty() ? m.source : llvm::StringRef(m.target).rsplit('/').second.str();
    }
    if (m.target.empty() && m.env.empty()) {
      m.target = "/run/secrets/" + m.id;
    }
  }
  if (st.sharing_set && m.type != RunMount::Type::cache) {
    return make_error(std::string("invalid cache sharing set for ") + type_name(m.type) + " mount");
  }
  if (m.type == RunMount::Type::ssh && m.id.empty()) {
    m.id = "default";
  }
  return llvm::Error::success();
}

}  // namespace

llvm::Expected<RunMount> parse_run_mount(llvm::StringRef spec, const WordExpander& expand) {
  auto fields = read_csv_record(spec);
  if (!fields) {
    return fields.takeError();
  }
  MountParse st;
  st.m.spec = spec.str();
  for (const std::string& field : *fields) {
    auto [raw_key, raw_value] = llvm::StringRef(field).split('=');
    std::string key = raw_key.lower();
    bool has_value = field.find('=') != std::string::npos;
    if (!has_value) {
      if (auto err = apply_flag_word(st, key, field)) {
        return err;
      }
      continue;
    }
    std::string value = raw_value.str();
    if (expand) {
      auto expanded = expand(value);
      if (!expanded) {
        return expanded.takeError();
      }
      value = *expanded;
    } else if (key == "from" && value.find('$') != std::string::npos &&
               value.find('$') + 1 < value.size()) {
      return make_error("'from' doesn't support variable expansion, define alias stage instead");
    } else if (value.find('$') != std::string::npos && key != "target" && key != "source" &&
               key != "src" && key != "dst" && key != "destination" && key != "id") {
      // Deferred: only known once the lowering can expand variables.
      continue;
    }
    if (auto err = apply_key(st, key, value, field)) {
      return err;
    }
  }
  if (auto err = check_mount(st)) {
    return err;
  }
  return st.m;
}

}  // namespace kiln::frontend
