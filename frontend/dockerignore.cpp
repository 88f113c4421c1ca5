// .dockerignore reading and matching with moby/patternmatcher's semantics.
#include "frontend/dockerignore.h"

#include <algorithm>

#include <llvm/ADT/SmallVector.h>

#include "frontend/go_text.h"
#include "support/error.h"
#include "support/fs.h"

namespace kiln::frontend {
namespace {

/// Go's path.Clean for '/'-separated paths.
std::string clean_path(llvm::StringRef path) {
  if (path.empty()) {
    return ".";
  }
  bool rooted = path.startswith("/");
  std::vector<llvm::StringRef> out;
  llvm::SmallVector<llvm::StringRef, 16> parts;
  path.split(parts, '/');
  for (llvm::StringRef part : parts) {
    if (part.empty() || part == ".") {
      continue;
    }
    if (part == "..") {
      if (!out.empty() && out.back() != "..") {
        out.pop_back();
      } else if (!rooted) {
        out.push_back(part);
      }
      continue;
    }
    out.push_back(part);
  }
  std::string result = rooted ? "/" : "";
  for (size_t i = 0; i < out.size(); ++i) {
    result += (i ? "/" : "") + out[i].str();
  }
  return result.empty() ? "." : result;
}

llvm::Error bad_pattern() { return make_error("syntax error in pattern"); }

}  // namespace

std::vector<std::string> read_dockerignore(llvm::StringRef text) {
  std::vector<std::string> patterns;
  bool first = true;
  while (!text.empty()) {
    auto [raw, rest] = text.split('\n');
    text = rest;
    llvm::StringRef line = raw.rtrim('\r');
    if (first) {
      line.consume_front("\xEF\xBB\xBF");
      first = false;
    }
    if (line.startswith("#")) {
      continue;
    }
    llvm::StringRef pattern = go_trim_space(line);
    if (pattern.empty()) {
      continue;
    }
    bool invert = pattern[0] == '!';
    if (invert) {
      pattern = go_trim_space(pattern.drop_front());
    }
    std::string cleaned;
    if (!pattern.empty()) {
      cleaned = clean_path(pattern);
      if (cleaned.size() > 1 && cleaned[0] == '/') {
        cleaned.erase(0, 1);
      }
    }
    patterns.push_back(invert ? "!" + cleaned : cleaned);
  }
  return patterns;
}

llvm::Expected<std::vector<std::string>> load_dockerignore(llvm::StringRef context_dir,
                                                           llvm::StringRef dockerfile_path) {
  std::vector<std::string> candidates;
  if (!dockerfile_path.empty()) {
    candidates.push_back(dockerfile_path.str() + ".dockerignore");
  }
  candidates.push_back(fs::join(context_dir, ".dockerignore"));
  for (const std::string& path : candidates) {
    if (!fs::exists(path)) {
      continue;
    }
    auto text = fs::read_file(path);
    if (!text) {
      return text.takeError();
    }
    return read_dockerignore(*text);
  }
  return std::vector<std::string>{};
}

namespace {

/// Reads a `[...]` class (regexp syntax) that starts after the '[' at `*pos`.
bool read_class(llvm::StringRef text, size_t* pos,
                std::vector<std::pair<char32_t, char32_t>>* ranges, bool* negated) {
  size_t i = *pos;
  if (i < text.size() && text[i] == '^') {
    *negated = true;
    ++i;
  }
  bool first = true;
  while (i < text.size() && (text[i] != ']' || first)) {
    first = false;
    char32_t lo;
    if (text[i] == '\\' && i + 1 < text.size()) {
      ++i;
    }
    i += utf8_rune_at(text, i, &lo);
    char32_t hi = lo;
    if (i + 1 < text.size() && text[i] == '-' && text[i + 1] != ']') {
      ++i;
      if (text[i] == '\\' && i + 1 < text.size()) {
        ++i;
      }
      i += utf8_rune_at(text, i, &hi);
      if (hi < lo) {
        return false;
      }
    }
    ranges->push_back({lo, hi});
  }
  if (i >= text.size()) {
    return false;
  }
  *pos = i + 1;
  return true;
}

}  // namespace

llvm::Error PatternMatcher::compile(llvm::StringRef text, std::vector<Token>* tokens) {
  for (size_t i = 0; i < text.size();) {
    char c = text[i];
    Token tok;
    tok.kind = Token::literal;
    if (c == '*') {
      if (i + 1 < text.size() && text[i + 1] == '*') {
        i += 2;
        if (i < text.size() && text[i] == '/') {
          ++i;
        }
        tok.kind = i >= text.size() ? Token::any_rest : Token::any_dirs;
        tokens->push_back(tok);
        continue;
      }
      tok.kind = Token::star;
      ++i;
    } else if (c == '?') {
      tok.kind = Token::one;
      ++i;
    } else if (c == '[') {
      ++i;
      tok.kind = Token::char_class;
      if (!read_class(text, &i, &tok.ranges, &tok.negated)) {
        return bad_pattern();
      }
    } else if (c == '\\' && i + 1 < text.size()) {
      tok.c = text[i + 1];
      i += 2;
    } else {
      tok.c = c;
      ++i;
    }
    tokens->push_back(std::move(tok));
  }
  return llvm::Error::success();
}

namespace {

bool class_contains(const std::vector<std::pair<char32_t, char32_t>>& ranges, char32_t rune) {
  for (const auto& [lo, hi] : ranges) {
    if (rune >= lo && rune <= hi) {
      return true;
    }
  }
  return false;
}

}  // namespace

bool PatternMatcher::match_tokens(const std::vector<Token>& tokens, llvm::StringRef path) {
  // A pattern that starts with literals rejects most paths at the first byte.
  size_t lead = 0;
  while (lead < tokens.size() && tokens[lead].kind == Token::literal) {
    if (lead >= path.size() || path[lead] != tokens[lead].c) {
      return false;
    }
    ++lead;
  }
  if (lead == tokens.size()) {
    return lead == path.size();
  }
  // NFA simulation from there: row(p)[t] = token t is next after consuming
  // path[0, p). A step consumes at most one UTF-8 rune (4 bytes), so five rows
  // in a ring hold every position still reachable.
  constexpr size_t kRows = 5;
  size_t n = tokens.size();
  llvm::SmallVector<char, 160> ring(kRows * (n + 1), 0);
  auto row = [&](size_t pos) { return ring.data() + (pos % kRows) * (n + 1); };
  row(lead)[lead] = 1;
  for (size_t pos = lead; pos <= path.size(); ++pos) {
    char* states = row(pos);
    bool any = false;
    for (size_t t = 0; t < n; ++t) {  // tokens that may match nothing
      Token::Kind k = tokens[t].kind;
      if (states[t] && (k == Token::star || k == Token::any_dirs || k == Token::any_rest)) {
        states[t + 1] = 1;
      }
      any = any || states[t];
    }
    if (pos == path.size()) {
      break;
    }
    if (!any) {  // only row(pos)[n] can be set: a full match with input left
      bool ahead = false;
      for (size_t d = 1; d < kRows && !ahead; ++d) {
        ahead = std::find(row(pos + d), row(pos + d) + n + 1, 1) != row(pos + d) + n + 1;
      }
      if (!ahead) {
        return false;
      }
    }
    char32_t rune;
    size_t len = utf8_rune_at(path, pos, &rune);
    char c = path[pos];
    for (size_t t = 0; t < n; ++t) {
      if (!states[t]) {
        continue;
      }
      const Token& tok = tokens[t];
      switch (tok.kind) {
        case Token::literal:
          if (c == tok.c) {
            row(pos + 1)[t + 1] = 1;
          }
          break;
        case Token::star:
        case Token::one:
          if (c != '/') {
            row(pos + len)[tok.kind == Token::star ? t : t + 1] = 1;
          }
          break;
        case Token::any_rest:
          row(pos + len)[t] = 1;
          break;
        case Token::any_dirs:
          row(pos + len)[t] = 1;
          if (c == '/') {
            row(pos + 1)[t + 1] = 1;
          }
          break;
        case Token::char_class:
          if (class_contains(tok.ranges, rune) != tok.negated && !(tok.negated && c == '\n')) {
            row(pos + len)[t + 1] = 1;
          }
          break;
      }
    }
    std::fill(states, states + n + 1, 0);  // this row is reused for pos + kRows
  }
  return row(path.size())[n] != 0;
}

llvm::Expected<PatternMatcher> PatternMatcher::create(const std::vector<std::string>& patterns) {
  PatternMatcher matcher;
  for (const std::string& raw : patterns) {
    llvm::StringRef trimmed = go_trim_space(raw);
    if (trimmed.empty()) {
      continue;
    }
    std::string p = clean_path(trimmed);
    Pattern pattern;
    if (p[0] == '!') {
      if (p.size() == 1) {
        return make_error("illegal exclusion pattern: \"!\"");
      }
      pattern.exclusion = true;
      p.erase(0, 1);
      matcher.has_exclusions_ = true;
    }
    if (auto err = compile(p, &pattern.tokens)) {
      return err;
    }
    pattern.text = p;
    llvm::SmallVector<llvm::StringRef, 8> parts;
    llvm::StringRef(p).split(parts, '/');
    for (llvm::StringRef part : parts) {
      pattern.parts.push_back(part.str());
      std::vector<Token> tokens;
      if (part.contains("**")) {
        pattern.part_tokens.emplace_back();
      } else if (auto err = compile(part, &tokens)) {
        llvm::consumeError(std::move(err));  // a bad part failed compile() above
        pattern.part_tokens.emplace_back();
      } else {
        pattern.part_tokens.emplace_back(std::move(tokens));
      }
    }
    matcher.patterns_.push_back(std::move(pattern));
    matcher.index_pattern(matcher.patterns_.size() - 1);
  }
  return matcher;
}

void PatternMatcher::index_pattern(size_t index) {
  const Pattern& pattern = patterns_[index];
  if (pattern.exclusion) {
    exclusions_.push_back(index);
  }
  std::string text;
  size_t t = 0;
  for (; t < pattern.tokens.size() && pattern.tokens[t].kind == Token::literal; ++t) {
    text += pattern.tokens[t].c;
  }
  if (t == pattern.tokens.size()) {
    literal_[text] = index;
    return;
  }
  size_t slash = text.find('/');
  if (slash == std::string::npos) {
    wild_first_.push_back(index);
  } else {
    by_first_[text.substr(0, slash)].push_back(index);
  }
}

bool PatternMatcher::pattern_matches(size_t index, llvm::StringRef file) const {
  const std::vector<Token>& tokens = patterns_[index].tokens;
  bool match = match_tokens(tokens, file);
  // A pattern matching a parent directory matches everything below it.
  for (size_t slash = file.find('/'); !match && slash != llvm::StringRef::npos;
       slash = file.find('/', slash + 1)) {
    match = match_tokens(tokens, file.take_front(slash));
  }
  return match;
}

bool PatternMatcher::matches(llvm::StringRef raw_path) const {
  std::string path = clean_path(raw_path);
  if (path.size() > 1 && path[0] == '/') {
    path.erase(0, 1);
  }
  llvm::StringRef file(path);
  // The last pattern that matches the path or a parent decides (moby skips a
  // pattern that could not change the outcome; the result is the same). So
  // only the candidates above the best plain-text match are tried, newest first.
  std::optional<size_t> best;
  for (size_t end = file.find('/');; end = file.find('/', end + 1)) {
    auto it = literal_.find(file.take_front(end).str());
    if (it != literal_.end() && (!best || it->second > *best)) {
      best = it->second;
    }
    if (end == llvm::StringRef::npos) {
      break;
    }
  }
  static const std::vector<size_t> kNone;
  auto first = by_first_.find(file.take_front(file.find('/')).str());
  const std::vector<size_t>& a = first == by_first_.end() ? kNone : first->second;
  const std::vector<size_t>& b = wild_first_;
  size_t i = a.size();
  size_t j = b.size();
  while (i > 0 || j > 0) {
    size_t index = (j == 0 || (i > 0 && a[i - 1] > b[j - 1])) ? a[--i] : b[--j];
    if (best && index < *best) {
      break;
    }
    if (pattern_matches(index, file)) {
      best = index;
      break;
    }
  }
  return best && !patterns_[*best].exclusion;
}

bool PatternMatcher::could_match_below(const Pattern& pattern, llvm::StringRef dir) {
  llvm::SmallVector<llvm::StringRef, 8> parts;
  dir.split(parts, '/');
  for (size_t i = 0; i < parts.size(); ++i) {
    if (i >= pattern.parts.size()) {
      return true;  // the pattern names an ancestor: it re-includes all of dir
    }
    const auto& tokens = pattern.part_tokens[i];
    if (!tokens) {
      return true;
    }
    if (!match_tokens(*tokens, parts[i])) {
      return false;
    }
  }
  return true;
}

PatternMatcher::DirDecision PatternMatcher::match_dir(llvm::StringRef raw_dir) const {
  DirDecision decision;
  decision.excluded = matches(raw_dir);
  if (!decision.excluded) {
    return decision;
  }
  std::string dir = clean_path(raw_dir);
  decision.must_descend = false;
  for (size_t index : exclusions_) {
    if (could_match_below(patterns_[index], dir)) {
      decision.must_descend = true;
      break;
    }
  }
  return decision;
}

llvm::Expected<std::vector<bool>> dockerignore_excludes(llvm::StringRef context_dir,
                                                        llvm::StringRef dockerfile_path,
                                                        const std::vector<std::string>& paths) {
  std::string dockerfile =
      dockerfile_path.empty() ? fs::join(context_dir, "Dockerfile") : dockerfile_path.str();
  auto patterns = load_dockerignore(context_dir, dockerfile);
  if (!patterns) {
    return patterns.takeError();
  }
  auto matcher = PatternMatcher::create(*patterns);
  if (!matcher) {
    return with_context(matcher.takeError(), "read .dockerignore");
  }
  std::vector<bool> out;
  for (const std::string& path : paths) {
    out.push_back(matcher->matches(path));
  }
  return out;
}

}  // namespace kiln::frontend
