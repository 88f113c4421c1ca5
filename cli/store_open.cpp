#include "cli/store_open.h"

#include <algorithm>

#include "containers/container_store.h"
#include "oci/reference.h"

namespace kiln::cli {

namespace {

// Opened (under the store lock, use_store()), the store is rid of the containers
// a kill -9 left behind: mounted, or --rm ones not removed.
llvm::Expected<std::unique_ptr<cache::ImageStore>> reclaimed(
    llvm::Expected<std::unique_ptr<cache::ImageStore>> store, llvm::StringRef root) {
  if (store) {
    containers::reclaim_lost_containers(root);
  }
  return store;
}

}  // namespace

llvm::Expected<std::unique_ptr<cache::ImageStore>> open_store(const GlobalOptions& globals) {
  return reclaimed(cache::ImageStore::open(globals.root), globals.root);
}

llvm::Expected<std::unique_ptr<cache::ImageStore>> open_store_read_only(
    const GlobalOptions& globals) {
  return reclaimed(cache::ImageStore::open(globals.root, cache::StoreAccess::read_only),
                   globals.root);
}

std::pair<std::string, std::string> familiar_repo_tag(llvm::StringRef full_name) {
  return oci::familiar_repo_tag(full_name);
}

std::string familiar_name(llvm::StringRef full_name) { return oci::familiar_name(full_name); }

std::string since(int64_t then) { return human_since(then); }

namespace {
// Display width as Go's tabwriter counts it: one per UTF-8 code point.
size_t display_width(const std::string& text) {
  return static_cast<size_t>(
      std::count_if(text.begin(), text.end(), [](char c) { return (c & 0xC0) != 0x80; }));
}
}  // namespace

void print_table(std::ostream& os, const std::vector<std::vector<std::string>>& rows) {
  std::vector<size_t> widths;
  for (const auto& row : rows) {
    for (size_t i = 0; i + 1 < row.size(); ++i) {
      widths.resize(std::max(widths.size(), i + 1), 0);
      widths[i] = std::max(widths[i], display_width(row[i]));
    }
  }
  for (const auto& row : rows) {
    std::string line;
    for (size_t i = 0; i < row.size(); ++i) {
      line += row[i];
      if (i + 1 < row.size()) {
        size_t width = std::max<size_t>(widths[i] + 3, 10);
        line.append(width - display_width(row[i]), ' ');
      }
    }
    os << line << "\n";
  }
}

}  // namespace kiln::cli
