// A compose file as a tree: YAML read with yaml-cpp (anchors, aliases and `<<`
// merge keys resolved) into plain values that remember their file and line, so
// that every later phase (interpolation, validation, merging, normalization) can
// name the place of a bad value. The same tree, normalized, is what
// `kiln compose config` prints (emit_yaml()).
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <llvm/ADT/ArrayRef.h>
#include <llvm/ADT/StringRef.h>
#include <llvm/Support/Error.h>

namespace kiln::compose {

/// Where a value was written: a file and its 1-based line (0 when made up).
struct Location {
  std::shared_ptr<const std::string> file;
  int line = 0;
  /// "FILE:LINE" (or "FILE", or "" when unknown).
  std::string str() const;
};

/// How a scalar prints and what it means: a plain YAML scalar's type is decided by
/// its text (auto: int, float, bool, null or string); a quoted one is a string.
enum class ScalarType { auto_, string, integer, boolean };

/// One YAML value. Mappings keep their keys' order.
struct Node {
  enum class Kind { null, scalar, sequence, mapping };
  Kind kind = Kind::null;
  std::string text;  ///< a scalar's text
  ScalarType type = ScalarType::auto_;
  std::vector<Node> items;                            ///< a sequence's items
  std::vector<std::pair<std::string, Node>> entries;  ///< a mapping's entries
  /// Each entry's key line, when read from a file (parallel to `entries`; may be
  /// shorter for entries added later).
  std::vector<int> key_lines;
  Location where;

  static Node null_value() { return Node{}; }
  static Node str(std::string text, ScalarType type = ScalarType::string);
  static Node integer(long long value);
  static Node boolean(bool value);
  static Node map();
  static Node seq();

  bool is_null() const { return kind == Kind::null; }
  bool is_scalar() const { return kind == Kind::scalar; }
  bool is_seq() const { return kind == Kind::sequence; }
  bool is_map() const { return kind == Kind::mapping; }
  /// Where a mapping's `index`th key was written.
  Location key_where(size_t index) const;
  /// A mapping's value for `key`, or null.
  const Node* find(llvm::StringRef key) const;
  Node* find(llvm::StringRef key);
  /// Sets (replacing in place, or appending) a mapping's `key`.
  Node& set(llvm::StringRef key, Node value);
  /// Removes a mapping's `key` when present.
  void erase(llvm::StringRef key);
  /// A scalar read as YAML 1.2 core schema would: "true"/"false" (and docker's
  /// yes/no/on/off), integers in decimal, null words.
  bool is_bool_text() const;
  bool is_int_text() const;
  bool is_float_text() const;
  bool is_null_text() const;
  /// "null", "string", "number", "boolean", "array" or "object" (JSON schema words).
  std::string type_name() const;
};

/// The values of a file tagged `!reset` or `!override` (the Compose
/// Specification's merge tags), by their mapping keys from the root: what the
/// files merged before said there is dropped before this file is merged. A
/// `!reset` value itself is left out of the file's tree.
struct MergeTags {
  std::vector<std::vector<std::string>> replaced;
};

/// Parses `text` (the file `path`, for locations). Merge keys (`<<: *a` or a list
/// of aliases) are applied; a YAML syntax error names the file and line. The
/// merge tags go to `tags` (optional).
llvm::Expected<Node> parse_yaml(llvm::StringRef text, llvm::StringRef path,
                                MergeTags* tags = nullptr);

/// Reads and parses the file at `path`.
llvm::Expected<Node> load_yaml_file(llvm::StringRef path, MergeTags* tags = nullptr);

/// Removes the value at `path` (mapping keys from `node`) when it is there.
void remove_path(Node& node, llvm::ArrayRef<std::string> path);

/// The tree as YAML, in go-yaml's style (two-space indents, block sequences
/// indented under their key, strings quoted only where they would read as
/// something else).
std::string emit_yaml(const Node& node);

/// Go's time.Duration text for `seconds_ns` nanoseconds ("1m30s", "500ms", "0s").
std::string go_duration(long long ns);
/// Parses a compose duration ("1m30s", "10s", "1.5s", "100ms", "2h", a bare number
/// of seconds); false when invalid.
bool parse_duration(llvm::StringRef text, long long& ns);

}  // namespace kiln::compose
