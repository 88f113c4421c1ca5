// The per-instruction line parsers of BuildKit's Dockerfile parser: split a
// logical line into keyword, flags and arguments. Internal to frontend/.
#pragma once

#include <string>
#include <vector>

#include <llvm/ADT/StringRef.h>
#include <llvm/Support/Error.h>

#include "frontend/ast.h"

namespace kiln::frontend {

/// The instruction keywords kiln knows, lowercased, in BuildKit's order.
const std::vector<std::string>& instruction_keywords();

/// Builds the node for one logical `line` (continuations joined): keyword,
/// flags, and the arguments split by the keyword's line parser. `escape` is the
/// escape token. Fails with a plain error message (no location), e.g.
/// "ENV must have two arguments". Unknown keywords fail with a suggestion.
llvm::Expected<Node> node_from_line(llvm::StringRef line, char escape);

/// Splits `rest` into words the way BuildKit's parseWords does (quotes kept,
/// escape + char kept, whitespace separates).
std::vector<std::string> parse_words(llvm::StringRef rest, char escape);

/// The closest of `options` to `value` (edit distance with transpositions < 3, ties to the
/// first), or "" when none is close; compares case-insensitively unless
/// `case_sensitive`.
std::string suggest(llvm::StringRef value, const std::vector<std::string>& options,
                    bool case_sensitive);

/// `message` followed by BuildKit's suggestion text " (did you mean X?)" when one of
/// `options` is close to `value` (unquoted, as BuildKit prints it; when not
/// `case_sensitive`, X takes the case of `value` if that is all lower or all upper).
std::string with_suggestion(std::string message, llvm::StringRef value,
                            const std::vector<std::string>& options, bool case_sensitive);

}  // namespace kiln::frontend
