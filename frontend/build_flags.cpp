#include "frontend/build_flags.h"

#include "frontend/line_parsers.h"
#include "support/error.h"

namespace kiln::frontend {

llvm::Error BuildFlags::parse() {
  for (const std::string& word : words_) {
    llvm::StringRef arg(word);
    if (!arg.startswith("--")) {
      return make_error("arg should start with -- : " + word);
    }
    if (arg == "--") {
      return llvm::Error::success();
    }
    arg = arg.drop_front(2);
    size_t eq = arg.find('=');
    bool has_value = eq != llvm::StringRef::npos;
    std::string name = arg.take_front(eq).str();
    std::string value = has_value ? arg.drop_front(eq + 1).str() : "";
    auto it = flags_.find(name);
    if (it == flags_.end()) {
      std::vector<std::string> names;
      for (const auto& [known, flag] : flags_) {
        names.push_back(known);
      }
      return make_error(with_suggestion("unknown flag: --" + name, name, names, true));
    }
    Flag& flag = it->second;
    if (flag.used && flag.kind != Kind::strings) {
      return make_error("duplicate flag specified: --" + name);
    }
    flag.used = true;
    switch (flag.kind) {
      case Kind::boolean: {
        if (has_value && value.empty()) {
          return make_error("missing a value on flag: --" + name);
        }
        std::string lower = llvm::StringRef(value).lower();
        if (lower.empty()) {
          flag.value = "true";
        } else if (lower == "true" || lower == "false") {
          flag.value = lower;
        } else {
          return make_error("expecting boolean value for flag --" + name + ", not: " + value);
        }
        break;
      }
      case Kind::string:
      case Kind::strings:
        if (!has_value) {
          return make_error("missing a value on flag: --" + name);
        }
        if (flag.kind == Kind::string) {
          flag.value = value;
        } else {
          flag.values.push_back(value);
        }
        break;
    }
  }
  return llvm::Error::success();
}

}  // namespace kiln::frontend
