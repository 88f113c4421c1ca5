// Who may change the set of snapshots, cache records and blobs while others use
// them: a readers-writer lock between builds (readers: they look up, mount and
// add snapshots) and garbage collection (the writer: it deletes them), over two
// flock files so that it works between processes:
//
//   ROOT/gc.intent   a writer holds it exclusively while it waits and works; a
//                    reader takes it shared only for a moment, so a waiting
//                    writer is not starved by readers that keep coming
//   ROOT/gc.lock     readers hold it shared for as long as they use the store;
//                    the writer holds it exclusively
//
// Besides, the chains this process uses (SnapshotResults of the running build)
// are noted in a process-wide set, so that a collection run by this process
// itself (after ENOSPC) keeps them.
#pragma once

#include <optional>
#include <set>
#include <string>

#include <llvm/ADT/StringRef.h>
#include <llvm/Support/Error.h>

#include "support/digest.h"
#include "support/file_lock.h"

namespace kiln::cache {

/// A held side of the store's collection lock. Move-only; released on
/// destruction (the collection lock first, then the intent).
class StoreLease {
 public:
  /// A reader's lease (a build, a container being created): garbage collection
  /// waits until it is released. Waits for a collection that runs or waits.
  static llvm::Expected<StoreLease> acquire_shared(llvm::StringRef root);
  /// The writer's lease (prune, automatic collection): waits until no reader
  /// holds the store, and keeps new readers waiting until released.
  static llvm::Expected<StoreLease> acquire_exclusive(llvm::StringRef root);
  /// The writer's lease when nobody holds the store; nullopt otherwise.
  static llvm::Expected<std::optional<StoreLease>> try_exclusive(llvm::StringRef root);
  /// Releases the lease now (the destructor does nothing afterwards).
  void release();

 private:
  StoreLease() = default;
  std::optional<FileLock> intent_;  // held only while waiting (readers) or throughout (writer)
  std::optional<FileLock> lock_;
};

/// Notes that this process uses snapshot `chain` (and so its ancestors) until
/// the process ends or forget_chains_in_use() is called. Thread-safe.
void note_chain_in_use(const Digest& chain);
/// The chains noted by note_chain_in_use(). Thread-safe.
std::set<Digest> chains_in_use();
/// Forgets every noted chain (at the end of a build). Thread-safe.
void forget_chains_in_use();

}  // namespace kiln::cache
