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

#include "cache/context_hash_walk.h"
#include "cache/context_path.h"
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

/// The context path `rel` with its symlinks resolved inside `root` (the last
/// one too with `follow`), if it exists and neither it nor what it resolves to
/// is filtered out; `st` gets its lstat.
std::optional<std::string> present(const std::string& root, const PathFilter& filter,
                                   llvm::StringRef rel, FollowLast follow, struct stat& st) {
  auto phys = resolve_context_path(root, rel, follow);
  if (!phys) {
    llvm::consumeError(phys.takeError());
    return std::nullopt;
  }
  std::string abs = phys->empty() ? root : fs::join(root, *phys);
  if (::lstat(abs.c_str(), &st) != 0 || excluded(filter, rel, S_ISDIR(st.st_mode)) ||
      (*phys != rel && excluded(filter, *phys, S_ISDIR(st.st_mode)))) {
    return std::nullopt;
  }
  return *phys;
}

}  // namespace

std::string clean_context_path(llvm::StringRef path) {
  // One leading slash only: LLVM takes "//name" for a network root name, after
  // which ".." would not remove "name" ("/a/../b" would clean to "a/b").
  llvm::SmallString<256> p("/");
  p += path.ltrim('/');
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
  struct stat st {};
  auto phys = present(root_, options_.filter, rel, FollowLast::no, st);
  if (!phys) {
    return not_found(rel);
  }
  detail::Walk walk(root_, options_, stats_);
  auto index = walk.add_top(*phys);
  if (!index) {
    return index.takeError();
  }
  if (llvm::Error err = walk.finish()) {
    return err;
  }
  return walk.checksum(*index);
}

llvm::Expected<std::vector<std::string>> ContextHasher::matches(
    llvm::ArrayRef<std::string> sources) {
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
    for (const std::string& rel : *found) {
      // As BuildKit's checksum, which follows a source that is a link: a link
      // to a path missing from the context is a source that is not found.
      struct stat st {};
      auto phys = present(root_, options_.filter, rel, FollowLast::no, st);
      if (phys && S_ISLNK(st.st_mode) &&
          !present(root_, options_.filter, rel, FollowLast::yes, st)) {
        return not_found(rel);
      }
    }
    matches.insert(matches.end(), found->begin(), found->end());
  }
  std::sort(matches.begin(), matches.end());
  matches.erase(std::unique(matches.begin(), matches.end()), matches.end());
  return matches;
}

llvm::Expected<Digest> ContextHasher::checksum(llvm::ArrayRef<std::string> sources) {
  auto found = this->matches(sources);
  if (!found) {
    return found.takeError();
  }
  const std::vector<std::string>& matches = *found;
  detail::Walk walk(root_, options_, stats_);
  auto walked = walk.walk_all(matches);
  if (!walked) {
    return walked.takeError();
  }
  const std::vector<size_t>& tops = *walked;
  Sha256 h;
  h.field("kiln.context-checksum", kContextChecksumVersion);
  for (size_t i = 0; i < matches.size(); ++i) {
    h.field("path", matches[i]);
    h.field("entry", walk.checksum(tops[i]).str());
  }
  return h.finish();
}

namespace {

void list_entries(const detail::WalkItem& item, const std::string& rel,
                  std::vector<ContextEntry>& out) {
  bool is_dir = S_ISDIR(item.st.st_mode);
  out.push_back({rel, item.checksum, is_dir});
  for (const auto& c : item.children) {
    list_entries(*c, join_rel(rel, c->name), out);
  }
}

}  // namespace

llvm::Expected<std::vector<ContextEntry>> ContextHasher::entries(
    llvm::ArrayRef<std::string> sources) {
  auto found = matches(sources);
  if (!found) {
    return found.takeError();
  }
  detail::Walk walk(root_, options_, stats_);
  auto walked = walk.walk_all(*found);
  if (!walked) {
    return walked.takeError();
  }
  const std::vector<size_t>& tops = *walked;
  std::vector<ContextEntry> out;
  for (size_t i = 0; i < tops.size(); ++i) {
    list_entries(walk.top(tops[i]), (*found)[i], out);
  }
  std::sort(out.begin(), out.end(),
            [](const ContextEntry& a, const ContextEntry& b) { return a.path < b.path; });
  out.erase(
      std::unique(out.begin(), out.end(),
                  [](const ContextEntry& a, const ContextEntry& b) { return a.path == b.path; }),
      out.end());
  return out;
}

llvm::Expected<std::vector<std::string>> ContextHasher::resolve(llvm::StringRef pattern) {
  std::string clean = clean_context_path(pattern);
  std::vector<std::string> current{""};
  llvm::SmallVector<llvm::StringRef, 8> parts;
  llvm::StringRef(clean).split(parts, '/', -1, false);
  for (llvm::StringRef part : parts) {
    std::vector<std::string> next;
    for (const std::string& dir : current) {
      struct stat st {};
      if (!has_wildcard(part)) {
        std::string rel = join_rel(dir, part);
        if (present(root_, options_.filter, rel, FollowLast::no, st)) {
          next.push_back(rel);
        }
        continue;
      }
      auto abs = context_host_path(root_, dir, FollowLast::yes);
      if (!abs) {
        llvm::consumeError(abs.takeError());
        continue;
      }
      int fd = ::open(abs->c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      DIR* d = fd < 0 ? nullptr : ::fdopendir(fd);
      if (!d) {
        if (fd >= 0) {
          ::close(fd);
        }
        continue;  // not a directory: nothing below it matches
      }
      std::string pat = part.str();
      while (struct dirent* e = ::readdir(d)) {
        llvm::StringRef name(e->d_name);
        if (name == "." || name == ".." || ::fnmatch(pat.c_str(), e->d_name, 0) != 0) {
          continue;
        }
        std::string rel = join_rel(dir, name);
        if (present(root_, options_.filter, rel, FollowLast::no, st)) {
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
