// Internal to oci/: nlohmann-json helpers shared by the document parsers and writers.
#pragma once

#include <map>
#include <string>
#include <vector>

#include <llvm/ADT/StringRef.h>
#include <llvm/Support/Error.h>
#include <nlohmann/json.hpp>

namespace kiln::oci::detail {

using Json = nlohmann::ordered_json;

/// Parses `text`; a syntax error becomes "`what`: malformed JSON: <reason>".
llvm::Expected<Json> parse_json(llvm::StringRef text, llvm::StringRef what);

/// Serializes like Go's encoding/json.Marshal: compact, UTF-8 kept, '<' '>' '&' and
/// U+2028/U+2029 escaped as \u003c..., invalid UTF-8 replaced by U+FFFD.
std::string dump_go(const Json& value);

/// Typed access to an object's members with errors naming the member's path
/// ("layers[0].size"). Missing members leave the output unchanged.
class ObjectReader {
 public:
  ObjectReader(const Json& object, std::string path) : object_(object), path_(std::move(path)) {}

  llvm::Error string(const char* key, std::string& out) const;
  llvm::Error int64(const char* key, int64_t& out) const;
  llvm::Error boolean(const char* key, bool& out) const;
  /// An array of strings; null is treated as absent.
  llvm::Error strings(const char* key, std::vector<std::string>& out) const;
  /// An object of string values.
  llvm::Error string_map(const char* key, std::map<std::string, std::string>& out) const;
  /// The keys of an object, sorted (values ignored), e.g. ExposedPorts.
  llvm::Error key_set(const char* key, std::vector<std::string>& out) const;
  /// The member `key` when present and not null.
  const Json* find(const char* key) const;
  /// The path of member `key` for messages.
  std::string path_of(const char* key) const;
  /// "'path': message".
  llvm::Error fail(const char* key, llvm::StringRef message) const;

 private:
  const Json& object_;
  std::string path_;
};

}  // namespace kiln::oci::detail
