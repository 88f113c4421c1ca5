// libFuzzer target: the Dockerfile parser, the typed instructions, the shell
// lexer and the .dockerignore matcher must never crash, hang or leak on any input,
// also when the input is amplified into deep nesting or wide values (which
// -max_len alone never reaches).
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>

#include "frontend/ast.h"
#include "frontend/dockerignore.h"
#include "frontend/instructions.h"
#include "frontend/shell_lex.h"

namespace {

std::optional<std::string> fuzz_env(llvm::StringRef name) {
  if (name == "A") {
    return std::string("a b");
  }
  if (name == "E") {
    return std::string();
  }
  return std::nullopt;
}

/// The input split at its middle into an opening and a closing half, each
/// repeated `n` times around the other: "${a:-" + "}" becomes 7,000 levels.
std::string deep(llvm::StringRef text, size_t n) {
  llvm::StringRef open = text.take_front(text.size() / 2);
  llvm::StringRef close = text.drop_front(text.size() / 2);
  std::string out;
  out.reserve((open.size() + close.size()) * n);
  for (size_t i = 0; i < n; ++i) {
    out += open;
  }
  for (size_t i = 0; i < n; ++i) {
    out += close;
  }
  return out;
}

/// Expands `word` with `W` set to `wide` (a large value: doubling and
/// `${W//?/$W}` must stop at the size limit, not exhaust memory).
void expand_with_wide(const std::string& word, const std::string& wide) {
  kiln::frontend::EnvLookup env = [&](llvm::StringRef name) -> std::optional<std::string> {
    if (name == "W") {
      return wide;
    }
    return fuzz_env(name);
  };
  kiln::frontend::ShellLex lex;
  auto out = lex.process_word(word, env);
  if (!out) {
    llvm::consumeError(out.takeError());
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  llvm::StringRef text(reinterpret_cast<const char*>(data), size);
  auto file = kiln::frontend::parse_dockerfile(text, "Dockerfile");
  if (file) {
    (void)kiln::frontend::dump_ast(file->ast);
  } else {
    llvm::consumeError(file.takeError());
  }
  for (char escape : {'\\', '`'}) {
    kiln::frontend::ShellLex lex(escape);
    auto words = lex.process_word_with_matches(text, fuzz_env);
    if (!words) {
      llvm::consumeError(words.takeError());
    }
  }
  if (size >= 2 && (data[0] & 1) != 0) {
    // An odd first byte amplifies: the rest of it picks how deep (up to about
    // 20,000 levels, at most 64 KB in all); the rest of the input is the text.
    llvm::StringRef rest = text.drop_front(1);
    size_t n = std::min<size_t>(1 + static_cast<size_t>(data[0] >> 1) * 160,
                                (size_t{64} << 10) / rest.size());
    std::string nested = deep(rest, n);
    auto parsed =
        kiln::frontend::parse_dockerfile("FROM scratch\nENV X=" + nested + "\n", "Dockerfile");
    if (!parsed) {
      llvm::consumeError(parsed.takeError());
    }
    std::string wide;
    while (wide.size() < (size_t{1} << 17)) {
      wide += rest.empty() ? llvm::StringRef("x") : rest;
    }
    expand_with_wide(nested, wide);
    expand_with_wide(rest.str(), wide);
  }
  auto matcher = kiln::frontend::PatternMatcher::create(kiln::frontend::read_dockerignore(text));
  if (matcher) {
    (void)matcher->matches("a/b/c.txt");
    (void)matcher->match_dir("a/b");
  } else {
    llvm::consumeError(matcher.takeError());
  }
  return 0;
}
