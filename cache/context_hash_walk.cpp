#include "cache/context_hash_walk.h"

#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <optional>

#include <llvm/Support/Path.h>
#include <oneapi/tbb/parallel_for.h>

#include "cache/context_path.h"
#include "support/error.h"
#include "support/fs.h"

namespace kiln::cache::detail {

namespace {

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

// Tagged fields encoded as Sha256::field() feeds them: u64 tag length, tag,
// u64 value length, value (host byte order, as there).
struct TaggedBytes {
  std::string bytes;
  void field(llvm::StringRef tag, llvm::StringRef value) {
    uint64_t n = tag.size();
    bytes.append(reinterpret_cast<const char*>(&n), sizeof(n));
    bytes.append(tag.data(), tag.size());
    n = value.size();
    bytes.append(reinterpret_cast<const char*>(&n), sizeof(n));
    bytes.append(value.data(), value.size());
  }
  void field(llvm::StringRef tag, uint64_t value) {
    field(tag, llvm::StringRef(reinterpret_cast<const char*>(&value), sizeof(value)));
  }
};

// Keeps the first error of parallel work.
class FirstError {
 public:
  void set(llvm::Error err) {
    std::lock_guard lock(mu_);
    if (!first_) {
      first_ = share(std::move(err));
    } else {
      llvm::consumeError(std::move(err));
    }
  }
  llvm::Error take() {
    if (!first_) {
      return llvm::Error::success();
    }
    return llvm::Error(std::move(first_));
  }

 private:
  static std::unique_ptr<llvm::ErrorInfoBase> share(llvm::Error err) {
    std::unique_ptr<llvm::ErrorInfoBase> out;
    llvm::handleAllErrors(std::move(err), [&](std::unique_ptr<llvm::ErrorInfoBase> e) {
      if (!out) {
        out = std::move(e);
      }
    });
    return out;
  }
  std::mutex mu_;
  std::unique_ptr<llvm::ErrorInfoBase> first_;
};

}  // namespace

Walk::Walk(const std::string& root, const ContextHashOptions& options, ContextHashStats& stats)
    : root_(root), options_(options), stats_(stats), started_ns_(realtime_ns()) {}

bool Walk::keep(const std::string& rel, bool is_dir) {
  if (!options_.filter) {
    return true;
  }
  return options_.filter(rel, is_dir);  // thread-safe by contract
}

llvm::Expected<size_t> Walk::add_top(const std::string& rel) {
  auto item = std::make_unique<WalkItem>();
  item->abs = rel.empty() ? root_ : fs::join(root_, rel);
  item->name = llvm::sys::path::filename(rel).str();
  if (::lstat(item->abs.c_str(), &item->st) != 0) {
    return make_io_error("lstat", item->abs, errno);
  }
  if (llvm::Error err = fill(*item, rel)) {
    return err;
  }
  tops_.push_back(std::move(item));
  return tops_.size() - 1;
}

llvm::Error Walk::fill(WalkItem& item, const std::string& rel) {
  ++entries_;
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
      known = options_.stat_cache->lookup(item.abs, file_identity(item.st));
    }
    if (known) {
      item.content = *known;
      ++cached_;
    } else {
      item.need_read = true;
    }
  } else if (S_ISDIR(item.st.st_mode)) {
    return fill_children(item, rel);
  }
  return llvm::Error::success();
}

llvm::Error Walk::fill_children(WalkItem& dir, const std::string& rel) {
  int fd = ::open(dir.abs.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  DIR* d = fd < 0 ? nullptr : ::fdopendir(fd);
  if (!d) {
    int e = errno;
    if (fd >= 0) {
      ::close(fd);
    }
    return make_io_error("open directory", dir.abs, e);
  }
  // Stat relative to the open directory: no path walk per entry.
  llvm::Error err = llvm::Error::success();
  while (struct dirent* e = ::readdir(d)) {
    llvm::StringRef name(e->d_name);
    if (name == "." || name == "..") {
      continue;
    }
    auto child = std::make_unique<WalkItem>();
    if (::fstatat(fd, e->d_name, &child->st, AT_SYMLINK_NOFOLLOW) != 0) {
      err = make_io_error("lstat", fs::join(dir.abs, name), errno);
      break;
    }
    child->name = name.str();
    dir.children.push_back(std::move(child));
  }
  ::closedir(d);
  if (err) {
    return err;
  }
  std::sort(dir.children.begin(), dir.children.end(),
            [](const auto& a, const auto& b) { return a->name < b->name; });
  std::vector<std::string> rels;
  std::erase_if(dir.children, [&](const std::unique_ptr<WalkItem>& c) {
    std::string child_rel = rel.empty() ? c->name : rel + "/" + c->name;
    if (!keep(child_rel, S_ISDIR(c->st.st_mode))) {
      return true;
    }
    rels.push_back(std::move(child_rel));
    return false;
  });
  FirstError first;
  tbb::parallel_for(size_t{0}, dir.children.size(), [&](size_t i) {
    WalkItem& child = *dir.children[i];
    child.abs = fs::join(dir.abs, child.name);
    if (llvm::Error e = fill(child, rels[i])) {
      first.set(std::move(e));
    }
  });
  return first.take();
}

void Walk::collect_reads(WalkItem& item, std::vector<WalkItem*>& out) {
  if (item.need_read) {
    out.push_back(&item);
  }
  for (auto& c : item.children) {
    collect_reads(*c, out);
  }
}

llvm::Expected<std::vector<size_t>> Walk::walk_all(const std::vector<std::string>& rels) {
  std::vector<size_t> tops;
  for (const std::string& rel : rels) {
    auto phys = resolve_context_path(root_, rel, FollowLast::no);
    if (!phys) {
      return phys.takeError();
    }
    auto index = add_top(*phys);
    if (!index) {
      return index.takeError();
    }
    tops.push_back(*index);
  }
  if (llvm::Error err = finish()) {
    return err;
  }
  return tops;
}

llvm::Error Walk::finish() {
  std::vector<WalkItem*> to_read;
  for (auto& top : tops_) {
    collect_reads(*top, to_read);
  }
  std::vector<std::optional<llvm::Expected<Digest>>> read(to_read.size());
  const ContentDigester& digester = options_.digester;
  tbb::parallel_for(size_t{0}, to_read.size(), [&](size_t k) {
    const std::string& abs = to_read[k]->abs;
    read[k].emplace(digester ? digester(abs) : digest_file(abs));
  });
  stats_.entries += entries_;
  stats_.files_cached += cached_;
  llvm::Error first = llvm::Error::success();
  for (size_t k = 0; k < to_read.size(); ++k) {
    WalkItem& item = *to_read[k];
    llvm::Expected<Digest>& d = *read[k];
    if (!d) {
      first = llvm::joinErrors(std::move(first), d.takeError());
      continue;
    }
    item.content = *d;
    ++stats_.files_read;
    stats_.bytes_read += static_cast<uint64_t>(item.st.st_size);
    if (options_.stat_cache) {
      options_.stat_cache->record(item.abs, file_identity(item.st), *d, started_ns_);
    }
  }
  if (first) {
    return first;
  }
  tbb::parallel_for(size_t{0}, tops_.size(), [&](size_t i) { compute_checksum(*tops_[i]); });
  return llvm::Error::success();
}

void Walk::compute_checksum(WalkItem& item) {
  if (!item.children.empty()) {
    tbb::parallel_for(size_t{0}, item.children.size(),
                      [&](size_t i) { compute_checksum(*item.children[i]); });
  }
  // The same bytes as Sha256::field() per field, gathered first: one digest
  // update per entry instead of four per field (the no-op rehash's hot spot).
  TaggedBytes t;
  t.field("type", type_name(item.st.st_mode));
  t.field("mode", static_cast<uint64_t>(item.st.st_mode & 07777));
  t.field("uid", static_cast<uint64_t>(item.st.st_uid));
  t.field("gid", static_cast<uint64_t>(item.st.st_gid));
  switch (item.st.st_mode & S_IFMT) {
    case S_IFLNK:
      t.field("link", item.link);
      break;
    case S_IFREG:
      t.field("contents", item.content.str());
      break;
    case S_IFCHR:
    case S_IFBLK:
      t.field("rdev", static_cast<uint64_t>(item.st.st_rdev));
      break;
    case S_IFDIR:
      for (const auto& c : item.children) {
        t.field("name", c->name);
        t.field("entry", c->checksum.str());
      }
      break;
    default:
      break;
  }
  item.checksum = Digest::of(t.bytes);
}

}  // namespace kiln::cache::detail
