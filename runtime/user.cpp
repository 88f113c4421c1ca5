#include "runtime/user.h"

#include <algorithm>
#include <optional>

#include <llvm/ADT/SmallVector.h>
#include <llvm/ADT/StringExtras.h>

#include "runtime/rootfs_path.h"
#include "support/error.h"
#include "support/fs.h"

namespace kiln::runtime {
namespace {

struct PasswdEntry {
  std::string name;
  uint32_t uid = 0;
  uint32_t gid = 0;
  std::string home;
};

struct GroupEntry {
  std::string name;
  uint32_t gid = 0;
  std::vector<std::string> members;
};

std::optional<uint32_t> parse_id(llvm::StringRef text) {
  uint32_t value = 0;
  if (text.empty() || text.getAsInteger(10, value)) {
    return std::nullopt;
  }
  return value;
}

// Splits `text` into trimmed, non-empty lines split at ':'.
std::vector<llvm::SmallVector<llvm::StringRef, 8>> split_records(llvm::StringRef text) {
  std::vector<llvm::SmallVector<llvm::StringRef, 8>> records;
  llvm::SmallVector<llvm::StringRef, 64> lines;
  text.split(lines, '\n');
  for (llvm::StringRef line : lines) {
    line = line.trim();
    if (line.empty()) {
      continue;
    }
    llvm::SmallVector<llvm::StringRef, 8> fields;
    line.split(fields, ':');
    records.push_back(std::move(fields));
  }
  return records;
}

std::vector<PasswdEntry> parse_passwd(llvm::StringRef text) {
  std::vector<PasswdEntry> entries;
  for (const auto& f : split_records(text)) {
    if (f.size() < 4) {
      continue;
    }
    auto uid = parse_id(f[2]);
    auto gid = parse_id(f[3]);
    if (!uid || !gid) {
      continue;
    }
    entries.push_back({f[0].str(), *uid, *gid, f.size() > 5 ? f[5].str() : std::string()});
  }
  return entries;
}

std::vector<GroupEntry> parse_group(llvm::StringRef text) {
  std::vector<GroupEntry> entries;
  for (const auto& f : split_records(text)) {
    if (f.size() < 3) {
      continue;
    }
    auto gid = parse_id(f[2]);
    if (!gid) {
      continue;
    }
    GroupEntry entry{f[0].str(), *gid, {}};
    if (f.size() > 3 && !f[3].empty()) {
      llvm::SmallVector<llvm::StringRef, 8> members;
      f[3].split(members, ',');
      for (llvm::StringRef m : members) {
        entry.members.push_back(m.trim().str());
      }
    }
    entries.push_back(std::move(entry));
  }
  return entries;
}

std::string home_of(uint32_t uid, const std::vector<PasswdEntry>& passwd) {
  for (const auto& e : passwd) {
    if (e.uid == uid) {
      return e.home.empty() ? "/" : e.home;
    }
  }
  return "/";
}

// runc's GetExecUser group step: an explicit `group_arg` picks the group (by name
// or gid); otherwise the groups listing `user_name` become supplementary groups.
llvm::Error apply_groups(llvm::StringRef group_arg, llvm::StringRef user_name,
                         const std::vector<GroupEntry>& groups, ResolvedUser& out,
                         std::vector<uint32_t>& sgids) {
  if (!group_arg.empty()) {
    auto numeric = parse_id(group_arg);
    for (const auto& g : groups) {
      if (g.name == group_arg || (numeric && *numeric == g.gid)) {
        out.gid = g.gid;
        return llvm::Error::success();
      }
    }
    if (!numeric) {
      return make_error("unable to find group " + group_arg +
                        ": no matching entries in group file");
    }
    out.gid = *numeric;
    return llvm::Error::success();
  }
  for (const auto& g : groups) {
    if (!user_name.empty() && llvm::is_contained(g.members, user_name)) {
      sgids.push_back(g.gid);
    }
  }
  return llvm::Error::success();
}

}  // namespace

llvm::Expected<ResolvedUser> resolve_user(llvm::StringRef user, llvm::StringRef passwd_text,
                                          llvm::StringRef group_text) {
  // No USER is root: like current BuildKit, its groups in /etc/group (busybox's
  // "wheel:x:10:root") become supplementary groups, as for "USER 0".
  auto [user_arg, group_arg] = (user.empty() ? llvm::StringRef("0") : user).split(':');
  auto passwd = parse_passwd(passwd_text);
  ResolvedUser out;
  std::vector<uint32_t> sgids;
  auto numeric_user = parse_id(user_arg);
  auto numeric_group = parse_id(group_arg);
  if (numeric_user && numeric_group) {
    // BuildKit's fast path: no lookup for "uid:gid".
    out.uid = *numeric_user;
    out.gid = *numeric_group;
  } else {
    std::string user_name;
    auto it = std::find_if(passwd.begin(), passwd.end(), [&](const PasswdEntry& e) {
      return e.name == user_arg || (numeric_user && *numeric_user == e.uid);
    });
    if (it != passwd.end()) {
      out.uid = it->uid;
      out.gid = it->gid;
      user_name = it->name;
    } else if (numeric_user) {
      out.uid = *numeric_user;
    } else {
      return make_error("unable to find user " + user_arg + ": no matching entries in passwd file");
    }
    if (auto err = apply_groups(group_arg, user_name, parse_group(group_text), out, sgids)) {
      return err;
    }
  }
  out.home = home_of(out.uid, passwd);
  // BuildKit (after containerd) always lists the primary group first.
  if (!llvm::is_contained(sgids, out.gid)) {
    out.additional_gids.push_back(out.gid);
  }
  out.additional_gids.insert(out.additional_gids.end(), sgids.begin(), sgids.end());
  return out;
}

llvm::Expected<ResolvedUser> resolve_user_in_rootfs(llvm::StringRef rootfs, llvm::StringRef user) {
  auto read_etc = [&](llvm::StringRef name) -> llvm::Expected<std::string> {
    auto path = resolve_in_rootfs(rootfs, name);
    if (!path) {
      return path.takeError();
    }
    if (!fs::exists(*path)) {
      return std::string();
    }
    return fs::read_file(*path);
  };
  auto passwd = read_etc("/etc/passwd");
  if (!passwd) {
    return passwd.takeError();
  }
  auto group = read_etc("/etc/group");
  if (!group) {
    return group.takeError();
  }
  return resolve_user(user, *passwd, *group);
}

}  // namespace kiln::runtime
