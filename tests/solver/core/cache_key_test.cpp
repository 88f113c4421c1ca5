#include "solver/core/cache_key.h"

#include <catch2/catch.hpp>

using namespace kiln::solver::core;
using kiln::Digest;

// Pinned values; checked independently with Python hashlib over the same tagged fields.
TEST_CASE("cache key recipe known answers", "[cache_key]") {
  CHECK(kCacheKeyVersion == 1);
  Digest op = Digest::of("op");
  Digest in = Digest::of("input");
  Digest sel = Digest::of("selector");
  CHECK(compute_cache_key(op, {}).hex() ==
        "3bdf17d85ee74e55e0a217d3b1599109c8c415bb34563b3e22b20a245c23636c");
  CHECK(compute_cache_key(op, {{KeyInput::Kind::key, in, {}}}).hex() ==
        "f44dde1f8feef4efa2a8b436efa47bd396ff8be84c8e7e162e51cb89f43a77ec");
  CHECK(compute_cache_key(op, {{KeyInput::Kind::content, in, {}}}).hex() ==
        "f10494418dfafbc882d531f34a17e09e79f40046d09b07193e177683da2e6df0");
  CHECK(compute_cache_key(op, {{KeyInput::Kind::content, in, sel}}).hex() ==
        "70ddf7847362ceb396352a7baa978fe6fe8cbabbe1b15168030af4cd079309c7");
}

TEST_CASE("every field of the recipe changes the key", "[cache_key]") {
  Digest op = Digest::of("op");
  Digest a = Digest::of("a");
  Digest b = Digest::of("b");
  CacheKey base =
      compute_cache_key(op, {{KeyInput::Kind::key, a, {}}, {KeyInput::Kind::key, b, {}}});
  CHECK(base != compute_cache_key(Digest::of("op2"),
                                  {{KeyInput::Kind::key, a, {}}, {KeyInput::Kind::key, b, {}}}));
  CHECK(base !=
        compute_cache_key(op, {{KeyInput::Kind::key, b, {}}, {KeyInput::Kind::key, a, {}}}));
  CHECK(base !=
        compute_cache_key(op, {{KeyInput::Kind::content, a, {}}, {KeyInput::Kind::key, b, {}}}));
  CHECK(base != compute_cache_key(
                    op, {{KeyInput::Kind::key, a, Digest::of("s")}, {KeyInput::Kind::key, b, {}}}));
  CHECK(base != compute_cache_key(op, {{KeyInput::Kind::key, a, {}}}));
}
