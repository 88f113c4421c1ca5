// Small text helpers that reproduce Go's formatting, so kiln prints exactly what
// BuildKit prints: strconv.Quote, unicode.IsSpace on UTF-8, rune decoding.
// Internal to frontend/.
#pragma once

#include <string>

#include <llvm/ADT/StringRef.h>

namespace kiln::frontend {

/// Go's strconv.Quote: double-quoted, with \" \\ \n \t ... and \x.. for bytes
/// that are not valid UTF-8; printable non-ASCII characters are kept.
std::string go_quote(llvm::StringRef text);

/// Length in bytes of the UTF-8 sequence starting at `text[pos]` (1 for an
/// invalid byte, like Go's utf8.DecodeRuneInString), and its code point
/// (0xFFFD when invalid).
int utf8_rune_at(llvm::StringRef text, size_t pos, char32_t* rune);

/// Go's unicode.IsSpace for one code point.
bool go_is_space(char32_t rune);

/// Go's strings.TrimSpace (Unicode white space at both ends).
llvm::StringRef go_trim_space(llvm::StringRef text);

/// Go's strings.TrimLeftFunc(text, unicode.IsSpace).
llvm::StringRef go_trim_left_space(llvm::StringRef text);

}  // namespace kiln::frontend
