// Conformance cases on disk: tests/conformance/cases/<name>/ holds a Dockerfile,
// optional context/ (the build context), setup.sh (run inside the prepared
// context, for what git cannot store: hard links, archives, odd modes), args
// (extra `build` arguments, one per line, `{ctx}` is the context path),
// expected.json and, where docker 20.10's BuildKit differs from current
// BuildKit, peer-differs (the reason).
#pragma once

#include <string>
#include <vector>

namespace kiln::conformance {

/// Names of the case directories under `cases_dir`, sorted.
std::vector<std::string> list_cases(const std::string& cases_dir);

/// Copies `case_dir`/context into `out_dir` with git's modes (0755 dirs and
/// executables, 0644 other files, owner 0:0) and runs `case_dir`/setup.sh there.
/// Throws std::runtime_error when setup fails.
void prepare_context(const std::string& case_dir, const std::string& out_dir);

/// The case's extra build arguments with `{ctx}` replaced by `ctx`.
std::vector<std::string> case_args(const std::string& case_dir, const std::string& ctx);

}  // namespace kiln::conformance
