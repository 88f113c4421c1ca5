// libFuzzer target: the Dockerfile parser, the typed instructions, the shell
// lexer and the .dockerignore matcher must never crash, hang or leak on any input.
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
  auto matcher = kiln::frontend::PatternMatcher::create(kiln::frontend::read_dockerignore(text));
  if (matcher) {
    (void)matcher->matches("a/b/c.txt");
    (void)matcher->match_dir("a/b");
  } else {
    llvm::consumeError(matcher.takeError());
  }
  return 0;
}
