#include "cache/context_hash.h"

#include <dirent.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <optional>

#include <llvm/ADT/SmallString.h>
#include <llvm/Support/Path.h>
#include <oneapi/tbb/parallel_for.h>

#include "support/error.h"
#include "support/fs.h"

namespace kiln::cache {

namespace {

bool has_wildcard(llvm::StringRef s) { return s.find_first_of("*?[") != llvm::StringRef::npos; }

llvm::Error not_found(llvm::StringRef rel) {
  return make_error("failed to compute cache key: " + quote(rel.empty() ? "." : rel) +
                    " not found");
}

std::string join_rel(llvm::StringRef rel, llvm::StringRef name) {
  return rel.empty() ? name.str() : (rel + "/" + name).str();
}

llvm::StringRef type_name(mode_t mode) {
  switch (mode & S_IFMT) {
    case S_IFREG:
      return "file";
    case S_IFDIR:
      return "dir";
    case S_IFLNK:
      return "symlink";
    case S_IFCHR:
      return "char";
    case S_IFBLK:
      return "block";
    case S_IFIFO:
      return "fifo";
    default:
      return "socket";
  }
}

FileIdentity identity(const struct stat& st) {
  return {static_cast<uint64_t>(st.st_dev),
          static_cast<uint64_t>(st.st_ino),
          static_cast<uint64_t>(st.st_size),
          static_cast<int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec,
          static_cast<int64_t>(st.st_ctim.tv_sec) * 1'000'000'000 + st.st_ctim.tv_nsec,
          static_cast<uint32_t>(st.st_mode)};
}

// One walked entry. Children come after their parent in Walk::items.
struct Item {
  std::string abs;
  std::string name;
  struct stat st {};
  std::string link;
  std::vector<size_t> children;  // sorted by name
  bool need_read = false;
  Digest content;
  Digest checksum;
};

// Walks selected paths, hashes the contents it must read in parallel, then
// computes checksums bottom-up.
class Walk {
 public:
  Walk(const std::string& root, const ContextHashOptions& options, ContextHashStats& stats)
      : root_(root), options_(options), stats_(stats) {}

  llvm::Expected<size_t> add_top(const std::string& rel);
  llvm::Error finish();
  const Digest& checksum(size_t index) const { return items_[index].checksum; }

 private:
  // Adds the entry at `abs`; `st` is its lstat when the caller has it.
  llvm::Expected<size_t> add(std::string abs, const std::string& rel, std::string name,
                             const struct stat* st = nullptr);
  llvm::Error add_children(size_t index, const std::string& rel);
  void compute_checksum(Item& item);

  const std::string& root_;
  const ContextHashOptions& options_;
  ContextHashStats& stats_;
  int64_t started_ns_ = realtime_ns();
  std::vector<Item> items_;
};

llvm::Expected<size_t> Walk::add_top(const std::string& rel) {
  return add(rel.empty() ? root_ : fs::join(root_, rel), rel, llvm::sys::path::filename(rel).str());
}

llvm::Expected<size_t> Walk::add(std::string abs, const std::string& rel, std::string name,
                                 const struct stat* st) {
  Item item;
  if (st) {
    item.st = *st;
  } else if (::lstat(abs.c_str(), &item.st) != 0) {
    return make_io_error("lstat", abs, errno);
  }
  ++stats_.entries;
  item.abs = std::move(abs);
  item.name = std::move(name);
  if (S_ISLNK(item.st.st_mode)) {
    std::string buf(static_cast<size_t>(item.st.st_size) + 1, '\0');
    ssize_t n = ::readlink(item.abs.c_str(), buf.data(), buf.size());
    if (n < 0) {
      return make_io_error("readlink", item.abs, errno);
    }
    buf.resize(static_cast<size_t>(n));
    item.link = std::move(buf);
  } else if (S_ISREG(item.st.st_mode)) {
    std::optional<Digest> known;
    if (options_.stat_cache) {
      known = options_.stat_cache->lookup(item.abs, identity(item.st));
    }
    if (known) {
      item.content = *known;
      ++stats_.files_cached;
    } else {
      item.need_read = true;
    }
  }
  size_t index = items_.size();
  bool is_dir = S_ISDIR(item.st.st_mode);
  items_.push_back(std::move(item));
  if (is_dir) {
    if (llvm::Error err = add_children(index, rel)) {
      return err;
    }
  }
  return index;
}

llvm::Error Walk::add_children(size_t index, const std::string& rel) {
  std::string abs = items_[index].abs;
  int fd = ::open(abs.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  DIR* dir = fd < 0 ? nullptr : ::fdopendir(fd);
  if (!dir) {
    int e = errno;
    if (fd >= 0) {
      ::close(fd);
    }
    return make_io_error("open directory", abs, e);
  }
  // Stat relative to the open directory: no path walk per entry.
  std::vector<std::pair<std::string, struct stat>> children;
  llvm::Error err = llvm::Error::success();
  while (struct dirent* e = ::readdir(dir)) {
    llvm::StringRef name(e->d_name);
    if (name == "." || name == "..") {
      continue;
    }
    struct stat st {};
    if (::fstatat(fd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
      err = make_io_error("lstat", fs::join(abs, name), errno);
      break;
    }
    children.emplace_back(name.str(), st);
  }
  ::closedir(dir);
  if (err) {
    return err;
  }
  std::sort(children.begin(), children.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  for (auto& [name, st] : children) {
    std::string child_rel = join_rel(rel, name);
    if (options_.filter && !options_.filter(child_rel, S_ISDIR(st.st_mode))) {
      continue;
    }
    auto child = add(fs::join(abs, name), child_rel, name, &st);
    if (!child) {
      return child.takeError();
    }
    items_[index].children.push_back(*child);
  }
  return llvm::Error::success();
}

llvm::Error Walk::finish() {
  std::vector<size_t> to_read;
  for (size_t i = 0; i < items_.size(); ++i) {
    if (items_[i].need_read) {
      to_read.push_back(i);
    }
  }
  std::vector<std::optional<llvm::Expected<Digest>>> read(to_read.size());
  const ContentDigester& digester = options_.digester;
  tbb::parallel_for(size_t{0}, to_read.size(), [&](size_t k) {
    const std::string& abs = items_[to_read[k]].abs;
    read[k].emplace(digester ? digester(abs) : digest_file(abs));
  });
  llvm::Error first = llvm::Error::success();
  for (size_t k = 0; k < to_read.size(); ++k) {
    Item& item = items_[to_read[k]];
    llvm::Expected<Digest>& d = *read[k];
    if (!d) {
      first = llvm::joinErrors(std::move(first), d.takeError());
      continue;
    }
    item.content = *d;
    ++stats_.files_read;
    stats_.bytes_read += static_cast<uint64_t>(item.st.st_size);
    if (options_.stat_cache) {
      options_.stat_cache->record(item.abs, identity(item.st), *d, started_ns_);
    }
  }
  if (first) {
    return first;
  }
  for (size_t i = items_.size(); i-- > 0;) {
    compute_checksum(items_[i]);
  }
  return llvm::Error::success();
}

void Walk::compute_checksum(Item& item) {
  Sha256 h;
  h.field("type", type_name(item.st.st_mode));
  h.field("mode", static_cast<uint64_t>(item.st.st_mode & 07777));
  h.field("uid", static_cast<uint64_t>(item.st.st_uid));
  h.field("gid", static_cast<uint64_t>(item.st.st_gid));
  switch (item.st.st_mode & S_IFMT) {
    case S_IFLNK:
      h.field("link", item.link);
      break;
    case S_IFREG:
      h.field("contents", item.content.str());
      break;
    case S_IFCHR:
    case S_IFBLK:
      h.field("rdev", static_cast<uint64_t>(item.st.st_rdev));
      break;
    case S_IFDIR:
      for (size_t c : item.children) {
        h.field("name", items_[c].name);
        h.field("entry", items_[c].checksum.str());
      }
      break;
    default:
      break;
  }
  item.checksum = h.finish();
}

// True when `rel` or one of its parent directories is filtered out.
bool excluded(const PathFilter& filter, llvm::StringRef rel, bool is_dir) {
  if (!filter || rel.empty()) {
    return false;
  }
  for (size_t slash = rel.find('/'); slash != llvm::StringRef::npos;
       slash = rel.find('/', slash + 1)) {
    if (!filter(rel.take_front(slash), true)) {
      return true;
    }
  }
  return !filter(rel, is_dir);
}

}  // namespace

std::string clean_context_path(llvm::StringRef path) {
  llvm::SmallString<256> p("/");
  p += path;
  llvm::sys::path::remove_dots(p, /*remove_dot_dot=*/true, llvm::sys::path::Style::posix);
  llvm::StringRef out = p.str();
  out = out.ltrim('/');
  out.consume_back("/");
  return out.str();
}

PathFilter exclude_patterns(std::vector<std::string> patterns) {
  if (patterns.empty()) {
    return {};
  }
  return [patterns = std::move(patterns)](llvm::StringRef path, bool) {
    std::string p = path.str();
    for (const std::string& pattern : patterns) {
      if (::fnmatch(pattern.c_str(), p.c_str(), FNM_PATHNAME) == 0) {
        return false;
      }
    }
    return true;
  };
}

ContextHasher::ContextHasher(std::string root, ContextHashOptions options)
    : root_(std::move(root)), options_(std::move(options)) {}

llvm::Expected<Digest> ContextHasher::checksum_path(llvm::StringRef path) {
  std::string rel = clean_context_path(path);
  std::string abs = rel.empty() ? root_ : fs::join(root_, rel);
  struct stat st {};
  if (::lstat(abs.c_str(), &st) != 0 || excluded(options_.filter, rel, S_ISDIR(st.st_mode))) {
    return not_found(rel);
  }
  Walk walk(root_, options_, stats_);
  auto index = walk.add_top(rel);
  if (!index) {
    return index.takeError();
  }
  if (llvm::Error err = walk.finish()) {
    return err;
  }
  return walk.checksum(*index);
}

llvm::Expected<Digest> ContextHasher::checksum(llvm::ArrayRef<std::string> sources) {
  std::vector<std::string> matches;
  for (const std::string& source : sources) {
    auto found = resolve(source);
    if (!found) {
      return found.takeError();
    }
    if (found->empty()) {
      if (has_wildcard(source)) {
        return make_error("failed to compute cache key: no files match " + quote(source));
      }
      return not_found(clean_context_path(source));
    }
    matches.insert(matches.end(), found->begin(), found->end());
  }
  std::sort(matches.begin(), matches.end());
  matches.erase(std::unique(matches.begin(), matches.end()), matches.end());
  Walk walk(root_, options_, stats_);
  std::vector<size_t> tops;
  for (const std::string& rel : matches) {
    auto index = walk.add_top(rel);
    if (!index) {
      return index.takeError();
    }
    tops.push_back(*index);
  }
  if (llvm::Error err = walk.finish()) {
    return err;
  }
  Sha256 h;
  h.field("kiln.context-checksum", kContextChecksumVersion);
  for (size_t i = 0; i < matches.size(); ++i) {
    h.field("path", matches[i]);
    h.field("entry", walk.checksum(tops[i]).str());
  }
  return h.finish();
}

llvm::Expected<std::vector<std::string>> ContextHasher::resolve(llvm::StringRef pattern) {
  std::string clean = clean_context_path(pattern);
  std::vector<std::string> current{""};
  llvm::SmallVector<llvm::StringRef, 8> parts;
  llvm::StringRef(clean).split(parts, '/', -1, false);
  for (llvm::StringRef part : parts) {
    std::vector<std::string> next;
    for (const std::string& dir : current) {
      std::string abs = dir.empty() ? root_ : fs::join(root_, dir);
      if (!has_wildcard(part)) {
        std::string rel = join_rel(dir, part);
        struct stat st {};
        if (::lstat(fs::join(root_, rel).c_str(), &st) == 0 &&
            !excluded(options_.filter, rel, S_ISDIR(st.st_mode))) {
          next.push_back(rel);
        }
        continue;
      }
      DIR* d = ::opendir(abs.c_str());
      if (!d) {
        continue;  // not a directory: nothing below it matches
      }
      std::string pat = part.str();
      while (struct dirent* e = ::readdir(d)) {
        llvm::StringRef name(e->d_name);
        if (name == "." || name == ".." || ::fnmatch(pat.c_str(), e->d_name, 0) != 0) {
          continue;
        }
        std::string rel = join_rel(dir, name);
        struct stat st {};
        if (::lstat(fs::join(root_, rel).c_str(), &st) == 0 &&
            !excluded(options_.filter, rel, S_ISDIR(st.st_mode))) {
          next.push_back(rel);
        }
      }
      ::closedir(d);
    }
    current = std::move(next);
  }
  if (parts.empty()) {
    return std::vector<std::string>{""};
  }
  std::sort(current.begin(), current.end());
  return current;
}

}  // namespace kiln::cache
