// Dockerfile lint rules with BuildKit's names and texts (`kiln build --check`).
#pragma once

#include <string>
#include <vector>

#include <llvm/ADT/StringRef.h>
#include <llvm/Support/Error.h>

#include "frontend/instructions.h"
#include "frontend/lower.h"

namespace kiln::frontend {

/// A lint rule as BuildKit defines it.
struct LintRule {
  const char* name;
  const char* description;
  const char* url;
};

/// The rule named `name`, or null.
const LintRule* find_lint_rule(llvm::StringRef name);

/// The option closest to `name` (case-insensitive edit distance, at most 2 and
/// less than the name's length), or "" when none is close. For "did you mean".
std::string suggest_name(llvm::StringRef name, const std::vector<std::string>& options);

/// Runs every rule on `dockerfile`: the syntax rules (casing, JSON args, legacy
/// key/value, MAINTAINER, duplicate stage names, empty continuations) and the
/// ones found while lowering all stages with `options` (UndefinedVar,
/// UndefinedArgInFrom, WorkdirRelativePath). Findings are sorted by line. Fails
/// when the lowering fails.
llvm::Expected<std::vector<LintWarning>> lint_dockerfile(const Dockerfile& dockerfile,
                                                         LowerOptions options);

/// `warning` as `docker build --check` shows it: a blank line, "WARNING: RULE -
/// URL", the detail, then the lines of `ast` around the warning's range as
/// BuildKit's errdefs.Source.Print does ("FILE:LINE", dashes, about two lines
/// either side with ">>>" on the range, dashes; no lines when the range is
/// outside the source).
std::string format_lint_warning(const LintWarning& warning, const Ast& ast);

/// `build --check`'s report of `warnings` in the Dockerfile of `ast`: "Check
/// complete, no warnings found.\n", or "Check complete, 1 warning has been
/// found!\n" ("N warnings have been found!") and each format_lint_warning().
std::string lint_check_text(const std::vector<LintWarning>& warnings, const Ast& ast);

}  // namespace kiln::frontend
