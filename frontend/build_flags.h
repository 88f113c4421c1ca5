// The `--name=value` flags of an instruction, checked like BuildKit's BFlags.
// Internal to frontend/.
#pragma once

#include <map>
#include <string>
#include <vector>

#include <llvm/ADT/StringRef.h>
#include <llvm/Support/Error.h>

namespace kiln::frontend {

/// Declares which flags an instruction accepts, then parses its flag words.
class BuildFlags {
 public:
  explicit BuildFlags(std::vector<std::string> words) : words_(std::move(words)) {}

  /// `--name`, `--name=true|false`.
  void add_bool(const std::string& name) { flags_[name] = Flag{Kind::boolean, false, {}, {}}; }
  /// `--name=value`, at most once.
  void add_string(const std::string& name) { flags_[name] = Flag{Kind::string, false, {}, {}}; }
  /// `--name=value`, repeatable.
  void add_strings(const std::string& name) { flags_[name] = Flag{Kind::strings, false, {}, {}}; }

  /// Checks the words against the declared flags. Errors: "unknown flag:
  /// --chwon (did you mean chown?)", "duplicate flag specified: --from",
  /// "missing a value on flag: --from", "expecting boolean value for flag
  /// --link, not: maybe".
  llvm::Error parse();

  bool used(const std::string& name) const { return flags_.at(name).used; }
  bool bool_value(const std::string& name) const { return flags_.at(name).value == "true"; }
  const std::string& string_value(const std::string& name) const { return flags_.at(name).value; }
  const std::vector<std::string>& strings_value(const std::string& name) const {
    return flags_.at(name).values;
  }

 private:
  enum class Kind { boolean, string, strings };
  struct Flag {
    Kind kind;
    bool used = false;
    std::string value;
    std::vector<std::string> values;
  };
  std::vector<std::string> words_;
  std::map<std::string, Flag> flags_;
};

}  // namespace kiln::frontend
