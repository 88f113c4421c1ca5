// `import`: a root filesystem tarball becomes a one-layer image, like `docker import`.
#pragma once

#include <string>

#include <llvm/ADT/StringRef.h>
#include <llvm/Support/Error.h>

#include "cache/image_store.h"

namespace kiln::cache {

/// Options of import_rootfs.
struct ImportOptions {
  /// Full normalized name to give the image; empty for none.
  std::string name;
  /// The history entry's comment (docker: "Imported from -").
  std::string comment = "Imported from -";
  /// The config's `created` as unix seconds; negative means now.
  int64_t created = -1;
};

/// The options of `kiln import FILE [REPOSITORY[:TAG]] [-m MESSAGE]`: `name`
/// parsed and normalized ("" for none; a digest reference is a UsageError), the
/// history comment `message` (the default when empty), `created` from
/// `source_date_epoch`, the environment variable's value ("" when unset; not a
/// number of seconds: a UsageError).
llvm::Expected<ImportOptions> import_options(llvm::StringRef name, llvm::StringRef message,
                                             llvm::StringRef source_date_epoch);

/// Reads a tar (plain, gzip, xz, bzip2 or zstd; detected) from `fd` and stores it as
/// a gzip layer plus an OCI config (rootfs.diff_ids, one history entry, the host
/// platform) and manifest. Entries that escape the root ('..', absolute names),
/// that go through a symlink of the archive, hard links that point outside, and
/// device nodes are rejected with the entry's name, and nothing is stored.
/// Returns the stored image.
llvm::Expected<ImageRecord> import_rootfs(ImageStore& store, int fd, const ImportOptions& options);

/// `kiln import`: import_rootfs() of the file `path`, or of standard input for
/// "-". Errors are in the context "import".
llvm::Expected<ImageRecord> import_rootfs_file(ImageStore& store, llvm::StringRef path,
                                               const ImportOptions& options);

}  // namespace kiln::cache
