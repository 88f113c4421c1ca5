// Parsing of `kiln build --cache-to` and `--cache-from` values. Internal to
// builder/build_cache.cpp.
#pragma once

#include <string>

#include <llvm/Support/Error.h>

#include "cache/compress.h"

namespace kiln::builder {

/// One `--cache-to`.
struct CacheTarget {
  std::string spec;
  /// local, registry or inline.
  std::string type;
  /// The directory (local) or reference (registry).
  std::string dest;
  bool max = false;
  cache::Compression compression = cache::Compression::gzip;
  bool cache_mounts = false;
  bool ignore_error = true;
  std::string tag = "latest";
};

/// One `--cache-from`.
struct CacheOrigin {
  std::string spec;
  /// local, registry or image (a plain reference).
  std::string type;
  std::string where;
  std::string tag = "latest";
  bool ignore_error = true;
};

/// Parses a `--cache-to` value; a UsageError names what is wrong.
llvm::Expected<CacheTarget> parse_cache_to(const std::string& spec);
/// Parses a `--cache-from` value; a UsageError names what is wrong.
llvm::Expected<CacheOrigin> parse_cache_from(const std::string& spec);

}  // namespace kiln::builder
