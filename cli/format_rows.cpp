// docker's formatter.Context for list output: templates per row, table headers.

#include "cli/format_rows.h"

#include <sstream>

#include "cli/store_open.h"
#include "support/error.h"
#include "support/go_template.h"

namespace kiln::cli {

bool is_template_format(llvm::StringRef format) {
  return !format.empty() && format != "table" && format != "json";
}

namespace {

std::vector<std::string> split(const std::string& text, char sep) {
  std::vector<std::string> parts;
  size_t start = 0;
  for (size_t at; (at = text.find(sep, start)) != std::string::npos; start = at + 1) {
    parts.push_back(text.substr(start, at - start));
  }
  parts.push_back(text.substr(start));
  return parts;
}

}  // namespace

llvm::Error print_rows(std::ostream& os, llvm::StringRef format,
                       const std::vector<nlohmann::ordered_json>& rows,
                       const nlohmann::ordered_json& header) {
  bool table = format.startswith("table");
  std::string text =
      support::expand_format_escapes(table ? format.drop_front(5).trim(' ') : format.trim(' '));
  auto tmpl = support::GoTemplate::parse(text);
  if (!tmpl) {
    return with_context(tmpl.takeError(), "template parsing error");
  }
  std::string out;
  if (table) {
    auto head = tmpl->execute(header, support::GoTemplate::Functions::header);
    if (!head) {
      return with_context(head.takeError(), "template parsing error");
    }
    out += *head + "\n";
  }
  for (const nlohmann::ordered_json& row : rows) {
    auto line = tmpl->execute(row);
    if (!line) {
      return with_context(line.takeError(), "template parsing error");
    }
    out += *line + "\n";
  }
  if (!table) {
    os << out;
    return llvm::Error::success();
  }
  // tabwriter: cells end at tabs; the text after a line's last tab is not padded.
  std::vector<std::vector<std::string>> cells;
  std::vector<std::string> lines = split(out, '\n');
  lines.pop_back();  // after the final newline
  for (const std::string& line : lines) {
    cells.push_back(split(line, '\t'));
  }
  print_table(os, cells);
  return llvm::Error::success();
}

}  // namespace kiln::cli
