// `.dockerignore` patterns with Docker's semantics (moby/patternmatcher and
// moby/buildkit's dockerignore reader): `*`, `?`, `**`, `[...]`, `\` escapes,
// `!` exceptions, the last matching pattern wins, a pattern that matches a
// directory also matches everything below it.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include <llvm/ADT/StringRef.h>
#include <llvm/Support/Error.h>

namespace kiln::frontend {

/// Reads a .dockerignore file's `text` into patterns: strips a UTF-8 BOM, skips
/// comments (`#`) and blank lines, trims spaces, cleans each path (`a/../b` ->
/// `b`), drops a leading `/`; keeps a leading `!`. Never fails.
std::vector<std::string> read_dockerignore(llvm::StringRef text);

/// Loads the ignore patterns for a build: `<dockerfile>.dockerignore` next to
/// the Dockerfile when it exists, else `<context_dir>/.dockerignore`, else none.
/// Fails only when an existing file cannot be read.
llvm::Expected<std::vector<std::string>> load_dockerignore(llvm::StringRef context_dir,
                                                           llvm::StringRef dockerfile_path);

/// `kiln debug dockerignore`: whether the ignore file of a build of `context_dir`
/// (load_dockerignore(); `dockerfile_path` "" means CONTEXT/Dockerfile) excludes
/// each of `paths` (relative to the context), in order. Fails when the file cannot
/// be read, or with "read .dockerignore: ..." when a pattern does not compile.
llvm::Expected<std::vector<bool>> dockerignore_excludes(llvm::StringRef context_dir,
                                                        llvm::StringRef dockerfile_path,
                                                        const std::vector<std::string>& paths);

/// A compiled pattern list. Immutable after create(); thread-safe.
class PatternMatcher {
 public:
  /// Compiles `patterns` (as read_dockerignore returns them). Fails on a bad
  /// pattern (e.g. "illegal exclusion pattern: '!'", a bad `[` class).
  static llvm::Expected<PatternMatcher> create(const std::vector<std::string>& patterns);

  /// True when `path` (relative to the context, '/'-separated) is excluded:
  /// the last pattern matching it or one of its parent directories decides.
  bool matches(llvm::StringRef path) const;

  /// For walkers that skip whole directories.
  struct DirDecision {
    /// The directory itself is excluded.
    bool excluded = false;
    /// The walker must enter the directory (checking each entry): true when it
    /// is not excluded, or when some `!` pattern could re-include a path below
    /// it; false means the whole subtree can be skipped.
    bool must_descend = true;
  };
  /// Decides for directory `dir` (relative, '/'-separated).
  DirDecision match_dir(llvm::StringRef dir) const;

  /// True when some pattern is a `!` exception.
  bool has_exclusions() const { return has_exclusions_; }
  /// True when there are no patterns.
  bool empty() const { return patterns_.empty(); }

 private:
  /// One element of a compiled pattern (see dockerignore.cpp).
  struct Token {
    enum Kind { literal, star, one, any_dirs, any_rest, char_class } kind;
    char c = 0;
    /// char_class: ranges as pairs (lo, hi), `negated` for `[^...]`.
    std::vector<std::pair<char32_t, char32_t>> ranges;
    bool negated = false;
  };
  struct Pattern {
    std::string text;                // cleaned, without '!'
    std::vector<std::string> parts;  // split on '/'
    /// Each of `parts` compiled; empty when the part holds "**" (any depth).
    std::vector<std::optional<std::vector<Token>>> part_tokens;
    bool exclusion = false;
    std::vector<Token> tokens;  // compiled `text`
  };
  static llvm::Error compile(llvm::StringRef text, std::vector<Token>* tokens);
  static bool match_tokens(const std::vector<Token>& tokens, llvm::StringRef path);
  static bool could_match_below(const Pattern& pattern, llvm::StringRef dir);
  /// Whether pattern `index` matches `path` or one of its parent directories.
  bool pattern_matches(size_t index, llvm::StringRef path) const;
  /// Files patterns into literal_, by_first_ or wild_first_.
  void index_pattern(size_t index);
  std::vector<Pattern> patterns_;
  bool has_exclusions_ = false;
  /// Lookups that keep matches() near-linear in the number of patterns that
  /// could match a path. The highest index of the patterns that are plain
  /// text, by that text:
  std::unordered_map<std::string, size_t> literal_;
  /// The other patterns by their first path component when it is plain text,
  /// ascending indexes:
  std::unordered_map<std::string, std::vector<size_t>> by_first_;
  /// The patterns whose first component has a wildcard, ascending:
  std::vector<size_t> wild_first_;
  /// The `!` patterns, ascending (for match_dir).
  std::vector<size_t> exclusions_;
};

}  // namespace kiln::frontend
