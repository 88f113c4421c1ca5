#include "frontend/shell_lex.h"

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <map>
#include <optional>

#include <llvm/ADT/ScopeExit.h>
#include <llvm/ADT/SmallVector.h>

#include "frontend/go_text.h"
#include "support/error.h"

namespace kiln::frontend {
namespace {

constexpr int kEof = -1;

/// How much of a word an error message quotes.
constexpr size_t kMaxQuotedWord = 256;

llvm::Error expansion_too_large() {
  return make_error("expanded value is larger than " + std::to_string(kMaxExpandedWord) + " bytes");
}

/// Collects the split words while the expanded result is built
/// (BuildKit's wordsStruct).
class WordSplitter {
 public:
  void add_char(char c) {
    bool space = c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
    if (space && in_word_) {
      if (!word_.empty()) {
        words_.push_back(std::move(word_));
        word_.clear();
        in_word_ = false;
      }
    } else if (!space) {
      add_raw_char(c);
    }
  }
  void add_raw_char(char c) {
    word_ += c;
    in_word_ = true;
  }
  void add_string(llvm::StringRef s) {
    for (char c : s) {
      add_char(c);
    }
  }
  void add_raw_string(llvm::StringRef s) {
    word_ += s.str();
    in_word_ = true;
  }
  std::vector<std::string> take_words() {
    if (!word_.empty()) {
      words_.push_back(std::move(word_));
      word_.clear();
      in_word_ = false;
    }
    return std::move(words_);
  }

 private:
  std::string word_;
  std::vector<std::string> words_;
  bool in_word_ = false;
};

/// A glob token of a `${v#pattern}` / `${v/pattern/r}` pattern.
struct GlobToken {
  enum Kind { literal, any_one, any_run } kind;
  char c = 0;
};

/// Compiles a shell pattern like BuildKit's convertShellPatternToRegex: `*`,
/// `?`, `\*`, `\?`, `\\`; `\}` and `\/` drop the backslash; any other escape fails.
llvm::Expected<std::vector<GlobToken>> compile_glob(llvm::StringRef pattern) {
  std::vector<GlobToken> tokens;
  for (size_t i = 0; i < pattern.size(); ++i) {
    char c = pattern[i];
    if (c == '*') {
      tokens.push_back({GlobToken::any_run});
    } else if (c == '?') {
      tokens.push_back({GlobToken::any_one});
    } else if (c == '\\') {
      if (i + 1 < pattern.size() && (pattern[i + 1] == '}' || pattern[i + 1] == '/')) {
        continue;
      }
      char next = i + 1 < pattern.size() ? pattern[i + 1] : 0;
      if (next != '*' && next != '?' && next != '\\') {
        std::string shown = next ? std::string(1, next) : std::string("%!c(int32=-1)");
        return make_error("invalid pattern (" + pattern + ") in substitution: invalid escape '\\" +
                          shown + "'");
      }
      tokens.push_back({GlobToken::literal, next});
      ++i;
    } else {
      tokens.push_back({GlobToken::literal, c});
    }
  }
  return tokens;
}

/// Steps of glob matching one word may take (`${v//?/x}` on a 1 MB value
/// tries every start); past it, matching fails instead of running for hours.
constexpr uint64_t kMaxGlobWork = uint64_t{64} << 20;
/// What one glob_match_ends call costs beyond its steps (setup, result).
constexpr uint64_t kGlobCallWork = 16;

llvm::Error glob_too_slow() {
  return make_error("pattern matching in substitution takes more than " +
                    std::to_string(kMaxGlobWork) + " steps");
}

/// The fewest bytes a match of `glob` has (one per token but `*`).
size_t glob_min_length(const std::vector<GlobToken>& glob) {
  return static_cast<size_t>(std::count_if(
      glob.begin(), glob.end(), [](const GlobToken& t) { return t.kind != GlobToken::any_run; }));
}

/// Ends e (ascending) such that value[start, e) matches the whole glob. Adds
/// the steps taken to `work`; stops early, with no ends, past kMaxGlobWork.
std::vector<size_t> glob_match_ends(const std::vector<GlobToken>& glob, llvm::StringRef value,
                                    size_t start, uint64_t& work) {
  // row(p) = the token positions reachable after consuming value[start, p). A
  // step consumes at most one UTF-8 rune (4 bytes): five rows in a ring hold
  // every position still reachable, and matching stops when all are empty.
  constexpr size_t kRows = 5;
  size_t n = value.size();
  size_t width = glob.size() + 1;
  llvm::SmallVector<char, 320> ring(kRows * width, 0);
  work += kGlobCallWork + kRows * width;
  auto row = [&](size_t p) { return ring.data() + (p % kRows) * width; };
  auto close = [&](char* states) {
    for (size_t t = 0; t < glob.size(); ++t) {
      if (states[t] && glob[t].kind == GlobToken::any_run) {
        states[t + 1] = 1;
      }
    }
  };
  row(start)[0] = 1;
  close(row(start));
  std::vector<size_t> ends;
  for (size_t p = start; p <= n; ++p) {
    work += 2 * width;
    if (work > kMaxGlobWork) {
      return {};  // the caller fails with glob_too_slow()
    }
    char* states = row(p);
    if (states[glob.size()]) {
      ends.push_back(p);
    }
    if (p == n) {
      break;
    }
    char32_t rune;
    int len = utf8_rune_at(value, p, &rune);
    bool newline = value[p] == '\n';
    bool live = false;
    for (size_t t = 0; t < glob.size(); ++t) {
      if (!states[t]) {
        continue;
      }
      const GlobToken& tok = glob[t];
      if (tok.kind == GlobToken::literal && value[p] == tok.c) {
        row(p + 1)[t + 1] = 1;
        live = true;
      } else if (tok.kind == GlobToken::any_one && !newline) {
        row(p + len)[t + 1] = 1;
        live = true;
      } else if (tok.kind == GlobToken::any_run && !newline) {
        row(p + len)[t] = 1;
        live = true;
      }
    }
    close(row(p + (len > 1 ? len : 1)));
    std::fill(states, states + width, 0);  // this row is reused for p + kRows
    if (!live) {
      bool ahead = false;
      for (size_t d = 1; d < kRows && !ahead; ++d) {
        ahead = std::find(row(p + d), row(p + d) + width, 1) != row(p + d) + width;
      }
      if (!ahead) {
        break;
      }
    }
  }
  return ends;
}

/// The state of processing one word (BuildKit's shellWord).
class WordProcessor {
 public:
  WordProcessor(const ShellLex& lex, llvm::StringRef word, const EnvLookup& env)
      : lex_(lex), src_(word), env_(env), raw_escapes_(lex.raw_escapes) {}

  llvm::Error process(std::string* result, std::vector<std::string>* words) {
    if (auto err = process_stop_on(kEof, raw_escapes_, result, words)) {
      // A hostile word may be megabytes long: quote only its start.
      llvm::StringRef shown = src_.size() > kMaxQuotedWord ? src_.take_front(kMaxQuotedWord) : src_;
      return make_error("failed to process " + go_quote(shown) +
                        (shown.size() < src_.size() ? "..." : "") + ": " +
                        error_message(std::move(err)));
    }
    return llvm::Error::success();
  }

  std::set<std::string> matched, unmatched;

 private:
  int peek() const { return pos_ < src_.size() ? static_cast<unsigned char>(src_[pos_]) : kEof; }
  int next() { return pos_ < src_.size() ? static_cast<unsigned char>(src_[pos_++]) : kEof; }

  llvm::Error process_stop_on(int stop, bool raw_escapes, std::string* result,
                              std::vector<std::string>* words);
  llvm::Expected<std::string> single_quote();
  llvm::Expected<std::string> double_quote();
  llvm::Expected<std::string> dollar();
  llvm::Expected<std::string> dollar_modifier(const std::string& name, int op, bool colon);
  llvm::Expected<std::string> dollar_replace(const std::string& name);
  std::string read_name();
  std::optional<std::string> get_env(const std::string& name);

  const ShellLex& lex_;
  llvm::StringRef src_;
  const EnvLookup& env_;
  size_t pos_ = 0;
  bool raw_escapes_;
  /// `${` nesting of the substitution being read (at most kMaxSubstitutionDepth).
  int depth_ = 0;
  /// Glob matching steps taken for this word (at most kMaxGlobWork).
  uint64_t glob_work_ = 0;
};

llvm::Error WordProcessor::process_stop_on(int stop, bool raw_escapes, std::string* result,
                                           std::vector<std::string>* words) {
  bool saved = raw_escapes_;
  raw_escapes_ = raw_escapes;
  WordSplitter splitter;
  std::string out;
  auto restore = llvm::make_scope_exit([&] { raw_escapes_ = saved; });
  int escape = static_cast<unsigned char>(lex_.escape_token());
  while (peek() != kEof) {
    int c = peek();
    if (stop != kEof && c == stop) {
      next();
      *result = std::move(out);
      if (words) {
        *words = splitter.take_words();
      }
      return llvm::Error::success();
    }
    bool quote = !lex_.skip_process_quotes && (c == '\'' || c == '"');
    if (c == '$' || quote) {
      auto piece = c == '$' ? dollar() : c == '\'' ? single_quote() : double_quote();
      if (!piece) {
        return piece.takeError();
      }
      if (out.size() + piece->size() > kMaxExpandedWord + src_.size()) {
        return expansion_too_large();
      }
      out += *piece;
      if (c == '$') {
        splitter.add_string(*piece);
      } else {
        splitter.add_raw_string(*piece);
      }
      continue;
    }
    c = next();
    if (c == escape) {
      if (raw_escapes_) {
        splitter.add_raw_char(static_cast<char>(c));
        out += static_cast<char>(c);
      }
      c = next();
      if (c == kEof) {
        break;
      }
      splitter.add_raw_char(static_cast<char>(c));
    } else {
      splitter.add_char(static_cast<char>(c));
    }
    out += static_cast<char>(c);
  }
  if (stop != kEof) {
    return make_error("unexpected end of statement while looking for matching " +
                      std::string(1, static_cast<char>(stop)));
  }
  *result = std::move(out);
  if (words) {
    *words = splitter.take_words();
  }
  return llvm::Error::success();
}

llvm::Expected<std::string> WordProcessor::single_quote() {
  std::string out;
  int c = next();
  if (lex_.raw_quotes) {
    out += static_cast<char>(c);
  }
  while (true) {
    c = next();
    if (c == kEof) {
      return make_error("unexpected end of statement while looking for matching single-quote");
    }
    if (c == '\'') {
      if (lex_.raw_quotes) {
        out += '\'';
      }
      return out;
    }
    out += static_cast<char>(c);
  }
}

llvm::Expected<std::string> WordProcessor::double_quote() {
  std::string out;
  int c = next();
  if (lex_.raw_quotes) {
    out += static_cast<char>(c);
  }
  int escape = static_cast<unsigned char>(lex_.escape_token());
  while (true) {
    int p = peek();
    if (p == kEof) {
      return make_error("unexpected end of statement while looking for matching double-quote");
    }
    if (p == '"') {
      next();
      if (lex_.raw_quotes) {
        out += '"';
      }
      return out;
    }
    if (p == '$') {
      auto value = dollar();
      if (!value) {
        return value.takeError();
      }
      out += *value;
      continue;
    }
    c = next();
    if (c == escape) {
      if (raw_escapes_) {
        out += static_cast<char>(c);
      }
      int after = peek();
      if (after == kEof) {
        continue;
      }
      if (after == '"' || after == '$' || after == escape) {
        c = next();
      }
    }
    out += static_cast<char>(c);
  }
}

bool is_special_param(int c) {
  switch (c) {
    case '@':
    case '*':
    case '#':
    case '?':
    case '-':
    case '$':
    case '!':
    case '0':
      return true;
    default:
      return false;
  }
}

std::string WordProcessor::read_name() {
  std::string name;
  while (peek() != kEof) {
    int c = peek();
    if (name.empty() && c >= '0' && c <= '9') {
      while (peek() >= '0' && peek() <= '9') {
        name += static_cast<char>(next());
      }
      return name;
    }
    if (name.empty() && is_special_param(c)) {
      return std::string(1, static_cast<char>(next()));
    }
    if (c >= 0x80) {
      // Non-ASCII: Go accepts letters and digits; take the whole rune.
      char32_t rune;
      int len = utf8_rune_at(src_, pos_, &rune);
      if (len == 1) {
        break;
      }
      name += src_.substr(pos_, len).str();
      pos_ += len;
      continue;
    }
    if (!std::isalnum(c) && c != '_') {
      break;
    }
    name += static_cast<char>(next());
  }
  return name;
}

std::optional<std::string> WordProcessor::get_env(const std::string& name) {
  std::optional<std::string> value = env_ ? env_(name) : std::nullopt;
  (value ? matched : unmatched).insert(name);
  return value;
}

llvm::Expected<std::string> WordProcessor::dollar() {
  next();
  if (peek() != '{') {
    std::string name = read_name();
    if (name.empty()) {
      return std::string("$");
    }
    auto value = get_env(name);
    if (!value && lex_.skip_unset_env) {
      return "$" + name;
    }
    return value.value_or("");
  }
  next();
  if (depth_ >= kMaxSubstitutionDepth) {
    return make_error("variable substitutions nested more than " +
                      std::to_string(kMaxSubstitutionDepth) + " deep");
  }
  ++depth_;
  auto leave = llvm::make_scope_exit([&] { --depth_; });
  int c = peek();
  if (c == kEof) {
    return make_error("syntax error: missing '}'");
  }
  if (c == '{' || c == '}' || c == ':') {
    return make_error("syntax error: bad substitution");
  }
  std::string name = read_name();
  c = next();
  if (c == kEof) {
    return make_error("syntax error: missing '}'");
  }
  if (c == '}') {
    auto value = get_env(name);
    if (!value && lex_.skip_unset_env) {
      return "${" + name + "}";
    }
    return value.value_or("");
  }
  if (c == ':') {
    return dollar_modifier(name, next(), true);
  }
  if (c == '+' || c == '-' || c == '?' || c == '#' || c == '%') {
    return dollar_modifier(name, c, false);
  }
  if (c == '/') {
    return dollar_replace(name);
  }
  std::string shown = c == kEof ? std::string() : std::string(1, static_cast<char>(c));
  return make_error("unsupported modifier (" + shown + ") in substitution");
}

/// The shortest (or longest, `greedy`) prefix of `value` matching `glob`, or npos.
size_t match_prefix(const std::vector<GlobToken>& glob, llvm::StringRef value, bool greedy,
                    uint64_t& work) {
  auto ends = glob_match_ends(glob, value, 0, work);
  if (ends.empty()) {
    return std::string::npos;
  }
  return greedy ? ends.back() : ends.front();
}

llvm::Expected<std::string> WordProcessor::dollar_modifier(const std::string& name, int op,
                                                           bool colon) {
  std::string word;
  if (auto err = process_stop_on('}', op == '#' || op == '%', &word, nullptr)) {
    if (peek() == kEof) {
      consumeError(std::move(err));
      return make_error("syntax error: missing '}'");
    }
    return err;
  }
  std::string op_text = (colon ? ":" : "") + (op == kEof ? std::string() : std::string(1, op));
  auto value = get_env(name);
  if (lex_.skip_unset_env && !value) {
    return "${" + name + op_text + word + "}";
  }
  bool empty_is_unset = !value || (colon && value->empty());
  switch (op) {
    case '-':
      return empty_is_unset ? word : *value;
    case '+':
      return empty_is_unset ? std::string() : word;
    case '?':
      if (!value) {
        return make_error(name + ": " + (word.empty() ? "is not allowed to be unset" : word));
      }
      if (colon && value->empty()) {
        return make_error(name + ": " + (word.empty() ? "is not allowed to be empty" : word));
      }
      return *value;
    case '#':
    case '%':
      break;
    default:
      return make_error("unsupported modifier (" + op_text + ") in substitution");
  }
  // '#' / '%': one char = shortest match, doubled = longest.
  std::string val = value.value_or("");
  bool greedy = !word.empty() && word[0] == op;
  llvm::StringRef pattern = greedy ? llvm::StringRef(word).drop_front() : llvm::StringRef(word);
  auto glob = compile_glob(pattern);
  if (!glob) {
    return glob.takeError();
  }
  if (op == '#') {
    size_t end = match_prefix(*glob, val, greedy, glob_work_);
    if (glob_work_ > kMaxGlobWork) {
      return glob_too_slow();
    }
    return end == std::string::npos ? val : val.substr(end);
  }
  // Suffix: the shortest/longest tail that matches the whole pattern.
  size_t best = std::string::npos;
  size_t min_length = glob_min_length(*glob);
  for (size_t start = 0; start + min_length <= val.size(); ++start) {
    auto ends = glob_match_ends(*glob, val, start, glob_work_);
    if (glob_work_ > kMaxGlobWork) {
      return glob_too_slow();
    }
    if (!ends.empty() && ends.back() == val.size()) {
      best = start;
      if (greedy) {
        break;
      }
    }
  }
  return best == std::string::npos ? val : val.substr(0, best);
}

/// Go's Regexp.ReplaceAllString (or the first match only when `!all`) for a
/// glob whose stars are greedy: leftmost matches, longest at each start.
/// Fails when the result would be larger than kMaxExpandedWord or `work`
/// passes kMaxGlobWork.
llvm::Expected<std::string> replace_matches(const std::vector<GlobToken>& glob,
                                            const std::string& val, const std::string& replacement,
                                            bool all, uint64_t& work) {
  std::string out;
  size_t search = 0;
  size_t last_end = 0;
  size_t min_length = glob_min_length(glob);
  bool first = true;
  while (search <= val.size()) {
    size_t start = search;
    std::vector<size_t> ends;
    for (; start + min_length <= val.size(); ++start) {
      ends = glob_match_ends(glob, val, start, work);
      if (work > kMaxGlobWork) {
        return glob_too_slow();
      }
      if (!ends.empty()) {
        break;
      }
    }
    if (ends.empty()) {
      break;
    }
    size_t end = ends.back();
    out += val.substr(last_end, start - last_end);
    if (end > last_end || start == 0 || first) {
      out += replacement;
    }
    if (out.size() > kMaxExpandedWord) {
      return expansion_too_large();
    }
    first = false;
    last_end = end;
    if (!all) {
      break;
    }
    char32_t rune;
    size_t width = search < val.size() ? utf8_rune_at(val, search, &rune) : 1;
    search = search + width > end ? search + width : end;
  }
  out += val.substr(last_end);
  return out;
}

llvm::Expected<std::string> WordProcessor::dollar_replace(const std::string& name) {
  bool all = peek() == '/';
  if (all) {
    next();
  }
  std::string pattern;
  if (auto err = process_stop_on('/', true, &pattern, nullptr)) {
    if (peek() == kEof) {
      consumeError(std::move(err));
      return make_error("syntax error: missing '/' in ${}");
    }
    return err;
  }
  std::string replacement;
  if (auto err = process_stop_on('}', true, &replacement, nullptr)) {
    if (peek() == kEof) {
      consumeError(std::move(err));
      return make_error("syntax error: missing '}'");
    }
    return err;
  }
  auto value = get_env(name);
  if (lex_.skip_unset_env && !value) {
    return "${" + name + "/" + pattern + "/" + replacement + "}";
  }
  auto glob = compile_glob(pattern);
  if (!glob) {
    return glob.takeError();
  }
  return replace_matches(*glob, value.value_or(""), replacement, all, glob_work_);
}

}  // namespace

llvm::Expected<ShellWordResult> ShellLex::process_word_with_matches(llvm::StringRef word,
                                                                    const EnvLookup& env) const {
  WordProcessor processor(*this, word, env);
  ShellWordResult result;
  if (auto err = processor.process(&result.result, &result.words)) {
    return err;
  }
  result.matched = std::move(processor.matched);
  result.unmatched = std::move(processor.unmatched);
  return result;
}

llvm::Expected<std::string> ShellLex::process_word(llvm::StringRef word,
                                                   const EnvLookup& env) const {
  auto result = process_word_with_matches(word, env);
  if (!result) {
    return result.takeError();
  }
  return std::move(result->result);
}

llvm::Expected<std::vector<std::string>> ShellLex::process_words(llvm::StringRef word,
                                                                 const EnvLookup& env) const {
  auto result = process_word_with_matches(word, env);
  if (!result) {
    return result.takeError();
  }
  return std::move(result->words);
}

EnvLookup env_lookup_from_list(const std::vector<std::string>& env) {
  return [&env](llvm::StringRef name) -> std::optional<std::string> {
    std::optional<std::string> found;
    for (const std::string& entry : env) {
      llvm::StringRef e(entry);
      auto [key, value] = e.split('=');
      if (key == name) {
        found = value.str();
      }
    }
    return found;
  };
}

}  // namespace kiln::frontend
