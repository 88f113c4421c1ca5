// docker's list output: tables aligned as Go's text/tabwriter aligns them (as
// docker's formatter sets it up), and `--format` templates run once per row.
#pragma once

#include <string>
#include <vector>

#include <llvm/ADT/StringRef.h>
#include <llvm/Support/Error.h>
#include <nlohmann/json.hpp>

namespace kiln::support {

/// `rows` as docker's tabwriter writes them (min width 10, padding 3): every cell
/// but a row's last is padded to its column's widest cell plus 3, at least 10,
/// widths counted in UTF-8 code points; one line per row, each ending in "\n".
std::string tabwrite(const std::vector<std::vector<std::string>>& rows);

/// `rows` through the template `format` like docker's formatter.Context: `\t` and
/// `\n` escapes expanded, one output line per row; with a "table " prefix a header
/// row (the template run over `header`, which maps each field to docker's column
/// name) and tabwrite() alignment of the tab-separated cells. Fails with "template
/// parsing error: ..." when the template does not parse or run.
llvm::Expected<std::string> format_rows(llvm::StringRef format,
                                        const std::vector<nlohmann::ordered_json>& rows,
                                        const nlohmann::ordered_json& header);

}  // namespace kiln::support
