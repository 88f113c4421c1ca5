#include "cache/gc_config.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <ctime>

#include <toml++/toml.h>

#include "support/error.h"
#include "support/fs.h"

namespace kiln::cache {
namespace {

constexpr int64_t kGiB = int64_t{1} << 30;

/// Time-based policies run at most this often (seconds).
constexpr int64_t kTimedInterval = 60;

struct Limits {
  int64_t reserved = 0, max_used = 0, min_free = 0;
};

std::vector<GcPolicy> default_policies(const Limits& limits) {
  std::vector<GcPolicy> out;
  GcPolicy mounts;
  mounts.filters.types = {"exec.cachemount"};
  mounts.keep_duration = 48 * 3600;
  mounts.max_used_space = 512 * (int64_t{1} << 20);
  out.push_back(mounts);
  GcPolicy old;
  old.all = true;
  old.keep_duration = 60 * 24 * 3600;
  out.push_back(old);
  GcPolicy records;
  records.reserved_space = limits.reserved;
  records.max_used_space = limits.max_used;
  records.min_free_space = limits.min_free;
  out.push_back(records);
  GcPolicy all = records;
  all.all = true;
  out.push_back(all);
  return out;
}

/// Reads a size key of `table` into `out` (left alone when absent).
llvm::Error space_key(const toml::table& table, const char* key, int64_t fs_size, int64_t& out) {
  const toml::node* node = table.get(key);
  if (!node) {
    return llvm::Error::success();
  }
  if (auto n = node->value<int64_t>()) {
    out = *n;
    return llvm::Error::success();
  }
  auto text = node->value<std::string>();
  if (!text) {
    return make_error(llvm::Twine("'") + key + "': expected a size (bytes, \"512MB\" or \"10%\")");
  }
  auto v = parse_space(*text, fs_size);
  if (!v) {
    return with_context(v.takeError(), llvm::Twine("'") + key + "'");
  }
  out = *v;
  return llvm::Error::success();
}

llvm::Expected<GcPolicy> parse_policy(const toml::table& t, const Limits& defaults,
                                      int64_t fs_size) {
  GcPolicy p;
  p.all = t["all"].value_or(false);
  if (const toml::array* filters = t["filters"].as_array()) {
    for (const toml::node& f : *filters) {
      auto text = f.value<std::string>();
      if (!text) {
        return make_error("'filters': expected strings");
      }
      if (auto err = add_gc_filter(*text, p.filters)) {
        return err;
      }
    }
  }
  if (const toml::node* keep = t.get("keepDuration")) {
    if (auto n = keep->value<int64_t>()) {
      p.keep_duration = *n;
    } else if (auto text = keep->value<std::string>()) {
      auto d = parse_duration(*text);
      if (!d) {
        return with_context(d.takeError(), "'keepDuration'");
      }
      p.keep_duration = *d;
    }
  }
  bool has_limit =
      t.contains("reservedSpace") || t.contains("maxUsedSpace") || t.contains("minFreeSpace");
  if (!has_limit && p.keep_duration == 0 && p.filters.types.empty() && p.filters.ids.empty() &&
      !p.filters.until) {
    p.reserved_space = defaults.reserved;
    p.max_used_space = defaults.max_used;
    p.min_free_space = defaults.min_free;
  }
  for (auto [key, field] :
       {std::pair{"reservedSpace", &p.reserved_space}, std::pair{"maxUsedSpace", &p.max_used_space},
        std::pair{"minFreeSpace", &p.min_free_space}}) {
    if (auto err = space_key(t, key, fs_size, *field)) {
      return err;
    }
  }
  return p;
}

/// Bytes in use on the file system of `path` (by anyone).
llvm::Expected<int64_t> fs_used_bytes(const std::string& path) {
  struct statvfs st {};
  if (::statvfs(path.c_str(), &st) != 0) {
    return make_io_error("statvfs", path, errno);
  }
  return static_cast<int64_t>(st.f_blocks - st.f_bfree) * static_cast<int64_t>(st.f_frsize);
}

int64_t mtime_of(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 ? st.st_mtim.tv_sec : 0;
}

}  // namespace

llvm::Expected<int64_t> parse_space(llvm::StringRef text, int64_t fs_size) {
  llvm::StringRef t = text.trim();
  auto bad = [&] {
    return make_error(
        "invalid size " + quote(text) +
        " (expected bytes, a size such as \"512MB\", or a percentage such as \"10%\")");
  };
  if (t.consume_back("%")) {
    double pct = 0;
    if (t.trim().getAsDouble(pct) || pct < 0 || pct > 100) {
      return bad();
    }
    return static_cast<int64_t>(std::floor(static_cast<double>(fs_size) * pct / 100.0));
  }
  size_t unit_at = t.find_first_not_of("0123456789.");
  llvm::StringRef number = t.substr(0, unit_at);
  std::string unit = t.substr(unit_at == llvm::StringRef::npos ? t.size() : unit_at).trim().lower();
  double value = 0;
  if (number.empty() || number.getAsDouble(value) || value < 0) {
    return bad();
  }
  static const std::pair<const char*, int> kUnits[] = {
      {"", 0},    {"b", 0}, {"k", 1},  {"kb", 1},  {"kib", 1}, {"m", 2},  {"mb", 2},
      {"mib", 2}, {"g", 3}, {"gb", 3}, {"gib", 3}, {"t", 4},   {"tb", 4}, {"tib", 4}};
  for (const auto& [name, power] : kUnits) {
    if (unit == name) {
      return static_cast<int64_t>(value * std::pow(1024.0, power));
    }
  }
  return bad();
}

llvm::Expected<int64_t> parse_duration(llvm::StringRef text) {
  llvm::StringRef t = text.trim();
  int64_t plain = 0;
  if (!t.getAsInteger(10, plain)) {
    return plain;
  }
  double total = 0;
  llvm::StringRef rest = t;
  if (rest.empty()) {
    return make_error("invalid duration " + quote(text));
  }
  while (!rest.empty()) {
    size_t unit_at = rest.find_first_not_of("0123456789.");
    if (unit_at == 0 || unit_at == llvm::StringRef::npos) {
      return make_error("invalid duration " + quote(text) + " (expected e.g. \"24h\", \"30m\")");
    }
    double value = 0;
    if (rest.substr(0, unit_at).getAsDouble(value)) {
      return make_error("invalid duration " + quote(text));
    }
    rest = rest.substr(unit_at);
    static const std::pair<const char*, double> kUnits[] = {
        {"ms", 0.001}, {"s", 1}, {"m", 60}, {"h", 3600}, {"d", 86400}};
    bool found = false;
    for (const auto& [name, scale] : kUnits) {
      if (rest.startswith(name)) {
        total += value * scale;
        rest = rest.drop_front(llvm::StringRef(name).size());
        found = true;
        break;
      }
    }
    if (!found) {
      return make_error("invalid duration " + quote(text) + " (units: s, m, h, d)");
    }
  }
  return static_cast<int64_t>(total);
}

llvm::Error add_gc_filter(llvm::StringRef text, GcFilters& filters) {
  auto [key, value] = text.split('=');
  value.consume_front("=");
  key = key.trim();
  if (value.empty() || key.empty()) {
    return make_error("invalid filter " + quote(text) + " (expected key=value)");
  }
  if (key == "type") {
    static const std::set<std::string> kTypes = {"regular", "exec.cachemount", "internal",
                                                 "source.local", "frontend"};
    if (kTypes.count(value.str()) == 0) {
      return make_error("invalid filter " + quote(text) +
                        " (types: regular, exec.cachemount, internal)");
    }
    filters.types.insert(value.str());
  } else if (key == "id") {
    filters.ids.push_back(value.str());
  } else if (key == "until" || key == "unused-for") {
    auto d = parse_duration(value);
    if (!d) {
      return with_context(d.takeError(), "filter " + quote(text));
    }
    filters.until = *d;
  } else {
    return make_error("invalid filter " + quote(key) + " (choose from type, id, until)");
  }
  return llvm::Error::success();
}

llvm::Expected<GcConfig> load_gc_config(llvm::StringRef root, int64_t fs_size) {
  GcConfig config;
  Limits limits;
  limits.reserved = std::min<int64_t>(fs_size / 10, 10 * kGiB);
  limits.max_used = std::min<int64_t>(fs_size * 6 / 10, 100 * kGiB);
  limits.min_free = fs_size / 5;
  std::string path = fs::join(root, "store.toml");
  std::vector<GcPolicy> policies;
  if (fs::exists(path)) {
    toml::table doc;
    try {
      doc = toml::parse_file(path);
    } catch (const toml::parse_error& e) {
      return make_error(quote(path) + ": line " + llvm::Twine(e.source().begin.line) + ": " +
                        std::string(e.description()));
    }
    if (const toml::table* gc = doc["gc"].as_table()) {
      config.enabled = (*gc)["enabled"].value_or(true);
      for (auto [key, field] : {std::pair{"reservedSpace", &limits.reserved},
                                std::pair{"maxUsedSpace", &limits.max_used},
                                std::pair{"minFreeSpace", &limits.min_free}}) {
        if (auto err = space_key(*gc, key, fs_size, *field)) {
          return with_context(std::move(err), quote(path) + ": [gc]");
        }
      }
      if (const toml::array* list = (*gc)["policy"].as_array()) {
        for (const toml::node& node : *list) {
          const toml::table* t = node.as_table();
          if (!t) {
            return make_error(quote(path) + ": [[gc.policy]]: expected a table");
          }
          auto p = parse_policy(*t, limits, fs_size);
          if (!p) {
            return with_context(
                p.takeError(), quote(path) + ": [[gc.policy]] " + llvm::Twine(policies.size() + 1));
          }
          policies.push_back(*p);
        }
      }
    }
  }
  config.policies = policies.empty() ? default_policies(limits) : policies;
  for (const GcPolicy& p : config.policies) {
    bool filtered = !p.filters.types.empty() || !p.filters.ids.empty() || p.filters.until;
    if (!filtered && p.max_used_space > 0 &&
        (config.hard_cap == 0 || p.max_used_space < config.hard_cap)) {
      config.hard_cap = p.max_used_space;
    }
  }
  return config;
}

llvm::Expected<bool> over_hard_cap(ImageStore& images) {
  const std::string& root = images.content().root();
  auto space = fs_space(root);
  if (!space) {
    return space.takeError();
  }
  auto config = load_gc_config(root, space->second);
  if (!config) {
    return config.takeError();
  }
  if (!config->enabled || config->hard_cap == 0) {
    return false;
  }
  auto fs_used = fs_used_bytes(root);
  if (!fs_used) {
    return fs_used.takeError();
  }
  if (*fs_used <= config->hard_cap) {
    return false;
  }
  auto usage = measure_store(images, StoreAccess::read_only);
  if (!usage) {
    return usage.takeError();
  }
  return usage->total > config->hard_cap;
}

llvm::Expected<AutoGcReport> run_auto_gc(ImageStore& images) {
  AutoGcReport out;
  const std::string& root = images.content().root();
  auto space = fs_space(root);
  if (!space) {
    return space.takeError();
  }
  auto config = load_gc_config(root, space->second);
  if (!config) {
    return config.takeError();
  }
  out.hard_cap = config->hard_cap;
  if (!config->enabled) {
    return out;
  }
  bool timed = false;
  int64_t tightest = 0;  // the smallest maxUsedSpace of the policies without type filters
  bool low_free = false;
  for (const GcPolicy& p : config->policies) {
    timed = timed || p.keep_duration > 0 || p.filters.until || !p.filters.types.empty();
    if (p.max_used_space > 0 && p.filters.types.empty() &&
        (tightest == 0 || p.max_used_space < tightest)) {
      tightest = p.max_used_space;
    }
    low_free = low_free || (p.min_free_space > 0 && space->first < p.min_free_space);
  }
  std::string stamp = fs::join(root, "gc.last");
  int64_t now = std::time(nullptr);
  bool timed_due = timed && now - mtime_of(stamp) >= kTimedInterval;
  // The store is part of its file system: when all that the file system holds
  // is within the limits, so is the store, and nothing needs measuring.
  auto fs_used = fs_used_bytes(root);
  if (!fs_used) {
    return fs_used.takeError();
  }
  if (!timed_due && !low_free && (tightest == 0 || *fs_used <= tightest)) {
    return out;
  }
  auto usage = measure_store(images);
  if (!usage) {
    return usage.takeError();
  }
  bool over = low_free || (tightest > 0 && usage->total > tightest);
  if (!over && !timed_due) {
    out.report.total_before = out.report.total_after = usage->total;
    return out;
  }
  out.ran = true;
  out.report.total_before = usage->total;
  for (const GcPolicy& p : config->policies) {
    auto r = collect_garbage(images, p);
    if (!r) {
      return r.takeError();
    }
    out.report.removed.insert(out.report.removed.end(), r->removed.begin(), r->removed.end());
    out.report.total_after = r->total_after;
  }
  if (config->hard_cap > 0 && out.report.total_after > config->hard_cap) {
    GcPolicy cap;
    cap.all = true;
    cap.max_used_space = config->hard_cap;
    cap.dangling_images = true;
    auto r = collect_garbage(images, cap);
    if (!r) {
      return r.takeError();
    }
    out.report.removed.insert(out.report.removed.end(), r->removed.begin(), r->removed.end());
    out.report.removed_images = r->removed_images;
    out.report.total_after = r->total_after;
  }
  out.over_cap = config->hard_cap > 0 && out.report.total_after > config->hard_cap;
  if (timed_due) {
    int fd = ::open(stamp.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
    if (fd >= 0) {
      ::futimens(fd, nullptr);
      ::close(fd);
    }
  }
  return out;
}

}  // namespace kiln::cache
