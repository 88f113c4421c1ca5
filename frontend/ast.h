// The Dockerfile syntax tree, as BuildKit's parser builds it
// (moby/buildkit frontend/dockerfile/parser): one node per instruction, its
// arguments already split the way the instruction's line parser splits them,
// flags kept apart, heredocs attached, and the source lines it came from.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include <llvm/ADT/StringRef.h>
#include <llvm/Support/Error.h>

#include "support/error.h"

namespace kiln::frontend {

/// One here-document of a RUN/COPY/ADD instruction (`<<EOF` ... `EOF`).
struct Heredoc {
  /// The delimiter word without quotes or `-` (e.g. "EOF").
  std::string name;
  /// The body as written: every line after the instruction up to the delimiter
  /// line, each with its "\n" (with `<<-` the tabs are still there: body() strips
  /// them; a multi-heredoc RUN hands the raw text to the shell, as BuildKit does).
  std::string content;
  /// False when the delimiter was quoted (`<<'EOF'`, `<<"EOF"`): no expansion.
  bool expand = true;
  /// True for `<<-EOF` (leading tabs stripped).
  bool chomp = false;
  bool operator==(const Heredoc&) const = default;
  /// The body as the file or script gets it: `content` with leading tabs removed
  /// from every line when `chomp`.
  std::string body() const;
};

/// One parsed instruction (or, for ONBUILD, the instruction it wraps).
struct Node {
  /// The instruction keyword, lowercased ("run", "from", ...).
  std::string keyword;
  /// The arguments as the instruction's line parser split them: for shell form
  /// one string (the rest of the line), for JSON form one string per element,
  /// for ENV/LABEL triples (key, value, separator "" or "="), for ONBUILD empty
  /// (see `children`).
  std::vector<std::string> args;
  /// ONBUILD only: the wrapped instruction (exactly one element).
  std::vector<Node> children;
  /// The `--name[=value]` words before the arguments, as written ("--from=x").
  std::vector<std::string> flags;
  /// Here-documents, in the order their `<<` markers appear on the line.
  std::vector<Heredoc> heredocs;
  /// True when the arguments were written in JSON (exec) form.
  bool json = false;
  /// The instruction as written, continuation lines joined (escape + newline
  /// removed), without heredoc bodies; e.g. "RUN make all".
  std::string original;
  /// The instruction's first and last line (1-based, inclusive), heredoc bodies
  /// included.
  SourceRange range;
  /// Comment lines ("# ..." without "# ") directly above the instruction.
  std::vector<std::string> prev_comment;
};

/// A parser directive found at the top of the file (`# syntax=...`).
struct Directive {
  /// Lowercased name: "syntax", "escape" or "check".
  std::string name;
  std::string value;
  /// The line it was on (1-based).
  int line = 0;
};

/// A non-fatal finding of the parser (BuildKit prints these as warnings),
/// e.g. an empty continuation line.
struct ParseWarning {
  /// BuildKit's lint rule name when there is one ("NoEmptyContinuation"), else "".
  std::string rule;
  std::string message;
  SourceRange range;
};

/// The whole parsed file.
struct Ast {
  /// The file name used in errors (e.g. "Dockerfile").
  std::string file_name;
  /// The file's full text, shared with the errors that point into it.
  std::shared_ptr<const std::string> source;
  /// The escape token: '\\' or '`' (from `# escape=`).
  char escape_token = '\\';
  /// Parser directives in file order.
  std::vector<Directive> directives;
  /// The instructions in file order.
  std::vector<Node> nodes;
  std::vector<ParseWarning> warnings;
};

/// Parses Dockerfile `text` into its syntax tree exactly like BuildKit's
/// parser.Parse: directives, comments, continuations, heredocs, JSON/shell form,
/// flags. Fails with a SourceError naming `file_name` and the lines (unknown
/// instruction with a "did you mean" suggestion, empty file, missing
/// arguments, unterminated heredoc, repeated directive, ...). Thread-safe.
llvm::Expected<Ast> parse_ast(llvm::StringRef text, llvm::StringRef file_name);

/// Prints one node in BuildKit's dump format (the `result` files of its parser
/// tests), e.g. `(run ["--mount=type=cache,target=/x"] "make")`, no newline.
std::string dump_node(const Node& node);

/// Prints every node of `ast`, one per line, each followed by "\n".
std::string dump_ast(const Ast& ast);

/// Makes a SourceError for `range` of the file that `ast` was parsed from.
llvm::Error make_source_error(const Ast& ast, const llvm::Twine& message, SourceRange range);

}  // namespace kiln::frontend
