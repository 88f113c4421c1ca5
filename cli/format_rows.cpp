// docker's formatter.Context for list output (support/docker_format.h), printed.

#include "cli/format_rows.h"

#include "support/docker_format.h"

namespace kiln::cli {

bool is_template_format(llvm::StringRef format) {
  return !format.empty() && format != "table" && format != "json";
}

std::string list_format(llvm::StringRef format, llvm::StringRef table, bool quiet) {
  if (quiet) {
    return "{{.ID}}";
  }
  if (format == "json") {
    return "{{json .}}";
  }
  return is_template_format(format) ? format.str() : table.str();
}

llvm::Error print_rows(std::ostream& os, llvm::StringRef format,
                       const std::vector<nlohmann::ordered_json>& rows,
                       const nlohmann::ordered_json& header) {
  auto text = support::format_rows(format, rows, header);
  if (!text) {
    return text.takeError();
  }
  os << *text;
  return llvm::Error::success();
}

}  // namespace kiln::cli
