#include "support/digest.h"

#include <catch2/catch.hpp>

#include "support/error.h"

using kiln::Digest;

TEST_CASE("sha256 known answers", "[digest]") {
  CHECK(Digest::of("").str() ==
        "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  CHECK(Digest::of("abc").hex() ==
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  kiln::Sha256 h;
  h.update("a");
  h.update("bc");
  CHECK(h.finish() == Digest::of("abc"));
}

TEST_CASE("digest parse round trip and rejects", "[digest]") {
  const std::string good =
      "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
  auto d = Digest::parse(good);
  REQUIRE(static_cast<bool>(d));
  CHECK(d->str() == good);
  CHECK(d->short_hex() == "ba7816bf8f01");

  auto bad = [](const std::string& s) {
    auto r = Digest::parse(s);
    REQUIRE(!r);
    return kiln::error_message(r.takeError());
  };
  CHECK(bad("sha512:abc") == "invalid digest 'sha512:abc': unsupported algorithm 'sha512'");
  CHECK(bad("ba7816bf") == "invalid digest 'ba7816bf': missing algorithm prefix 'sha256:'");
  CHECK(bad("sha256:ab") == "invalid digest 'sha256:ab': expected 64 hex characters, got 2");
  CHECK(bad("sha256:BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD") ==
        "invalid digest "
        "'sha256:BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD': not "
        "lowercase hex");
}

TEST_CASE("tagged fields never concatenate to the same stream", "[digest]") {
  kiln::Sha256 a;
  a.field("path", "ab");
  a.field("mode", "c");
  kiln::Sha256 b;
  b.field("path", "a");
  b.field("mode", "bc");
  CHECK(a.finish() != b.finish());
}
