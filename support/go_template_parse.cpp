// Lexing and parsing of Go templates into the tree of go_template_ast.h.

#include <cctype>
#include <cstdlib>

#include "support/error.h"
#include "support/go_template.h"
#include "support/go_template_ast.h"

namespace kiln::support {
namespace go_template_detail {
namespace {

struct Token {
  enum class Kind {
    text,
    left,
    right,
    ident,
    field,
    variable,
    string,
    number,
    lparen,
    rparen,
    pipe,
    declare,
    assign,
    comma,
    eof
  };
  Kind kind = Kind::eof;
  std::string text;                 // text, ident, variable name, string value, number spelling
  std::vector<std::string> fields;  // field and variable chains
  bool spaced = true;               // whitespace (or a delimiter) before the token
  int line = 1;
};

using Kind = Token::Kind;

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }
bool is_word(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }

class Lexer {
 public:
  explicit Lexer(llvm::StringRef text) : text_(text) {}

  llvm::Expected<std::vector<Token>> run() {
    while (pos_ < text_.size()) {
      size_t open = text_.find("{{", pos_);
      std::string literal = text_.slice(pos_, open).str();
      if (trim_next_) {
        literal.erase(0, literal.find_first_not_of(" \t\r\n") == std::string::npos
                             ? literal.size()
                             : literal.find_first_not_of(" \t\r\n"));
        trim_next_ = false;
      }
      if (open == llvm::StringRef::npos) {
        push_text(std::move(literal));
        pos_ = text_.size();
        break;
      }
      pos_ = open + 2;
      if (pos_ + 1 < text_.size() && text_[pos_] == '-' && is_space(text_[pos_ + 1])) {
        literal.erase(literal.find_last_not_of(" \t\r\n") + 1);
        pos_ += 2;
      }
      push_text(std::move(literal));
      if (auto err = action()) {
        return err;
      }
    }
    tokens_.push_back(Token{Kind::eof, "", {}, true, line_});
    return std::move(tokens_);
  }

 private:
  void push_text(std::string literal) {
    int lines = static_cast<int>(std::count(literal.begin(), literal.end(), '\n'));
    if (!literal.empty()) {
      tokens_.push_back(Token{Kind::text, std::move(literal), {}, true, line_});
    }
    line_ += lines;
  }

  llvm::Error fail(const llvm::Twine& message) {
    return make_error("line " + llvm::Twine(line_) + ": " + message);
  }

  // After "{{" (and a left trim marker): the tokens up to and including "}}".
  llvm::Error action() {
    size_t start = pos_;
    while (start < text_.size() && is_space(text_[start])) {
      ++start;
    }
    if (text_.substr(start).startswith("/*")) {
      size_t close = text_.find("*/", start);
      if (close == llvm::StringRef::npos) {
        return fail("unclosed comment");
      }
      pos_ = close + 2;
      skip_space();
      if (text_.substr(pos_).startswith("-}}")) {
        trim_next_ = true;
        pos_ += 1;
      }
      if (!text_.substr(pos_).startswith("}}")) {
        return fail("comment ends before closing delimiter");
      }
      line_ += static_cast<int>(text_.slice(start, pos_).count('\n'));
      pos_ += 2;
      return llvm::Error::success();
    }
    tokens_.push_back(Token{Kind::left, "", {}, true, line_});
    bool spaced = true;
    while (true) {
      size_t before = pos_;
      skip_space();
      spaced = spaced || pos_ != before;
      if (pos_ >= text_.size()) {
        return fail("unclosed action");
      }
      llvm::StringRef rest = text_.substr(pos_);
      if (rest.startswith("}}") || (spaced && rest.startswith("-}}"))) {
        trim_next_ = rest[0] == '-';
        pos_ += trim_next_ ? 3 : 2;
        tokens_.push_back(Token{Kind::right, "", {}, true, line_});
        return llvm::Error::success();
      }
      if (auto err = token(spaced)) {
        return err;
      }
      spaced = false;
    }
  }

  void skip_space() {
    while (pos_ < text_.size() && is_space(text_[pos_])) {
      line_ += text_[pos_] == '\n';
      ++pos_;
    }
  }

  // The chain ".A.B" at pos_, if any.
  std::vector<std::string> chain() {
    std::vector<std::string> fields;
    while (pos_ + 1 < text_.size() && text_[pos_] == '.' && is_word(text_[pos_ + 1])) {
      size_t end = pos_ + 1;
      while (end < text_.size() && is_word(text_[end])) {
        ++end;
      }
      fields.push_back(text_.slice(pos_ + 1, end).str());
      pos_ = end;
    }
    return fields;
  }

  // The spelling of the number at pos_ ("-3", "0x1f", "1.5e-3"), consumed.
  std::string number_text() {
    size_t end = pos_ + 1;
    while (end < text_.size() && (is_word(text_[end]) || text_[end] == '.' ||
                                  ((text_[end] == '-' || text_[end] == '+') &&
                                   (text_[end - 1] == 'e' || text_[end - 1] == 'E')))) {
      ++end;
    }
    std::string text = text_.slice(pos_, end).str();
    pos_ = end;
    return text;
  }

  llvm::Error token(bool spaced) {
    Token tok{Kind::eof, "", {}, spaced, line_};
    char c = text_[pos_];
    llvm::StringRef rest = text_.substr(pos_);
    if (c == '|' || c == '(' || c == ')' || c == ',' || c == '=') {
      tok.kind = c == '|'   ? Kind::pipe
                 : c == '(' ? Kind::lparen
                 : c == ')' ? Kind::rparen
                 : c == ',' ? Kind::comma
                            : Kind::assign;
      ++pos_;
    } else if (rest.startswith(":=")) {
      tok.kind = Kind::declare;
      pos_ += 2;
    } else if (c == '"' || c == '`') {
      tok.kind = Kind::string;
      if (auto err = string_literal(tok.text)) {
        return err;
      }
    } else if (c == '$') {
      size_t end = pos_ + 1;
      while (end < text_.size() && is_word(text_[end])) {
        ++end;
      }
      tok.kind = Kind::variable;
      tok.text = text_.slice(pos_, end).str();
      pos_ = end;
      tok.fields = chain();
    } else if (c == '.' && (pos_ + 1 >= text_.size() || !is_word(text_[pos_ + 1]))) {
      tok.kind = Kind::field;  // dot itself
      ++pos_;
    } else if (c == '.') {
      tok.kind = Kind::field;
      tok.fields = chain();
    } else if (std::isdigit(static_cast<unsigned char>(c)) ||
               ((c == '-' || c == '+') && pos_ + 1 < text_.size() &&
                std::isdigit(static_cast<unsigned char>(text_[pos_ + 1])))) {
      tok.kind = Kind::number;
      tok.text = number_text();
    } else if (is_word(c)) {
      size_t end = pos_;
      while (end < text_.size() && is_word(text_[end])) {
        ++end;
      }
      tok.kind = Kind::ident;
      tok.text = text_.slice(pos_, end).str();
      pos_ = end;
    } else {
      return fail("unexpected " + quote(text_.substr(pos_, 1)) + " in action");
    }
    tokens_.push_back(std::move(tok));
    return llvm::Error::success();
  }

  llvm::Error string_literal(std::string& out) {
    char quote_char = text_[pos_++];
    while (pos_ < text_.size() && text_[pos_] != quote_char) {
      char c = text_[pos_++];
      if (quote_char == '"' && c == '\n') {
        return fail("unterminated quoted string");
      }
      if (quote_char == '`' || c != '\\') {
        out += c;
        continue;
      }
      if (pos_ >= text_.size()) {
        break;
      }
      char e = text_[pos_++];
      switch (e) {
        case 'n':
          out += '\n';
          break;
        case 't':
          out += '\t';
          break;
        case 'r':
          out += '\r';
          break;
        case '\\':
          out += '\\';
          break;
        case '"':
          out += '"';
          break;
        case '\'':
          out += '\'';
          break;
        default:
          return fail("unknown escape sequence '\\" + llvm::Twine(e) + "'");
      }
    }
    if (pos_ >= text_.size()) {
      return fail("unterminated quoted string");
    }
    ++pos_;
    return llvm::Error::success();
  }

  llvm::StringRef text_;
  size_t pos_ = 0;
  int line_ = 1;
  bool trim_next_ = false;
  std::vector<Token> tokens_;
};

// Recursive descent over the tokens; `vars_` tracks declared variables so that an
// undefined one fails at parse time, as in Go.
class Parser {
 public:
  explicit Parser(std::vector<Token> tokens) : tokens_(std::move(tokens)) {}

  llvm::Expected<std::shared_ptr<List>> run() {
    std::string end;
    auto list = parse_list(end);
    if (!list) {
      return list.takeError();
    }
    if (!end.empty()) {
      return fail("unexpected {{" + end + "}}");
    }
    return list;
  }

 private:
  const Token& peek(size_t ahead = 0) const {
    return tokens_[std::min(pos_ + ahead, tokens_.size() - 1)];
  }
  const Token& next() { return tokens_[std::min(pos_++, tokens_.size() - 1)]; }

  llvm::Error fail(const llvm::Twine& message) const {
    return make_error("line " + llvm::Twine(peek().line) + ": " + message);
  }

  // Nodes up to eof or an `{{end}}`/`{{else}}`, whose keyword goes to `end`.
  llvm::Expected<std::shared_ptr<List>> parse_list(std::string& end) {
    auto list = std::make_shared<List>();
    while (peek().kind != Kind::eof) {
      if (peek().kind == Kind::text) {
        Node node;
        node.text = next().text;
        list->nodes.push_back(std::move(node));
        continue;
      }
      next();  // "{{"
      const Token& first = peek();
      if (first.kind == Kind::ident && (first.text == "end" || first.text == "else")) {
        end = next().text;
        if (end == "end" && next().kind != Kind::right) {
          return fail("unexpected token in {{end}}");
        }
        return list;
      }
      auto node = parse_action();
      if (!node) {
        return node.takeError();
      }
      list->nodes.push_back(std::move(*node));
    }
    return list;
  }

  llvm::Expected<Node> parse_action() {
    const Token& first = peek();
    Node node;
    node.kind = Node::Kind::action;
    if (first.kind == Kind::ident) {
      const std::string& word = first.text;
      if (word == "if" || word == "range" || word == "with") {
        next();
        return parse_control(word);
      }
      if (word == "break" || word == "continue") {
        if (loops_ == 0) {
          return fail("{{" + word + "}} outside {{range}}");
        }
        next();
        node.kind = word == "break" ? Node::Kind::break_ : Node::Kind::continue_;
        if (next().kind != Kind::right) {
          return fail("unexpected token in {{" + word + "}}");
        }
        return node;
      }
      if (word == "define" || word == "template" || word == "block") {
        return fail("{{" + word + "}} is not supported");
      }
    }
    auto pipe = parse_pipeline(Kind::right, /*allow_decl=*/true);
    if (!pipe) {
      return pipe.takeError();
    }
    node.pipe = std::move(*pipe);
    return node;
  }

  llvm::Expected<Node> parse_control(const std::string& word) {
    Node node;
    node.kind = word == "if"      ? Node::Kind::if_
                : word == "range" ? Node::Kind::range
                                  : Node::Kind::with;
    size_t scope = vars_.size();
    auto pipe = parse_pipeline(Kind::right, /*allow_decl=*/true);
    if (!pipe) {
      return pipe.takeError();
    }
    node.pipe = std::move(*pipe);
    loops_ += node.kind == Node::Kind::range;
    std::string end;
    auto body = parse_list(end);
    loops_ -= node.kind == Node::Kind::range;
    if (!body) {
      return body.takeError();
    }
    node.body = *body;
    if (end.empty()) {
      return fail("unexpected EOF: {{" + word + "}} without {{end}}");
    }
    if (end == "else") {
      if (peek().kind == Kind::ident && (peek().text == "if" || peek().text == "with")) {
        // "{{else if ...}}": an if nested in the else branch that shares our {{end}}.
        std::string inner = next().text;
        auto nested = parse_control(inner);
        if (!nested) {
          return nested.takeError();
        }
        node.else_body = std::make_shared<List>();
        node.else_body->nodes.push_back(std::move(*nested));
      } else {
        if (next().kind != Kind::right) {
          return fail("unexpected token in {{else}}");
        }
        auto else_body = parse_list(end);
        if (!else_body) {
          return else_body.takeError();
        }
        if (end != "end") {
          return fail("expected {{end}} after {{else}} of {{" + word + "}}");
        }
        node.else_body = *else_body;
      }
    }
    vars_.resize(scope);
    return node;
  }

  llvm::Expected<Pipeline> parse_pipeline(Kind stop, bool allow_decl) {
    Pipeline pipe;
    pipe.line = peek().line;
    if (allow_decl && peek().kind == Kind::variable && peek().fields.empty()) {
      size_t names = peek(1).kind == Kind::comma && peek(2).kind == Kind::variable ? 2 : 1;
      Kind op = peek(names == 2 ? 3 : 1).kind;
      if (op == Kind::declare || op == Kind::assign) {
        pipe.vars.push_back(next().text);
        if (names == 2) {
          next();
          pipe.vars.push_back(next().text);
        }
        next();
        pipe.assign = op == Kind::assign;
        for (const std::string& var : pipe.vars) {
          if (pipe.assign && !defined(var)) {
            return fail("undefined variable " + quote(var));
          }
        }
      }
    }
    while (true) {
      auto command = parse_command();
      if (!command) {
        return command.takeError();
      }
      pipe.commands.push_back(std::move(*command));
      const Token& tok = next();
      if (tok.kind == stop) {
        break;
      }
      if (tok.kind != Kind::pipe) {
        return fail(tok.kind == Kind::eof ? "unclosed action" : "unexpected token in pipeline");
      }
    }
    if (!pipe.assign) {
      vars_.insert(vars_.end(), pipe.vars.begin(), pipe.vars.end());
    }
    return pipe;
  }

  bool defined(const std::string& var) const {
    return var == "$" || std::find(vars_.begin(), vars_.end(), var) != vars_.end();
  }

  llvm::Expected<Command> parse_command() {
    Command command;
    while (true) {
      Kind kind = peek().kind;
      if (kind == Kind::right || kind == Kind::rparen || kind == Kind::pipe || kind == Kind::eof) {
        break;
      }
      auto operand = parse_operand();
      if (!operand) {
        return operand.takeError();
      }
      command.args.push_back(std::move(*operand));
    }
    if (command.args.empty()) {
      return fail("missing value for command");
    }
    return command;
  }

  llvm::Expected<Operand> parse_operand() {
    const Token& tok = next();
    Operand op;
    switch (tok.kind) {
      case Kind::field:
        op.kind = Operand::Kind::field;
        op.fields = tok.fields;
        return op;
      case Kind::variable:
        if (!defined(tok.text)) {
          return make_error("line " + llvm::Twine(tok.line) + ": undefined variable " +
                            quote(tok.text));
        }
        op.kind = Operand::Kind::variable;
        op.name = tok.text;
        op.fields = tok.fields;
        return op;
      case Kind::string:
        op.literal = tok.text;
        return op;
      case Kind::number:
        return number(tok);
      case Kind::lparen: {
        auto sub = parse_pipeline(Kind::rparen, /*allow_decl=*/false);
        if (!sub) {
          return sub.takeError();
        }
        op.kind = Operand::Kind::pipeline;
        op.sub = std::make_shared<Pipeline>(std::move(*sub));
        if (peek().kind == Kind::field && !peek().spaced) {
          op.fields = next().fields;
        }
        return op;
      }
      case Kind::ident:
        if (tok.text == "true" || tok.text == "false") {
          op.literal = tok.text == "true";
          return op;
        }
        if (tok.text == "nil") {
          op.literal = nullptr;
          return op;
        }
        if (tok.text != "and" && tok.text != "or" && !find_function(tok.text)) {
          return make_error("line " + llvm::Twine(tok.line) + ": function " + quote(tok.text) +
                            " not defined");
        }
        op.kind = Operand::Kind::function;
        op.name = tok.text;
        return op;
      default:
        return make_error("line " + llvm::Twine(tok.line) + ": unexpected token in operand");
    }
  }

  llvm::Expected<Operand> number(const Token& tok) {
    Operand op;
    const std::string& text = tok.text;
    char* end = nullptr;
    bool is_float =
        text.find_first_of(".eE") != std::string::npos && text.find("0x") == std::string::npos;
    if (is_float) {
      op.literal = std::strtod(text.c_str(), &end);
    } else {
      op.literal = static_cast<int64_t>(std::strtoll(text.c_str(), &end, 0));
    }
    if (end != text.c_str() + text.size()) {
      return make_error("line " + llvm::Twine(tok.line) + ": bad number syntax: " + quote(text));
    }
    return op;
  }

  std::vector<Token> tokens_;
  size_t pos_ = 0;
  std::vector<std::string> vars_;
  int loops_ = 0;
};

}  // namespace
}  // namespace go_template_detail

llvm::Expected<GoTemplate> GoTemplate::parse(llvm::StringRef text) {
  auto tokens = go_template_detail::Lexer(text).run();
  if (!tokens) {
    return tokens.takeError();
  }
  auto root = go_template_detail::Parser(std::move(*tokens)).run();
  if (!root) {
    return root.takeError();
  }
  return GoTemplate(std::move(*root));
}

std::string expand_format_escapes(llvm::StringRef format) {
  std::string out;
  for (size_t i = 0; i < format.size(); ++i) {
    if (format[i] == '\\' && i + 1 < format.size() &&
        (format[i + 1] == 't' || format[i + 1] == 'n')) {
      out += format[++i] == 't' ? '\t' : '\n';
    } else {
      out += format[i];
    }
  }
  return out;
}

}  // namespace kiln::support
