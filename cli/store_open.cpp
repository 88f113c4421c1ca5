#include "cli/store_open.h"

#include <algorithm>
#include <cstdio>
#include <ctime>

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
  auto ref = oci::parse_named(full_name);
  if (!ref) {
    llvm::consumeError(ref.takeError());
    return {full_name.str(), "<none>"};
  }
  return {ref->familiar_name(), ref->tag.empty() ? "<none>" : ref->tag};
}

std::string familiar_name(llvm::StringRef full_name) {
  auto ref = oci::parse_named(full_name);
  if (!ref) {
    llvm::consumeError(ref.takeError());
    return full_name.str();
  }
  return ref->familiar_str();
}

std::string human_size(int64_t bytes) {
  static const char* units[] = {"B", "kB", "MB", "GB", "TB", "PB", "EB", "ZB", "YB"};
  double size = static_cast<double>(bytes);
  int unit = 0;
  while (size >= 1000.0 && unit < 8) {
    size /= 1000.0;
    ++unit;
  }
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.3g%s", size, units[unit]);
  return buf;
}

std::string human_duration(int64_t seconds) {
  auto text = [](int64_t n, const char* unit) { return std::to_string(n) + " " + unit; };
  if (seconds < 1) {
    return "Less than a second";
  }
  if (seconds == 1) {
    return "1 second";
  }
  if (seconds < 60) {
    return text(seconds, "seconds");
  }
  int64_t minutes = seconds / 60;
  if (minutes == 1) {
    return "About a minute";
  }
  if (minutes < 60) {
    return text(minutes, "minutes");
  }
  int64_t hours = (seconds + 1800) / 3600;  // Go's d.Round(time.Hour)
  if (hours == 1) {
    return "About an hour";
  }
  if (hours < 48) {
    return text(hours, "hours");
  }
  if (hours < 24 * 7 * 2) {
    return text(hours / 24, "days");
  }
  if (hours < 24 * 30 * 2) {
    return text(hours / 24 / 7, "weeks");
  }
  if (hours < 24 * 365 * 2) {
    return text(hours / 24 / 30, "months");
  }
  return text(seconds / 3600 / 24 / 365, "years");
}

std::string since(int64_t then) {
  if (then == cache::kUnknownTime) {
    return "N/A";
  }
  return human_duration(static_cast<int64_t>(::time(nullptr)) - then) + " ago";
}

std::string go_time_string(int64_t unix_seconds) {
  if (unix_seconds == cache::kUnknownTime) {
    return "0001-01-01 00:00:00 +0000 UTC";
  }
  time_t t = static_cast<time_t>(unix_seconds);
  struct tm tm {};
  ::gmtime_r(&t, &tm);
  char buf[64];
  std::strftime(buf, sizeof(buf), "%Y-%m-%d %H:%M:%S +0000 UTC", &tm);
  return buf;
}

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
