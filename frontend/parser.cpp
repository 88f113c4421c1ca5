// parse_ast: BuildKit's parser.Parse loop (directives, comments, continuations,
// heredocs) on top of the line parsers.
#include <algorithm>
#include <cctype>
#include <optional>

#include "frontend/ast.h"
#include "frontend/go_text.h"
#include "frontend/line_parsers.h"
#include "frontend/shell_lex.h"
#include "support/error.h"

namespace kiln::frontend {
namespace {

/// Go's bytes.TrimRight(line, "\r\n").
llvm::StringRef trim_newline(llvm::StringRef line) { return line.rtrim("\r\n"); }

bool is_comment(llvm::StringRef raw) {
  return go_trim_left_space(trim_newline(raw)).startswith("#");
}

/// Splits `text` into lines, each keeping its "\n" (BuildKit's scanLines).
std::vector<llvm::StringRef> split_lines(llvm::StringRef text) {
  std::vector<llvm::StringRef> lines;
  while (!text.empty()) {
    size_t nl = text.find('\n');
    size_t len = nl == llvm::StringRef::npos ? text.size() : nl + 1;
    lines.push_back(text.take_front(len));
    text = text.drop_front(len);
  }
  return lines;
}

/// Recognizes parser directives at the top of the file (`# name=value`).
class DirectiveParser {
 public:
  /// Looks at one line (newline and leading space trimmed); fails on a repeat
  /// or a bad escape token.
  llvm::Error parse_line(llvm::StringRef line, int line_number, Ast* ast) {
    if (done_) {
      return llvm::Error::success();
    }
    std::string name, value;
    if (!match(line, &name, &value)) {
      done_ = true;
      return llvm::Error::success();
    }
    std::string key = llvm::StringRef(name).lower();
    if (key != "syntax" && key != "escape" && key != "check") {
      done_ = true;
      return llvm::Error::success();
    }
    for (const Directive& seen : ast->directives) {
      if (seen.name == key) {
        return make_error("only one " + key + " parser directive can be used");
      }
    }
    ast->directives.push_back({key, value, line_number});
    if (key == "escape") {
      if (value != "`" && value != "\\") {
        return make_error("invalid escape token '" + value + "' does not match ` or \\");
      }
      ast->escape_token = value[0];
    }
    return llvm::Error::success();
  }

 private:
  /// `^#\s*([a-zA-Z][a-zA-Z0-9]*)\s*=\s*(.+?)\s*$`
  static bool match(llvm::StringRef line, std::string* name, std::string* value) {
    if (!line.consume_front("#")) {
      return false;
    }
    line = line.ltrim(" \t\n\f\r");
    size_t n = 0;
    while (n < line.size() && (std::isalpha(static_cast<unsigned char>(line[n])) ||
                               (n > 0 && std::isdigit(static_cast<unsigned char>(line[n]))))) {
      ++n;
    }
    if (n == 0) {
      return false;
    }
    *name = line.take_front(n).str();
    line = line.drop_front(n).ltrim(" \t\n\f\r");
    if (!line.consume_front("=")) {
      return false;
    }
    if (line.empty()) {
      return false;
    }
    llvm::StringRef rest = line.ltrim(" \t\n\f\r").rtrim(" \t\n\f\r");
    *value = rest.empty() ? line.take_back(1).str() : rest.str();
    return true;
  }

  bool done_ = false;
};

/// BuildKit's trimContinuationCharacter: `([^E])E[ \t]*$|^E[ \t]*$` -> "$1".
bool trim_continuation(std::string* line, char escape) {
  llvm::StringRef text(*line);
  llvm::StringRef body = text.rtrim(" \t");
  if (!body.endswith(std::string(1, escape))) {
    return false;
  }
  if (body.size() >= 2 && body[body.size() - 2] == escape) {
    return false;
  }
  line->resize(body.size() - 1);
  return true;
}

/// BuildKit's heredoc word: `^(\d*)<<(-?)([^<]*)$`.
llvm::Expected<std::optional<Heredoc>> parse_heredoc_word(llvm::StringRef word) {
  size_t digits = 0;
  while (digits < word.size() && std::isdigit(static_cast<unsigned char>(word[digits]))) {
    ++digits;
  }
  llvm::StringRef after = word.drop_front(digits);
  if (!after.consume_front("<<")) {
    return std::nullopt;
  }
  bool chomp = after.consume_front("-");
  if (after.empty() || after.contains('<')) {
    return std::nullopt;
  }
  std::string rest = after.str();
  ShellLex lex('\\');
  lex.skip_unset_env = true;
  auto words = lex.process_words(rest, nullptr);
  if (!words) {
    return words.takeError();
  }
  if (words->size() != 1) {
    return std::nullopt;
  }
  lex.raw_quotes = true;
  auto raw = lex.process_words(rest, nullptr);
  if (!raw) {
    return raw.takeError();
  }
  if (raw->size() != 1) {
    return make_error("internal lexing of heredoc produced inconsistent results: " + rest);
  }
  auto quotes = [](const std::string& s) {
    return std::count(s.begin(), s.end(), '\'') + std::count(s.begin(), s.end(), '"');
  };
  Heredoc doc;
  doc.name = (*words)[0];
  doc.expand = quotes((*words)[0]) == quotes((*raw)[0]);
  doc.chomp = chomp;
  return doc;
}

/// The heredoc markers in one instruction line, in order.
llvm::Expected<std::vector<Heredoc>> heredocs_from_line(llvm::StringRef line) {
  ShellLex lex('\\');
  lex.raw_quotes = true;
  lex.raw_escapes = true;
  lex.skip_unset_env = true;
  auto words = lex.process_words(line, nullptr);
  std::vector<Heredoc> docs;
  if (!words) {
    llvm::consumeError(words.takeError());
    return docs;
  }
  for (const std::string& word : *words) {
    auto doc = parse_heredoc_word(word);
    if (!doc) {
      return doc.takeError();
    }
    if (*doc) {
      docs.push_back(std::move(**doc));
    }
  }
  return docs;
}

bool can_contain_heredoc(const Node& node) {
  const Node* target = &node;
  if (node.keyword == "onbuild" && !node.children.empty()) {
    target = &node.children[0];
  }
  const std::string& k = target->keyword;
  return (k == "run" || k == "copy" || k == "add") && !target->json;
}

/// Removes leading tabs from every line (`<<-`).
std::string chomp_tabs(llvm::StringRef content) {
  std::string out;
  bool line_start = true;
  for (char c : content) {
    if (line_start && c == '\t') {
      continue;
    }
    line_start = c == '\n';
    out += c;
  }
  return out;
}

/// Parser state over the file's lines.
class Parser {
 public:
  Parser(llvm::StringRef text, llvm::StringRef file_name) {
    ast_.file_name = file_name.str();
    ast_.source = std::make_shared<const std::string>(text.str());
    lines_ = split_lines(*ast_.source);
  }

  llvm::Expected<Ast> run();

 private:
  llvm::Error error_at(llvm::Error err, int start, int end) {
    std::vector<SourceRange> ranges;
    if (start > 0) {
      ranges.push_back({start, std::max(start, end)});
    }
    return llvm::make_error<SourceError>(error_message(std::move(err)), ast_.file_name,
                                         std::move(ranges), ast_.source);
  }
  /// processLine: trims the newline (and leading space when `strip_left`),
  /// feeds the directive parser, drops a comment line's text.
  llvm::Expected<std::string> process_line(llvm::StringRef raw, bool strip_left, int line_number) {
    llvm::StringRef token = trim_newline(raw);
    if (strip_left) {
      token = go_trim_left_space(token);
    }
    if (auto err = directives_.parse_line(token, line_number, &ast_)) {
      return err;
    }
    return token.startswith("#") ? std::string() : token.str();
  }
  llvm::Error read_heredocs(Node* node, int start_line);
  llvm::Error read_continuation(std::string* line, int start_line);

  Ast ast_;
  DirectiveParser directives_;
  std::vector<llvm::StringRef> lines_;
  size_t next_ = 0;       // index of the next unread line
  int current_line_ = 0;  // lines consumed so far
};

llvm::Error Parser::read_heredocs(Node* node, int start_line) {
  auto docs = heredocs_from_line(node->original);
  if (!docs) {
    return error_at(docs.takeError(), start_line, current_line_);
  }
  for (Heredoc& doc : *docs) {
    bool terminated = false;
    while (next_ < lines_.size()) {
      llvm::StringRef raw = lines_[next_++];
      ++current_line_;
      llvm::StringRef candidate = trim_newline(raw);
      if (doc.chomp) {
        candidate = candidate.ltrim('\t');
      }
      if (candidate == doc.name) {
        terminated = true;
        break;
      }
      doc.content += raw.str();
    }
    if (!terminated) {
      return error_at(make_error("unterminated heredoc"), start_line, current_line_);
    }
    node->heredocs.push_back(std::move(doc));
  }
  return llvm::Error::success();
}

/// Appends continuation lines to `line` until one does not end with the escape
/// token; comment lines are skipped, empty ones skipped with a warning.
llvm::Error Parser::read_continuation(std::string* line, int start_line) {
  bool continued = true;
  bool empty_continuation = false;
  while (continued && next_ < lines_.size()) {
    llvm::StringRef raw = lines_[next_++];
    auto piece = process_line(raw, false, current_line_ + 1);
    if (!piece) {
      return error_at(piece.takeError(), current_line_ + 1, current_line_ + 1);
    }
    ++current_line_;
    if (is_comment(raw)) {
      continue;
    }
    if (go_trim_left_space(*piece).empty()) {
      empty_continuation = true;
      continue;
    }
    continued = trim_continuation(&*piece, ast_.escape_token);
    *line += *piece;
  }
  if (empty_continuation) {
    ast_.warnings.push_back({"NoEmptyContinuation",
                             "Empty continuation line found in: " + *line,
                             {start_line, current_line_}});
  }
  return llvm::Error::success();
}

llvm::Expected<Ast> Parser::run() {
  std::vector<std::string> comments;
  while (next_ < lines_.size()) {
    llvm::StringRef raw = lines_[next_++];
    if (current_line_ == 0) {
      raw.consume_front("\xEF\xBB\xBF");
    }
    if (is_comment(raw)) {
      std::string comment = go_trim_space(raw.drop_front()).str();
      if (comment.empty()) {
        comments.clear();
      } else {
        comments.push_back(comment);
      }
    }
    auto first = process_line(raw, true, current_line_ + 1);
    if (!first) {
      return error_at(first.takeError(), current_line_ + 1, current_line_ + 1);
    }
    ++current_line_;
    int start_line = current_line_;
    std::string line = std::move(*first);
    bool continued = trim_continuation(&line, ast_.escape_token);
    if (!continued && line.empty()) {
      continue;
    }
    if (continued) {
      if (auto err = read_continuation(&line, start_line)) {
        return err;
      }
    }
    auto node = node_from_line(line, ast_.escape_token);
    if (!node) {
      return error_at(node.takeError(), start_line, current_line_);
    }
    if (can_contain_heredoc(*node)) {
      if (auto err = read_heredocs(&*node, start_line)) {
        return err;
      }
    }
    node->range = {start_line, current_line_};
    node->prev_comment = std::move(comments);
    comments.clear();
    ast_.nodes.push_back(std::move(*node));
  }
  if (ast_.nodes.empty()) {
    return error_at(make_error("file with no instructions"), current_line_, current_line_);
  }
  return std::move(ast_);
}

}  // namespace

llvm::Expected<Ast> parse_ast(llvm::StringRef text, llvm::StringRef file_name) {
  Parser parser(text, file_name);
  return parser.run();
}

std::string Heredoc::body() const { return chomp ? chomp_tabs(content) : content; }

}  // namespace kiln::frontend
