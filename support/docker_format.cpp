#include "support/docker_format.h"

#include <algorithm>

#include "support/error.h"
#include "support/go_template.h"

namespace kiln::support {
namespace {

// Display width as Go's tabwriter counts it: one per UTF-8 code point.
size_t display_width(const std::string& text) {
  return static_cast<size_t>(
      std::count_if(text.begin(), text.end(), [](char c) { return (c & 0xC0) != 0x80; }));
}

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

std::string tabwrite(const std::vector<std::vector<std::string>>& rows) {
  std::vector<size_t> widths;
  for (const auto& row : rows) {
    for (size_t i = 0; i + 1 < row.size(); ++i) {
      widths.resize(std::max(widths.size(), i + 1), 0);
      widths[i] = std::max(widths[i], display_width(row[i]));
    }
  }
  std::string out;
  for (const auto& row : rows) {
    for (size_t i = 0; i < row.size(); ++i) {
      out += row[i];
      if (i + 1 < row.size()) {
        size_t width = std::max<size_t>(widths[i] + 3, 10);
        out.append(width - display_width(row[i]), ' ');
      }
    }
    out += "\n";
  }
  return out;
}

llvm::Expected<std::string> format_rows(llvm::StringRef format,
                                        const std::vector<nlohmann::ordered_json>& rows,
                                        const nlohmann::ordered_json& header) {
  bool table = format.startswith("table");
  std::string text =
      expand_format_escapes(table ? format.drop_front(5).trim(' ') : format.trim(' '));
  auto tmpl = GoTemplate::parse(text);
  if (!tmpl) {
    return with_context(tmpl.takeError(), "template parsing error");
  }
  std::string out;
  if (table) {
    auto head = tmpl->execute(header, GoTemplate::Functions::header);
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
    return out;
  }
  // Cells end at tabs; the text after a line's last tab is not padded.
  std::vector<std::vector<std::string>> cells;
  std::vector<std::string> lines = split(out, '\n');
  lines.pop_back();  // after the final newline
  for (const std::string& line : lines) {
    cells.push_back(split(line, '\t'));
  }
  return tabwrite(cells);
}

}  // namespace kiln::support
