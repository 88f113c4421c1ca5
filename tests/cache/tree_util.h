// Test helpers shared by the snapshot and layer tests: a canonical listing of a
// directory tree, xattr helpers, shell scripts run in a directory.
#pragma once

#include <dirent.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "cache/snapshot.h"
#include "support/digest.h"
#include "support/error.h"
#include "support/fs.h"
#include "tests/testutil/testutil.h"

namespace kiln::testutil {

/// "" for success, else the error's message (for REQUIRE(ok(x) == "")).
inline std::string ok(llvm::Error err) { return err ? error_message(std::move(err)) : ""; }
template <typename T>
std::string ok(llvm::Expected<T>& value) {
  return value ? "" : error_message(value.takeError());
}

/// Sets the xattr `name` of `path` (not following symlinks); true on success.
inline bool set_xattr(const std::string& path, const std::string& name, const std::string& value) {
  return ::lsetxattr(path.c_str(), name.c_str(), value.data(), value.size(), 0) == 0;
}

/// The xattr `name` of `path`, or "<none>".
inline std::string get_xattr(const std::string& path, const std::string& name) {
  char buf[4096];
  ssize_t n = ::lgetxattr(path.c_str(), name.c_str(), buf, sizeof(buf));
  return n < 0 ? std::string("<none>") : std::string(buf, static_cast<size_t>(n));
}

namespace detail {
inline void list_into(const std::string& dir, const std::string& rel, bool with_mtime,
                      std::map<std::pair<dev_t, ino_t>, std::string>& inodes,
                      std::vector<std::string>& out) {
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) {
    out.push_back("cannot open " + rel);
    return;
  }
  std::vector<std::string> names;
  while (struct dirent* e = ::readdir(d)) {
    std::string n = e->d_name;
    if (n != "." && n != "..") {
      names.push_back(n);
    }
  }
  ::closedir(d);
  std::sort(names.begin(), names.end());
  for (const std::string& n : names) {
    std::string path = dir + "/" + n;
    std::string r = rel.empty() ? n : rel + "/" + n;
    struct stat st {};
    ::lstat(path.c_str(), &st);
    std::ostringstream line;
    line << r << " mode=" << std::oct << st.st_mode << std::dec << " uid=" << st.st_uid
         << " gid=" << st.st_gid;
    if (with_mtime && !S_ISDIR(st.st_mode)) {
      line << " mtime=" << st.st_mtim.tv_sec;
    }
    if (S_ISREG(st.st_mode)) {
      auto d = digest_file(path);
      line << " size=" << st.st_size << " " << (d ? d->short_hex() : "?");
      auto [it, first] = inodes.try_emplace({st.st_dev, st.st_ino}, r);
      if (!first) {
        line << " link=" << it->second;
      }
      if (!d) {
        llvm::consumeError(d.takeError());
      }
    } else if (S_ISLNK(st.st_mode)) {
      char buf[4096];
      ssize_t len = ::readlink(path.c_str(), buf, sizeof(buf));
      line << " -> " << std::string(buf, len < 0 ? 0 : static_cast<size_t>(len));
    } else if (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode)) {
      line << " dev=" << major(st.st_rdev) << ":" << minor(st.st_rdev);
    }
    char names_buf[4096];
    ssize_t nl = ::llistxattr(path.c_str(), names_buf, sizeof(names_buf));
    std::vector<std::string> xattrs;
    for (ssize_t pos = 0; nl > 0 && pos < nl;) {
      std::string name(names_buf + pos);
      pos += static_cast<ssize_t>(name.size()) + 1;
      xattrs.push_back(name);
    }
    std::sort(xattrs.begin(), xattrs.end());
    for (const std::string& x : xattrs) {
      line << " " << x << "=" << get_xattr(path, x);
    }
    out.push_back(line.str());
    if (S_ISDIR(st.st_mode)) {
      list_into(path, r, with_mtime, inodes, out);
    }
  }
}
}  // namespace detail

/// One line per entry below `dir` (sorted, parents first): path, mode (octal,
/// with type bits), uid, gid, size and short sha256 of files, link targets,
/// device numbers, hard-link partners, xattrs; mtimes of non-directories when
/// `with_mtime`.
inline std::string list_tree(const std::string& dir, bool with_mtime = false) {
  std::map<std::pair<dev_t, ino_t>, std::string> inodes;
  std::vector<std::string> lines;
  detail::list_into(dir, "", with_mtime, inodes, lines);
  std::string out;
  for (const std::string& l : lines) {
    out += l + "\n";
  }
  return out;
}

/// Runs `script` with /bin/sh -e in `dir`; returns stdout+stderr on failure, "" on success.
inline std::string sh_in(const std::string& dir, const std::string& script) {
  Output o = run({"/bin/sh", "-ec", "cd '" + dir + "'\n" + script});
  return o.exit_code == 0 ? std::string()
                          : "exit " + std::to_string(o.exit_code) + ": " + o.out + o.err;
}

/// True when `path` appears as a mount point in /proc/self/mounts or below it.
inline bool mounted_under(const std::string& path) {
  std::string mounts = read_file("/proc/self/mounts");
  return mounts.find(" " + path) != std::string::npos;
}

/// A tar of the tree that `script` creates in a fresh directory TMP/src-NAME.
inline cache::LayerBlob make_layer(const TempDir& tmp, const std::string& name,
                                   const std::string& script) {
  std::string dir = tmp / ("src-" + name);
  REQUIRE(ok(fs::make_dirs(dir)) == "");
  REQUIRE(sh_in(dir, script) == "");
  std::string tar = tmp / (name + ".tar");
  auto out =
      run({"tar", "--numeric-owner", "--xattrs", "--xattrs-include=*", "-C", dir, "-cf", tar, "."});
  REQUIRE(out.exit_code == 0);
  return cache::LayerBlob{tar, digest_file(tar).get()};
}

}  // namespace kiln::testutil
