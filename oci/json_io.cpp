#include "oci/json_io.h"

#include <algorithm>

#include "support/error.h"

namespace kiln::oci::detail {

llvm::Expected<Json> parse_json(llvm::StringRef text, llvm::StringRef what) {
  try {
    return Json::parse(text.begin(), text.end());
  } catch (const nlohmann::json::exception& e) {
    return make_error(what + ": malformed JSON: " + e.what());
  }
}

std::string dump_go(const Json& value) {
  std::string raw = value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  std::string out;
  out.reserve(raw.size() + 16);
  for (size_t i = 0; i < raw.size(); ++i) {
    char c = raw[i];
    if (c == '<') {
      out += "\\u003c";
    } else if (c == '>') {
      out += "\\u003e";
    } else if (c == '&') {
      out += "\\u0026";
    } else if (c == '\xe2' && i + 2 < raw.size() && raw[i + 1] == '\x80' &&
               (raw[i + 2] == '\xa8' || raw[i + 2] == '\xa9')) {
      out += raw[i + 2] == '\xa8' ? "\\u2028" : "\\u2029";
      i += 2;
    } else {
      out += c;
    }
  }
  return out;
}

const Json* ObjectReader::find(const char* key) const {
  auto it = object_.find(key);
  if (it == object_.end() || it->is_null()) {
    return nullptr;
  }
  return &*it;
}

std::string ObjectReader::path_of(const char* key) const {
  return path_.empty() ? std::string(key) : path_ + "." + key;
}

llvm::Error ObjectReader::fail(const char* key, llvm::StringRef message) const {
  return make_error(quote(path_of(key)) + ": " + message);
}

llvm::Error ObjectReader::string(const char* key, std::string& out) const {
  const Json* v = find(key);
  if (!v) {
    return llvm::Error::success();
  }
  if (!v->is_string()) {
    return fail(key, "expected a string");
  }
  out = v->get<std::string>();
  return llvm::Error::success();
}

llvm::Error ObjectReader::int64(const char* key, int64_t& out) const {
  const Json* v = find(key);
  if (!v) {
    return llvm::Error::success();
  }
  if (!v->is_number_integer()) {
    return fail(key, "expected an integer");
  }
  out = v->get<int64_t>();
  return llvm::Error::success();
}

llvm::Error ObjectReader::boolean(const char* key, bool& out) const {
  const Json* v = find(key);
  if (!v) {
    return llvm::Error::success();
  }
  if (!v->is_boolean()) {
    return fail(key, "expected true or false");
  }
  out = v->get<bool>();
  return llvm::Error::success();
}

llvm::Error ObjectReader::strings(const char* key, std::vector<std::string>& out) const {
  const Json* v = find(key);
  if (!v) {
    return llvm::Error::success();
  }
  if (!v->is_array()) {
    return fail(key, "expected an array of strings");
  }
  out.clear();
  for (const auto& item : *v) {
    if (!item.is_string()) {
      return fail(key, "expected an array of strings");
    }
    out.push_back(item.get<std::string>());
  }
  return llvm::Error::success();
}

llvm::Error ObjectReader::string_map(const char* key,
                                     std::map<std::string, std::string>& out) const {
  const Json* v = find(key);
  if (!v) {
    return llvm::Error::success();
  }
  if (!v->is_object()) {
    return fail(key, "expected an object of strings");
  }
  out.clear();
  for (const auto& [k, item] : v->items()) {
    if (!item.is_string()) {
      return fail(key, "expected an object of strings");
    }
    out[k] = item.get<std::string>();
  }
  return llvm::Error::success();
}

llvm::Error ObjectReader::key_set(const char* key, std::vector<std::string>& out) const {
  const Json* v = find(key);
  if (!v) {
    return llvm::Error::success();
  }
  if (!v->is_object()) {
    return fail(key, "expected an object");
  }
  out.clear();
  for (const auto& [k, item] : v->items()) {
    out.push_back(k);
  }
  std::sort(out.begin(), out.end());
  return llvm::Error::success();
}

}  // namespace kiln::oci::detail
