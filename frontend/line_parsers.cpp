#include "frontend/line_parsers.h"

#include <algorithm>

#include <nlohmann/json.hpp>

#include "frontend/go_text.h"
#include "support/error.h"

namespace kiln::frontend {
namespace {

/// BuildKit's reWhitespace: `[\t\v\f\r ]+`.
bool is_ws(char c) { return c == '\t' || c == '\v' || c == '\f' || c == '\r' || c == ' '; }

/// regexp.Split(text, n) on reWhitespace; n < 0 means all.
std::vector<std::string> split_ws(llvm::StringRef text, int n) {
  std::vector<std::string> parts;
  size_t start = 0;
  size_t pos = 0;
  while (pos < text.size()) {
    if (n > 0 && static_cast<int>(parts.size()) == n - 1) {
      break;
    }
    if (is_ws(text[pos])) {
      size_t end = pos;
      while (end < text.size() && is_ws(text[end])) {
        ++end;
      }
      parts.push_back(text.slice(start, pos).str());
      start = pos = end;
      continue;
    }
    ++pos;
  }
  parts.push_back(text.substr(start).str());
  return parts;
}

/// BuildKit's extractBuilderFlags: leading `--name[=value]` words (quotes and
/// backslashes processed), up to the first word not starting with "--" or a
/// lone "--". Returns the rest of the line.
std::string extract_flags(llvm::StringRef line, std::vector<std::string>* flags) {
  enum { in_spaces, in_word, in_quote } phase = in_spaces;
  std::string word;
  char quote = 0;
  bool blank_ok = false;
  for (size_t pos = 0; pos <= line.size(); ++pos) {
    char ch = pos < line.size() ? line[pos] : 0;
    if (phase == in_spaces) {
      if (pos == line.size()) {
        break;
      }
      if (is_ws(ch) || ch == '\n') {
        continue;
      }
      if (ch != '-' || pos + 1 == line.size() || line[pos + 1] != '-') {
        return line.substr(pos).str();
      }
      phase = in_word;
    }
    if (pos == line.size()) {
      if (word != "--" && (blank_ok || !word.empty())) {
        flags->push_back(word);
      }
      break;
    }
    if (phase == in_word) {
      if (is_ws(ch) || ch == '\n') {
        phase = in_spaces;
        if (word == "--") {
          return line.substr(pos).str();
        }
        if (blank_ok || !word.empty()) {
          flags->push_back(word);
        }
        word.clear();
        blank_ok = false;
        continue;
      }
      if (ch == '\'' || ch == '"') {
        quote = ch;
        blank_ok = true;
        phase = in_quote;
        continue;
      }
      if (ch == '\\') {
        if (pos + 1 == line.size()) {
          continue;
        }
        ch = line[++pos];
      }
      word += ch;
      continue;
    }
    if (ch == quote) {
      phase = in_word;
      continue;
    }
    if (ch == '\\') {
      if (pos + 1 == line.size()) {
        phase = in_word;
        continue;
      }
      ch = line[++pos];
    }
    word += ch;
  }
  return "";
}

/// The result of one line parser.
struct Parsed {
  std::vector<std::string> args;
  std::vector<Node> children;
  bool json = false;
};

enum class JsonResult { ok, not_json, not_strings };

/// BuildKit's parseJSON: a JSON array of strings.
JsonResult parse_json(llvm::StringRef rest, Parsed* out) {
  rest = go_trim_left_space(rest);
  if (!rest.startswith("[")) {
    return JsonResult::not_json;
  }
  // Without exceptions: invalid JSON is the common case (shell form).
  nlohmann::json doc = nlohmann::json::parse(rest.begin(), rest.end(), nullptr, false);
  if (!doc.is_array()) {
    return JsonResult::not_json;
  }
  std::vector<std::string> args;
  for (const auto& item : doc) {
    if (!item.is_string()) {
      return JsonResult::not_strings;
    }
    args.push_back(item.get<std::string>());
  }
  out->args = std::move(args);
  out->json = true;
  return JsonResult::ok;
}

llvm::Error not_strings_error() {
  return make_error("when using JSON array syntax, arrays must be comprised of strings only");
}

llvm::Error parse_maybe_json(llvm::StringRef rest, Parsed* out) {
  if (rest.empty()) {
    return llvm::Error::success();
  }
  switch (parse_json(rest, out)) {
    case JsonResult::ok:
      return llvm::Error::success();
    case JsonResult::not_strings:
      return not_strings_error();
    case JsonResult::not_json:
      break;
  }
  out->args = {rest.str()};
  return llvm::Error::success();
}

void parse_whitespace_delimited(llvm::StringRef rest, Parsed* out) {
  if (!rest.empty()) {
    out->args = split_ws(rest, -1);
  }
}

llvm::Error parse_maybe_json_to_list(llvm::StringRef rest, Parsed* out) {
  switch (parse_json(rest, out)) {
    case JsonResult::ok:
      return llvm::Error::success();
    case JsonResult::not_strings:
      return not_strings_error();
    case JsonResult::not_json:
      break;
  }
  parse_whitespace_delimited(rest, out);
  return llvm::Error::success();
}

/// ENV and LABEL: `key value` (old form) or `k=v k2=v2`.
llvm::Error parse_name_val(llvm::StringRef rest, llvm::StringRef key, char escape, Parsed* out) {
  std::vector<std::string> words = parse_words(rest, escape);
  if (words.empty()) {
    return llvm::Error::success();
  }
  if (words[0].find('=') == std::string::npos) {
    std::vector<std::string> parts = split_ws(rest, 2);
    if (parts.size() < 2) {
      return make_error(key + " must have two arguments");
    }
    out->args = {parts[0], parts[1], ""};
    return llvm::Error::success();
  }
  for (const std::string& word : words) {
    size_t eq = word.find('=');
    if (eq == std::string::npos) {
      return make_error("Syntax error - can't find = in " + go_quote(word) +
                        ". Must be of the form: name=value");
    }
    out->args.push_back(word.substr(0, eq));
    out->args.push_back(word.substr(eq + 1));
    out->args.push_back("=");
  }
  return llvm::Error::success();
}

/// HEALTHCHECK: the type word, then CMD's arguments like parseMaybeJSON.
llvm::Error parse_health_config(llvm::StringRef rest, Parsed* out) {
  auto space = [](char c) { return go_is_space(static_cast<unsigned char>(c)); };
  size_t sep = 0;
  while (sep < rest.size() && !space(rest[sep])) {
    ++sep;
  }
  size_t next = sep;
  while (next < rest.size() && space(rest[next])) {
    ++next;
  }
  if (sep == 0) {
    return llvm::Error::success();
  }
  Parsed cmd;
  if (auto err = parse_maybe_json(rest.substr(next), &cmd)) {
    return err;
  }
  out->args.push_back(rest.take_front(sep).str());
  out->args.insert(out->args.end(), cmd.args.begin(), cmd.args.end());
  out->json = cmd.json;
  return llvm::Error::success();
}

llvm::Error dispatch(llvm::StringRef keyword, llvm::StringRef rest, char escape, Parsed* out) {
  if (keyword == "add" || keyword == "copy" || keyword == "volume") {
    return parse_maybe_json_to_list(rest, out);
  }
  if (keyword == "cmd" || keyword == "entrypoint" || keyword == "run" || keyword == "shell") {
    return parse_maybe_json(rest, out);
  }
  if (keyword == "arg") {
    out->args = parse_words(rest, escape);
    return llvm::Error::success();
  }
  if (keyword == "env" || keyword == "label") {
    return parse_name_val(rest, keyword == "env" ? "ENV" : "LABEL", escape, out);
  }
  if (keyword == "expose" || keyword == "from") {
    parse_whitespace_delimited(rest, out);
    return llvm::Error::success();
  }
  if (keyword == "healthcheck") {
    return parse_health_config(rest, out);
  }
  if (keyword == "onbuild") {
    if (rest.empty()) {
      return llvm::Error::success();
    }
    auto child = node_from_line(rest, escape);
    if (!child) {
      return child.takeError();
    }
    out->children.push_back(std::move(*child));
    return llvm::Error::success();
  }
  // maintainer, stopsignal, user, workdir: the rest as one string.
  if (!rest.empty()) {
    out->args = {rest.str()};
  }
  return llvm::Error::success();
}

/// Optimal-string-alignment distance: Levenshtein plus adjacent transpositions,
/// so "chwon" is one edit from "chown".
size_t edit_distance(llvm::StringRef a, llvm::StringRef b) {
  std::vector<std::vector<size_t>> d(a.size() + 1, std::vector<size_t>(b.size() + 1));
  for (size_t i = 0; i <= a.size(); ++i) {
    d[i][0] = i;
  }
  for (size_t j = 0; j <= b.size(); ++j) {
    d[0][j] = j;
  }
  for (size_t i = 1; i <= a.size(); ++i) {
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) {
        d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
      }
    }
  }
  return d[a.size()][b.size()];
}

}  // namespace

const std::vector<std::string>& instruction_keywords() {
  static const std::vector<std::string> keywords = {
      "add",    "arg",   "cmd",         "copy",  "entrypoint", "env",
      "expose", "from",  "healthcheck", "label", "maintainer", "onbuild",
      "run",    "shell", "stopsignal",  "user",  "volume",     "workdir"};
  return keywords;
}

std::string suggest(llvm::StringRef value, const std::vector<std::string>& options,
                    bool case_sensitive) {
  if (value.empty()) {
    return "";
  }
  std::string needle = case_sensitive ? value.str() : value.lower();
  std::string best;
  size_t best_distance = 3;
  for (const std::string& option : options) {
    std::string candidate = case_sensitive ? option : llvm::StringRef(option).lower();
    size_t distance = edit_distance(needle, candidate);
    if (distance < best_distance) {
      best_distance = distance;
      best = option;
    }
  }
  return best;
}

std::string with_suggestion(std::string message, llvm::StringRef value,
                            const std::vector<std::string>& options, bool case_sensitive) {
  std::string near = suggest(value, options, case_sensitive);
  if (near.empty()) {
    return message;
  }
  if (!case_sensitive && value == value.lower()) {
    near = llvm::StringRef(near).lower();
  } else if (!case_sensitive && value == value.upper()) {
    near = llvm::StringRef(near).upper();
  }
  return message + " (did you mean " + near + "?)";
}

std::vector<std::string> parse_words(llvm::StringRef rest, char escape) {
  enum { in_spaces, in_word, in_quote } phase = in_spaces;
  std::vector<std::string> words;
  std::string word;
  char32_t quote = 0;
  bool blank_ok = false;
  char32_t ch = 0;
  int width = 0;
  for (size_t pos = 0; pos <= rest.size(); pos += width) {
    if (pos != rest.size()) {
      width = utf8_rune_at(rest, pos, &ch);
    }
    if (phase == in_spaces) {
      if (pos == rest.size()) {
        break;
      }
      if (go_is_space(ch)) {
        continue;
      }
      phase = in_word;
    }
    if (pos == rest.size()) {
      if (blank_ok || !word.empty()) {
        words.push_back(word);
      }
      break;
    }
    auto append = [&](size_t at, int len) { word.append(rest.data() + at, len); };
    if (phase == in_word) {
      if (go_is_space(ch)) {
        phase = in_spaces;
        if (blank_ok || !word.empty()) {
          words.push_back(word);
        }
        word.clear();
        blank_ok = false;
        continue;
      }
      if (ch == '\'' || ch == '"') {
        quote = ch;
        blank_ok = true;
        phase = in_quote;
      }
      if (ch == static_cast<unsigned char>(escape)) {
        if (pos + width == rest.size()) {
          continue;
        }
        append(pos, width);
        pos += width;
        width = utf8_rune_at(rest, pos, &ch);
      }
      append(pos, width);
      continue;
    }
    if (ch == quote) {
      phase = in_word;
    }
    if (ch == static_cast<unsigned char>(escape) && quote != '\'') {
      if (pos + width == rest.size()) {
        phase = in_word;
        continue;
      }
      append(pos, width);
      pos += width;
      width = utf8_rune_at(rest, pos, &ch);
    }
    append(pos, width);
  }
  return words;
}

llvm::Expected<Node> node_from_line(llvm::StringRef line, char escape) {
  llvm::StringRef trimmed = go_trim_space(line);
  size_t cut = 0;
  while (cut < trimmed.size() && !is_ws(trimmed[cut])) {
    ++cut;
  }
  Node node;
  std::string written = trimmed.take_front(cut).str();
  node.keyword = llvm::StringRef(written).lower();
  node.original = line.str();
  std::string rest;
  if (cut < trimmed.size()) {
    size_t start = cut;
    while (start < trimmed.size() && is_ws(trimmed[start])) {
      ++start;
    }
    rest = extract_flags(trimmed.substr(start), &node.flags);
  }
  rest = go_trim_space(rest).str();
  const auto& keywords = instruction_keywords();
  if (std::find(keywords.begin(), keywords.end(), node.keyword) == keywords.end()) {
    return make_error(with_suggestion("unknown instruction: " + written, written, keywords, false));
  }
  Parsed parsed;
  if (auto err = dispatch(node.keyword, rest, escape, &parsed)) {
    return err;
  }
  node.args = std::move(parsed.args);
  node.children = std::move(parsed.children);
  node.json = parsed.json;
  return node;
}

}  // namespace kiln::frontend
