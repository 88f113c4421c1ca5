#include "support/error.h"

#include <catch2/catch.hpp>

TEST_CASE("context is prepended outermost first", "[error]") {
  llvm::Error e = kiln::make_error("HTTP 401");
  e = kiln::with_context(std::move(e), "upload layer 'sha256:ab12'");
  e = kiln::with_context(std::move(e), "push 'reg/app:1'");
  CHECK(kiln::error_message(std::move(e)) ==
        "push 'reg/app:1': upload layer 'sha256:ab12': HTTP 401");
}

TEST_CASE("source errors print an excerpt", "[error]") {
  auto src = std::make_shared<const std::string>(
      "FROM alpine:3.20\nWORKDIR /src\nRUNN make all\nCOPY . .\n");
  kiln::SourceError err("unknown instruction 'RUNN' (did you mean 'RUN'?)", "Dockerfile", {{3, 3}},
                        src);
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

TEST_CASE("start errors carry docker's exit codes", "[error]") {
  using kiln::StartError;
  using kiln::StartFailure;
  CHECK(StartError("x", StartFailure::not_found).exit_code() == 127);
  CHECK(StartError("x", StartFailure::not_executable).exit_code() == 126);
  CHECK(StartError("x", StartFailure::other).exit_code() == 125);
  CHECK(StartError::from_exit_code(127) == StartFailure::not_found);
  CHECK(StartError::from_exit_code(126) == StartFailure::not_executable);
  CHECK(StartError::from_exit_code(125) == StartFailure::other);
  CHECK(StartError::from_exit_code(1) == StartFailure::other);
}

TEST_CASE("to_start_error keeps a start error's kind and makes others 'other'", "[error]") {
  using kiln::StartFailure;
  llvm::Error typed = llvm::make_error<kiln::StartError>("runc run: exec: \"x\": no such thing",
                                                         StartFailure::not_found);
  auto kept = kiln::to_start_error(kiln::with_context(std::move(typed), "start 'c1'"));
  CHECK(kept->failure() == StartFailure::not_found);
  CHECK(kept->message() == "start 'c1': runc run: exec: \"x\": no such thing");
  // A message that reads like a missing command is not one unless typed so.
  auto plain = kiln::to_start_error(kiln::make_error("mount: no such file or directory"));
  CHECK(plain->failure() == StartFailure::other);
  CHECK(plain->exit_code() == 125);
  CHECK(plain->message() == "mount: no such file or directory");
}
