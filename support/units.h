// docker's ways of writing sizes, durations and times for people (go-units and
// Go's time formats), so that kiln's tables read like docker's.
#pragma once

#include <cstdint>
#include <string>

namespace kiln {

/// go-units HumanSizeWithPrecision(bytes, precision), decimal units: with 3
/// (docker images) "0B", "512B", "4.26MB", "1.1GB"; with 4 (system df, "Total
/// reclaimed space") "16.43MB".
std::string human_size(int64_t bytes, int precision = 3);

/// go-units BytesSize: binary units, 4 significant digits ("1.5MiB", "7.773GiB"),
/// as docker's stats writes memory.
std::string bytes_size(int64_t bytes);

/// go-units HumanDuration of `seconds`: "Less than a second", "5 minutes",
/// "About an hour", "3 days", "2 weeks", "4 months", "2 years".
std::string human_duration(int64_t seconds);

/// docker's "CreatedSince": human_duration() from unix time `then` to now plus
/// " ago"; "N/A" for INT64_MIN (a time not known).
std::string human_since(int64_t then);

/// Go's time.Time String() in UTC: "2024-01-02 03:04:05 +0000 UTC"; INT64_MIN
/// (a time not known) is Go's zero time.
std::string go_time_string(int64_t unix_seconds);

/// RFC 3339 in UTC with `digits` (0 to 9) fractional digits of `unix_ns`:
/// "2024-01-02T03:04:05Z", "2024-01-02T03:04:05.123456789Z".
std::string rfc3339_utc(int64_t unix_ns, int digits);

}  // namespace kiln
