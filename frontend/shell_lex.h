// Shell-word expansion and splitting exactly like BuildKit's shell lexer
// (frontend/dockerfile/shell/lex.go): quotes, escapes, `$v`, `${v}` and the
// modifiers `:- - :+ + :? ? # ## % %% / //`. Used while lowering, when ARG and
// ENV values are known.
#pragma once

#include <cstddef>
#include <functional>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <llvm/ADT/StringRef.h>
#include <llvm/Support/Error.h>

namespace kiln::frontend {

/// Limits that keep a hostile Dockerfile from exhausting kiln: how deep `${`
/// may nest, and how much one word may grow by expansion, beyond its own
/// length (`ENV B=$A$A` doubling).
/// Past either, processing a word fails with a message naming the limit.
inline constexpr int kMaxSubstitutionDepth = 100;
inline constexpr size_t kMaxExpandedWord = size_t{1} << 20;
/// How many expanded bytes one Dockerfile's lowering may produce in all.
inline constexpr size_t kMaxExpandedTotal = size_t{64} << 20;

/// Looks a variable up: its value, or nullopt when it is not set. An empty
/// string means "set but empty".
using EnvLookup = std::function<std::optional<std::string>(llvm::StringRef name)>;

/// The result of processing one word.
struct ShellWordResult {
  /// The word with quotes removed and variables expanded.
  std::string result;
  /// The same split into words on unquoted whitespace (after expansion).
  std::vector<std::string> words;
  /// Variable names that were looked up and found / not found.
  std::set<std::string> matched;
  std::set<std::string> unmatched;
};

/// BuildKit's shell.Lex. Cheap to copy; const methods are thread-safe.
class ShellLex {
 public:
  /// `escape_token` is '\\' or '`' (the Dockerfile's `# escape=`).
  explicit ShellLex(char escape_token = '\\') : escape_token_(escape_token) {}

  /// Keep quote characters in the result (heredoc bodies).
  bool raw_quotes = false;
  /// Keep escape characters in the result (heredoc bodies).
  bool raw_escapes = false;
  /// Do not treat quotes specially.
  bool skip_process_quotes = false;
  /// Leave `$unset` / `${unset...}` as written instead of expanding to "".
  bool skip_unset_env = false;

  char escape_token() const { return escape_token_; }

  /// Expands `word` with `env` into one string (spaces kept). Fails with
  /// BuildKit's message, e.g. `failed to process "${}": syntax error: bad substitution`.
  llvm::Expected<std::string> process_word(llvm::StringRef word, const EnvLookup& env) const;

  /// Expands `word` and splits the result into words like a shell would
  /// (quoted spaces kept): `a "b c"` -> {"a", "b c"}.
  llvm::Expected<std::vector<std::string>> process_words(llvm::StringRef word,
                                                         const EnvLookup& env) const;

  /// Both, plus which variables were matched and unmatched (for lint rules).
  llvm::Expected<ShellWordResult> process_word_with_matches(llvm::StringRef word,
                                                            const EnvLookup& env) const;

 private:
  char escape_token_;
};

/// An EnvLookup over `KEY=value` strings (later entries win; "KEY" alone is set
/// to ""). The vector must outlive the lookup.
EnvLookup env_lookup_from_list(const std::vector<std::string>& env);

}  // namespace kiln::frontend
