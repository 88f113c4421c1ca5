// Content checksums of paths in a build context (DESIGN.md "Cache keys"): sha256
// over tagged fields per entry, never mtime; a directory covers its header and
// its children's names and checksums, as BuildKit's contenthash does.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include <llvm/ADT/ArrayRef.h>
#include <llvm/ADT/StringRef.h>
#include <llvm/Support/Error.h>

#include "cache/stat_cache.h"
#include "support/digest.h"

namespace kiln::cache {

/// The version of the checksum recipe; part of every combined checksum.
inline constexpr uint64_t kContextChecksumVersion = 1;

/// Decides whether a context path is part of the context. `path` is relative
/// to the context root, '/'-separated, without a leading "/" (e.g.
/// "src/main.go"). Returning false for a directory drops its whole subtree,
/// so a filter that re-includes paths below an excluded directory
/// (".dockerignore" `!` lines) must return true for that directory. Called
/// from several threads at once: must be thread-safe.
using PathFilter = std::function<bool(llvm::StringRef path, bool is_dir)>;

/// A filter dropping every path that matches one of `patterns` (fnmatch with
/// FNM_PATHNAME, against the path relative to the root); a matching directory
/// drops its subtree. An empty list keeps everything.
PathFilter exclude_patterns(std::vector<std::string> patterns);

/// Computes the sha256 of a file's contents; must be thread-safe.
using ContentDigester = std::function<llvm::Expected<Digest>(const std::string& path)>;

struct ContextHashOptions {
  /// Which paths count; empty keeps everything.
  PathFilter filter;
  /// Remembers content digests across runs; may be null. Borrowed; the caller
  /// saves it.
  StatCache* stat_cache = nullptr;
  /// Reads contents; empty means digest_file. Tests inject a counting one.
  ContentDigester digester;
};

/// What one checksum call did.
struct ContextHashStats {
  size_t entries = 0;     ///< entries walked (files, dirs, links…)
  size_t files_read = 0;  ///< files whose contents were read
  size_t files_cached = 0;
  uint64_t bytes_read = 0;
};

/// One entry of a selection with its checksum (ContextHasher::entries).
struct ContextEntry {
  /// Relative to the context root, '/'-separated.
  std::string path;
  Digest checksum;
  bool is_dir = false;
};

/// Checksums selections of one context directory. Not thread-safe (it hashes
/// file contents in parallel internally, with TBB).
class ContextHasher {
 public:
  ContextHasher(std::string root, ContextHashOptions options);

  /// The checksum of the entry at `path` (relative to the root; "" or "."
  /// is the root itself; ".." cannot leave the root). Fails when the path is
  /// missing or excluded: "failed to compute cache key: 'path' not found".
  llvm::Expected<Digest> checksum_path(llvm::StringRef path);

  /// The checksum of `sources` as a COPY reads them: each source may be a
  /// wildcard (`*`, `?`, `[...]` per path component) resolved to its matches.
  /// sha256 of ("kiln.context-checksum", version) then per match, sorted and
  /// deduplicated, ("path", relative path) and ("entry", its checksum). A
  /// wildcard without matches fails: "failed to compute cache key: no files
  /// match 'pattern'".
  llvm::Expected<Digest> checksum(llvm::ArrayRef<std::string> sources);

  /// Every entry that checksum(`sources`) covers (the matches and everything
  /// below them), sorted by path, each with its own checksum: what changed
  /// between two selections, for people (`kiln build --explain-cache`). Fails
  /// as checksum() does.
  llvm::Expected<std::vector<ContextEntry>> entries(llvm::ArrayRef<std::string> sources);

  /// The context paths matching `pattern` (sorted; excluded paths never
  /// match). A pattern without wildcards yields itself if it exists.
  llvm::Expected<std::vector<std::string>> resolve(llvm::StringRef pattern);

  /// Counters since construction.
  const ContextHashStats& stats() const { return stats_; }

 private:
  /// The sorted, deduplicated matches of `sources`.
  llvm::Expected<std::vector<std::string>> matches(llvm::ArrayRef<std::string> sources);

  std::string root_;
  ContextHashOptions options_;
  ContextHashStats stats_;
};

/// `path` made relative to the context root: leading "/" and "./" removed, "."
/// and ".." resolved without leaving the root. The root itself is "".
std::string clean_context_path(llvm::StringRef path);

}  // namespace kiln::cache
