#include "support/try.h"

#include <memory>
#include <string>

#include <catch2/catch.hpp>

#include "support/error.h"

namespace {

llvm::Expected<int> number(bool ok) {
  if (!ok) {
    return kiln::make_error("no number");
  }
  return 42;
}

llvm::Expected<std::unique_ptr<std::string>> owned(bool ok) {
  if (!ok) {
    return kiln::make_error("nothing owned");
  }
  return std::make_unique<std::string>("mine");
}

llvm::Error check(bool ok) { return ok ? llvm::Error::success() : kiln::make_error("failed"); }

// Uses each macro once; `reached` counts the lines after them that ran.
llvm::Expected<std::string> chain(bool a, bool b, bool c, int& reached) {
  KILN_TRY(int n, number(a));
  ++reached;
  KILN_TRY(auto text, owned(b));  // a move-only value
  ++reached;
  KILN_CHECK(check(c));
  ++reached;
  return *text + std::to_string(n);
}

llvm::Error assign(int& into) {
  KILN_TRY(into, number(true));  // into an existing variable
  return llvm::Error::success();
}

}  // namespace

TEST_CASE("KILN_TRY and KILN_CHECK return the first failure and go on otherwise", "[try]") {
  int reached = 0;
  auto all = chain(true, true, true, reached);
  REQUIRE(static_cast<bool>(all));
  CHECK(*all == "mine42");
  CHECK(reached == 3);

  for (auto [a, b, c, message, lines] : {std::tuple{false, true, true, "no number", 0},
                                         {true, false, true, "nothing owned", 1},
                                         {true, true, false, "failed", 2}}) {
    reached = 0;
    auto failed = chain(a, b, c, reached);
    REQUIRE(!failed);
    CHECK(llvm::toString(failed.takeError()) == message);
    CHECK(reached == lines);
  }

  int into = 0;
  REQUIRE(!assign(into));
  CHECK(into == 42);
}
