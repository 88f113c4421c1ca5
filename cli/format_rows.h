// docker's `--format` for listing commands: `table`, `json`, `table TEMPLATE` or a
// Go TEMPLATE run once per row (support/go_template.h).
#pragma once

#include <ostream>
#include <string>
#include <vector>

#include <llvm/ADT/StringRef.h>
#include <llvm/Support/Error.h>
#include <nlohmann/json.hpp>

namespace kiln::cli {

/// True when `format` is a Go template rather than "", "table" or "json".
bool is_template_format(llvm::StringRef format);

/// Prints `rows` through the template `format` like docker's formatter: `\t` and
/// `\n` escapes expanded, one output line per row; with a "table " prefix a header
/// row (the template run over `header`, which maps each field to docker's column
/// name) and tabwriter alignment. Fails with "template parsing error: ..." without
/// printing anything when the template does not parse or run.
llvm::Error print_rows(std::ostream& os, llvm::StringRef format,
                       const std::vector<nlohmann::ordered_json>& rows,
                       const nlohmann::ordered_json& header);

}  // namespace kiln::cli
