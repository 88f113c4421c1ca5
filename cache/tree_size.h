// How much disk a tree takes, as du(1) counts it: the walk behind
// cache/store_usage.cpp (st_blocks of every entry, files with several links
// kept apart so that each is counted once in the whole store). Internal to cache/.
#pragma once

#include <sys/stat.h>
#include <sys/types.h>

#include <cstdint>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include <llvm/ADT/StringRef.h>

namespace kiln::cache::detail {

/// (device, inode) of the multiply-linked files counted so far.
using Seen = std::set<std::pair<uint64_t, uint64_t>>;

/// Files with several links, (inode, bytes), charged to the first object that
/// has them.
using SharedInodes = std::vector<std::pair<uint64_t, int64_t>>;

/// Disk usage of a tree on one device: what only it holds (`unique`) and its
/// multiply-linked files (`shared`).
struct TreeSize {
  int64_t unique = 0;
  SharedInodes shared;
};

/// The tree at `path` (a file or a directory) on device `dev`; entries on other
/// devices (mount points) are left out. Missing is empty.
TreeSize tree_size(const std::string& path, dev_t dev);
/// The entry at `path` alone (a directory without its contents).
TreeSize tree_size_top(const std::string& path, dev_t dev);
/// Adds the entry `st` to `out`.
void add_entry(const struct stat& st, TreeSize& out);
/// The bytes of `tree` not counted yet, marking its shared inodes seen.
int64_t charge(const TreeSize& tree, dev_t dev, Seen& seen);
/// SharedInodes as "ino:bytes," text for kiln.db, and back.
std::string encode_shared(const SharedInodes& shared);
SharedInodes decode_shared(llvm::StringRef text);
/// Entries of `dir` with their inode numbers (d_ino); empty when unreadable.
std::vector<std::pair<std::string, uint64_t>> list_dir(const std::string& dir);
/// Whether `s` is 64 lowercase hex digits.
bool is_hex64(llvm::StringRef s);

}  // namespace kiln::cache::detail
