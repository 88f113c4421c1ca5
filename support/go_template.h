// A Go text/template engine for docker's `--format` flags: the subset docker's docs
// and common scripts use (fields, pipelines, variables, if/else/with/range, the
// builtin functions and docker's json, join, split, lower, upper, title, pad,
// truncate), evaluated over a JSON value tree.
#pragma once

#include <memory>
#include <string>

#include <llvm/ADT/StringRef.h>
#include <llvm/Support/Error.h>
#include <nlohmann/json.hpp>

namespace kiln::support {

namespace go_template_detail {
struct List;
}

/// A parsed template. Immutable once parsed; `execute` is thread-safe.
///
/// Data is a JSON tree: `.Name` reads an object member, `{{json .}}` re-encodes a
/// value in the tree's member order, and plain output follows Go's fmt (`[a b]` for
/// arrays, `map[k:v]` with sorted keys for objects, `<no value>` for a missing
/// member, `<nil>` for null).
class GoTemplate {
 public:
  /// Parses `text`. Fails with "line N: ..." for a syntax error, an unknown
  /// function or an undefined variable.
  static llvm::Expected<GoTemplate> parse(llvm::StringRef text);

  /// Which functions a run sees: docker's own, or docker's header set, where json,
  /// join, split, lower, upper, title, pad and truncate return their first argument
  /// unchanged (so `table {{.Names | upper}}` keeps the header "NAMES").
  enum class Functions { normal, header };

  /// Runs the template with `data` as dot. Fails when evaluation does (a field of
  /// a string, a bad argument to a function, an index out of range, ...).
  llvm::Expected<std::string> execute(const nlohmann::ordered_json& data,
                                      Functions functions = Functions::normal) const;

 private:
  explicit GoTemplate(std::shared_ptr<const go_template_detail::List> root)
      : root_(std::move(root)) {}
  std::shared_ptr<const go_template_detail::List> root_;
};

/// Go's `fmt.Sprint` of one value of the tree (what `{{.X}}` prints).
std::string go_print(const nlohmann::ordered_json& value);

/// Go's `strconv.Quote` of UTF-8 text: quotes, backslashes and control bytes escaped
/// (`\n`, `\t`, `\r`, else `\xNN`); other bytes as they are.
std::string go_quote(const std::string& text);

/// docker's template preprocessing: the literal two-character escapes `\t` and `\n`
/// become a tab and a newline (shells pass them unexpanded).
std::string expand_format_escapes(llvm::StringRef format);

}  // namespace kiln::support
