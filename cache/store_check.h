// `kiln system check`: is the store what kiln.db says it is? Blobs against
// their digests, (deep) snapshots that kiln packed against their DiffIDs,
// database rows against files, and files no row or snapshot explains. With
// `repair`, what is broken or orphaned is removed (broken images included:
// pull or build them again), and dangling rows are deleted.
#pragma once

#include <string>
#include <vector>

#include <llvm/ADT/StringRef.h>
#include <llvm/Support/Error.h>

#include "cache/image_store.h"

namespace kiln::cache {

struct CheckOptions {
  /// Also re-pack every snapshot kiln built itself (an uncompressed layer blob
  /// is recorded for its DiffID) and compare the DiffID. Slow: reads every file.
  bool deep = false;
  bool repair = false;
};

/// One problem: what (e.g. "blob sha256:..."), and what is wrong with it.
struct CheckProblem {
  std::string object;
  std::string problem;
  /// Whether --repair removed it (or its rows).
  bool repaired = false;
};

struct CheckReport {
  size_t blobs = 0, snapshots = 0, images = 0, cache_keys = 0;
  std::vector<CheckProblem> problems;
};

/// Checks the store of `images`. The caller holds the exclusive StoreLease
/// (cache/gc_lock.h), so that no build changes the store meanwhile.
llvm::Expected<CheckReport> check_store(ImageStore& images, const CheckOptions& options);

/// `kiln system check`'s report: a line per problem ("OBJECT: PROBLEM", "
/// (repaired)") and the summary ("checked N blobs, ...: no problems" / "N
/// problems, all repaired" / "N problems (run with --repair to fix)").
std::string check_report_text(const CheckReport& report, const CheckOptions& options);

/// The problems of `report` that are not repaired.
size_t problems_left(const CheckReport& report);

/// check_store() of the store at `root` (created when missing), under the
/// exclusive StoreLease, which waits for running builds.
llvm::Expected<CheckReport> check_store_at(llvm::StringRef root, const CheckOptions& options);

}  // namespace kiln::cache
