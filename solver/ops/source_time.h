// The time of a source for SOURCE_DATE_EPOCH=<stage> (BuildKit's
// resolveSourceDateEpochFromState for an http source).
#pragma once

#include <cstdint>
#include <optional>

#include <llvm/Support/Error.h>

#include "llb/ops.h"
#include "solver/ops/solve_context.h"

namespace kiln::solver::ops {

/// Downloads `op` (under `ctx.root`/tmp, removed after; checked against its
/// checksum) and returns the server's Last-Modified, else, when the body is a tar
/// archive (plain, gzip, bzip2 or xz), the newest mtime of its regular files, else
/// none (also for an archive without regular files). Fails when the download fails
/// (status, connection, checksum). Reads only the archive's headers.
llvm::Expected<std::optional<int64_t>> http_source_time(const SolveContext& ctx,
                                                        const llb::HttpSource& op);

}  // namespace kiln::solver::ops
