// Which processes use a store, and the clean-up after those that died (SIGKILL,
// power loss): their mounts, mutable snapshots and temp files.
#pragma once

#include <cstdint>

#include <llvm/ADT/StringRef.h>
#include <llvm/Support/Error.h>

namespace kiln::cache {

/// Marks this process as a user of the store at `root` until it exits (a shared
/// flock on ROOT/store.lock, created when missing), first cleaning up after
/// processes that died. When no other process uses the store (the lock can be
/// taken exclusively, which also keeps others waiting) everything in ROOT/tmp and
/// ROOT/snapshots/tmp-* is left over: reclaim_all(). Otherwise reclaim_dead()
/// removes what is provably dead. Later calls for the same root only run
/// reclaim_dead(). Fails when the lock file cannot be opened. Thread-safe.
llvm::Error use_store(llvm::StringRef root);

/// Unmounts (lazily) every mount under ROOT/tmp or ROOT/snapshots/tmp-* and every
/// overlay whose upper dir is there, then removes everything in ROOT/tmp and the
/// ROOT/snapshots/tmp-* dirs. Only for a store no other process uses. Returns how
/// many entries were removed.
llvm::Expected<unsigned> reclaim_all(llvm::StringRef root);

/// Removes, among entries at least `min_age_seconds` old, the mutable snapshots
/// ROOT/snapshots/tmp-* whose directory lock no process holds (unmounting what was made
/// from them) and the blob ingest files ROOT/tmp/ingest-* whose flock no process
/// holds. Other entries of ROOT/tmp are left for reclaim_all(): nothing tells
/// whether their owner lives. Returns how many entries were removed.
llvm::Expected<unsigned> reclaim_dead(llvm::StringRef root, int64_t min_age_seconds = 10);

}  // namespace kiln::cache
