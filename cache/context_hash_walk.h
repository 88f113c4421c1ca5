// Internal to the context hasher: the parallel stat walk behind ContextHasher.
#pragma once

#include <sys/stat.h>

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include <llvm/Support/Error.h>

#include "cache/context_hash.h"

namespace kiln::cache::detail {

/// One walked entry and, for a directory, its children sorted by name.
struct WalkItem {
  std::string abs;
  std::string name;
  struct stat st {};
  std::string link;
  std::vector<std::unique_ptr<WalkItem>> children;
  bool need_read = false;
  Digest content;
  Digest checksum;
};

/// Walks selected paths (directories in parallel, with TBB), reads the files
/// the stat cache does not know in parallel, then computes checksums
/// bottom-up. One use: add_top() for each path, then finish().
class Walk {
 public:
  Walk(const std::string& root, const ContextHashOptions& options, ContextHashStats& stats);

  /// Walks the entry at `rel` (relative to the root, already cleaned and
  /// checked against the filter); returns its index for checksum().
  llvm::Expected<size_t> add_top(const std::string& rel);
  /// Reads contents, records them in the stat cache, computes checksums.
  llvm::Error finish();
  /// add_top() of each of `rels` (symlinks in their parents resolved inside the
  /// root, the last component not followed), then finish(); their indexes in order.
  llvm::Expected<std::vector<size_t>> walk_all(const std::vector<std::string>& rels);
  /// The checksum of the top entry `index`; valid after finish().
  const Digest& checksum(size_t index) const { return tops_[index]->checksum; }
  /// The walked entry of top `index`; valid after finish().
  const WalkItem& top(size_t index) const { return *tops_[index]; }

 private:
  llvm::Error fill(WalkItem& item, const std::string& rel);
  llvm::Error fill_children(WalkItem& dir, const std::string& rel);
  bool keep(const std::string& rel, bool is_dir);
  void collect_reads(WalkItem& item, std::vector<WalkItem*>& out);
  void compute_checksum(WalkItem& item);

  const std::string& root_;
  const ContextHashOptions& options_;
  ContextHashStats& stats_;
  int64_t started_ns_;
  std::atomic<size_t> entries_{0};
  std::atomic<size_t> cached_{0};
  std::vector<std::unique_ptr<WalkItem>> tops_;
};

}  // namespace kiln::cache::detail
