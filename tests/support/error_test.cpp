#include "support/error.h"

#include <catch2/catch.hpp>

TEST_CASE("context is prepended outermost first", "[error]") {
  llvm::Error e = kiln::make_error("HTTP 401");
  e = kiln::with_context(std::move(e), "upload layer 'sha256:ab12'");
  e = kiln::with_context(std::move(e), "push 'reg/app:1'");
  CHECK(kiln::error_message(std::move(e)) == "push 'reg/app:1': upload layer 'sha256:ab12': HTTP 401");
}

TEST_CASE("source errors print an excerpt", "[error]") {
  auto src = std::make_shared<const std::string>(
      "FROM alpine:3.20\nWORKDIR /src\nRUNN make all\nCOPY . .\n");
  kiln::SourceError err("unknown instruction 'RUNN' (did you mean 'RUN'?)", "Dockerfile",
                        {{3, 3}}, src);
  CHECK(kiln::format_source_error(err) ==
        "Dockerfile:3\n"
        "--------------------\n"
        "   1 |     FROM alpine:3.20\n"
        "   2 |     WORKDIR /src\n"
        "   3 | >>> RUNN make all\n"
        "   4 |     COPY . .\n"
        "--------------------\n"
        "error: unknown instruction 'RUNN' (did you mean 'RUN'?)\n");
}
