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

/// The format a listing prints with: "{{.ID}}" when `quiet`, "{{json .}}" for
/// "json", a template as given, else `table` (the command's default table).
std::string list_format(llvm::StringRef format, llvm::StringRef table, bool quiet = false);

/// Prints support::format_rows() of `rows` (docker's formatter: one line per
/// row, with "table " a header and tabwriter alignment). Fails with "template
/// parsing error: ..." without printing anything.
llvm::Error print_rows(std::ostream& os, llvm::StringRef format,
                       const std::vector<nlohmann::ordered_json>& rows,
                       const nlohmann::ordered_json& header);

}  // namespace kiln::cli
