#include "support/units.h"

#include <climits>
#include <cstdio>
#include <ctime>

namespace kiln {
namespace {

// `unix_seconds` formatted by strftime's `format` in UTC.
std::string utc(int64_t unix_seconds, const char* format) {
  std::time_t t = static_cast<std::time_t>(unix_seconds);
  std::tm tm{};
  ::gmtime_r(&t, &tm);
  char buf[64];
  std::strftime(buf, sizeof(buf), format, &tm);
  return buf;
}

// go-units CustomSize: `bytes` in units of `base`, `precision` significant digits.
std::string custom_size(int64_t bytes, int precision, double base, const char* const units[9]) {
  double size = static_cast<double>(bytes);
  int unit = 0;
  while (size >= base && unit < 8) {
    size /= base;
    ++unit;
  }
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.*g%s", precision, size, units[unit]);
  return buf;
}

}  // namespace

std::string human_size(int64_t bytes, int precision) {
  static const char* const units[] = {"B", "kB", "MB", "GB", "TB", "PB", "EB", "ZB", "YB"};
  return custom_size(bytes, precision, 1000.0, units);
}

std::string bytes_size(int64_t bytes) {
  static const char* const units[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB", "ZiB", "YiB"};
  return custom_size(bytes, 4, 1024.0, units);
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

std::string human_since(int64_t then) {
  if (then == INT64_MIN) {
    return "N/A";
  }
  return human_duration(static_cast<int64_t>(::time(nullptr)) - then) + " ago";
}

std::string go_time_string(int64_t unix_seconds) {
  if (unix_seconds == INT64_MIN) {
    return "0001-01-01 00:00:00 +0000 UTC";
  }
  return utc(unix_seconds, "%Y-%m-%d %H:%M:%S +0000 UTC");
}

std::string rfc3339_utc(int64_t unix_ns, int digits) {
  int64_t seconds = unix_ns / 1000000000;
  int64_t nanos = unix_ns % 1000000000;
  if (nanos < 0) {
    nanos += 1000000000;
    --seconds;
  }
  std::string out = utc(seconds, "%Y-%m-%dT%H:%M:%S");
  if (digits > 0) {
    char frac[16];
    std::snprintf(frac, sizeof(frac), ".%09lld", static_cast<long long>(nanos));
    out.append(frac, static_cast<size_t>(1 + (digits > 9 ? 9 : digits)));
  }
  return out + "Z";
}

}  // namespace kiln
