#include "solver/ops/source_time.h"

#include <archive.h>
#include <archive_entry.h>

#include "solver/ops/file_copy.h"
#include "solver/ops/op_impl.h"

namespace kiln::solver::ops {
namespace {

/// The newest mtime of a regular file of the tar at `path`, or none when it is not
/// a tar (or holds no regular file).
std::optional<int64_t> newest_regular_file(const std::string& path) {
  struct archive* a = detail::open_tar_reader(path);
  if (a == nullptr) {
    return std::nullopt;
  }
  std::optional<int64_t> newest;
  struct archive_entry* entry = nullptr;
  int rc = ARCHIVE_OK;
  while ((rc = archive_read_next_header(a, &entry)) == ARCHIVE_OK) {
    if (archive_entry_filetype(entry) != AE_IFREG || !archive_entry_mtime_is_set(entry)) {
      continue;
    }
    int64_t t = archive_entry_mtime(entry);
    newest = newest ? std::max(*newest, t) : t;
  }
  if (rc != ARCHIVE_EOF) {
    newest.reset();  // not an archive after all, or a broken one: no time (as BuildKit)
  }
  archive_read_free(a);
  return newest;
}

}  // namespace

llvm::Expected<std::optional<int64_t>> http_source_time(const SolveContext& ctx,
                                                        const llb::HttpSource& op) {
  auto download = detail::download_http(ctx, op, nullptr);
  if (!download) {
    return download.takeError();
  }
  if ((*download)->mtime) {
    return (*download)->mtime;
  }
  return newest_regular_file((*download)->file);
}

}  // namespace kiln::solver::ops
