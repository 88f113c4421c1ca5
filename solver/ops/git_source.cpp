// ADD from a git repository: the git source. As in BuildKit, the cache key is the
// commit the ref resolves to (`git ls-remote`, or the ref itself when it names a
// whole commit), with the subdirectory and whether .git is kept; the step then
// fetches the commit into the store's mirror of the remote (ROOT/git/) and checks
// it out as a snapshot on scratch. Every git command is the real `git` binary,
// each remote and ref behind "--", and is killed on cancel.
#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <thread>

#include "cache/context_path.h"
#include "solver/ops/git_command.h"
#include "solver/ops/op_impl.h"
#include "support/error.h"
#include "support/file_lock.h"
#include "support/fs.h"
#include "support/temp_file.h"

namespace kiln::solver::ops::detail {
namespace {

bool is_hex(llvm::StringRef text) {
  return !text.empty() && llvm::all_of(text, [](char c) { return llvm::isHexDigit(c); });
}

bool is_commit_name(llvm::StringRef ref) {
  return is_hex(ref) && (ref.size() == 40 || ref.size() == 64);
}

// The remote without user:password@, for messages.
std::string redact(llvm::StringRef url) {
  auto [scheme, rest] = url.split("://");
  size_t at = rest.substr(0, rest.find('/')).rfind('@');
  if (rest.empty() || at == llvm::StringRef::npos || !rest.substr(0, at).contains(':')) {
    return url.str();
  }
  return scheme.str() + "://xxxxx:xxxxx@" + rest.substr(at + 1).str();
}

/// BuildKit's checksum check: a prefix of the commit's name or of the annotated tag's.
llvm::Error check_checksum(const llb::GitSource& op, const GitResolved& r) {
  if (op.checksum.empty()) {
    return llvm::Error::success();
  }
  std::string want = llvm::StringRef(op.checksum).lower();
  if (llvm::StringRef(r.commit).startswith(want) ||
      (!r.tag.empty() && llvm::StringRef(r.tag).startswith(want))) {
    return llvm::Error::success();
  }
  return make_error("expected checksum to match " + op.checksum + ", got " +
                    (r.tag.empty() ? r.commit : r.tag + " or " + r.commit));
}

/// Waits for `path`'s lock, giving up when `cancel` fires.
llvm::Expected<FileLock> lock_cancellable(const std::string& path, const CancelToken* cancel) {
  while (true) {
    auto lock = FileLock::try_acquire(path);
    if (!lock) {
      return lock.takeError();
    }
    if (*lock) {
      return std::move(**lock);
    }
    if (cancel && cancel->cancelled()) {
      return llvm::make_error<CancelledError>();
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

/// Moves every entry of `from` into the empty directory `to` (one file system).
llvm::Error move_entries(const std::string& from, const std::string& to) {
  DIR* dir = ::opendir(from.c_str());
  if (!dir) {
    return make_io_error("open", from, errno);
  }
  llvm::Error result = llvm::Error::success();
  while (dirent* e = ::readdir(dir)) {
    llvm::StringRef name(e->d_name);
    if (name == "." || name == "..") {
      continue;
    }
    std::string src = from + "/" + name.str();
    std::string dst = to + "/" + name.str();
    if (::rename(src.c_str(), dst.c_str()) != 0) {
      result = make_io_error("move the checkout to", dst, errno);
      break;
    }
  }
  ::closedir(dir);
  return result;
}

}  // namespace

llvm::Expected<GitResolved> resolve_git(const llb::GitSource& op, const CancelToken* cancel) {
  if (!op.checksum.empty() && !is_hex(op.checksum)) {
    return make_error("invalid checksum " + op.checksum + " for Git URL, expected hex commit hash");
  }
  GitResolved r;
  if (is_commit_name(op.ref)) {
    r.commit = llvm::StringRef(op.ref).lower();
    if (auto err = check_checksum(op, r)) {
      return std::move(err);
    }
    return r;
  }
  auto listed = run_git({"ls-remote", "--", op.remote}, cancel);
  if (!listed) {
    if (listed.errorIsA<CancelledError>()) {
      return listed.takeError();
    }
    std::string what = op.ref.empty() ? "error fetching default branch for repository "
                                      : "failed to fetch remote ";
    return with_context(listed.takeError(), what + redact(op.remote));
  }
  // Lines "<object>\t<ref>"; a peeled tag follows as "<commit>\t<ref>^{}".
  std::map<std::string, std::string> refs;
  llvm::SmallVector<llvm::StringRef, 64> lines;
  llvm::StringRef(*listed).split(lines, '\n', -1, false);
  for (llvm::StringRef line : lines) {
    auto [object, name] = line.split('\t');
    refs[name.trim().str()] = object.trim().str();
  }
  std::vector<std::string> candidates;
  if (op.ref.empty()) {
    candidates = {"HEAD"};
  } else {
    candidates = {op.ref, "refs/tags/" + op.ref, "refs/heads/" + op.ref};
  }
  for (const std::string& name : candidates) {
    auto it = refs.find(name);
    if (it == refs.end()) {
      continue;
    }
    r.ref_name = name;
    if (auto peeled = refs.find(name + "^{}"); peeled != refs.end()) {
      r.tag = it->second;
      r.commit = peeled->second;
    } else {
      r.commit = it->second;
    }
    if (auto err = check_checksum(op, r)) {
      return std::move(err);
    }
    return r;
  }
  std::string shown = listed->size() > 1024 ? listed->substr(0, 1024) + "…" : *listed;
  return make_error("repository does not contain ref " + op.ref + ", output: \"" +
                    llvm::StringRef(shown).trim().str() + "\"");
}

Digest git_cache_key(const llb::GitSource& op, const std::string& commit) {
  Sha256 h;
  h.field("kiln.git-source.v1", commit);
  h.field("subdir", op.subdir);
  h.field("keep-git-dir", static_cast<uint64_t>(op.keep_git_dir));
  return h.finish();
}

llvm::Expected<core::ResultPtr> exec_git(const SolveContext& ctx, const llb::GitSource& op,
                                         const GitResolved& resolved, const CancelToken* cancel) {
  const std::string& commit = resolved.commit;
  bool sha256 = commit.size() == 64;
  std::string format = sha256 ? "sha256" : "sha1";
  // The store's mirror of the remote: one bare repository per remote and object format.
  std::string store = ctx.root + "/git";
  if (auto err = fs::make_dirs(store, 0700)) {
    return std::move(err);
  }
  std::string mirror = store + "/" + Digest::of(op.remote).hex() + "-" + format;
  auto lock = lock_cancellable(mirror + ".lock", cancel);
  if (!lock) {
    return lock.takeError();
  }
  std::string where = "git source " + redact(op.remote);
  if (!fs::exists(mirror + "/HEAD")) {
    auto init =
        run_git({"init", "-q", "--bare", "--object-format=" + format, "--", mirror}, cancel);
    if (!init) {
      return with_context(init.takeError(), where + ": init the store's mirror");
    }
  }
  std::string pin = "refs/kiln/" + commit;
  auto have = run_git({"-C", mirror, "cat-file", "-e", commit + "^{commit}"}, nullptr);
  if (!have) {
    llvm::consumeError(have.takeError());
    // The named ref when the resolution found one, else the commit itself; as a
    // last resort every branch and tag.
    std::vector<std::vector<std::string>> tries;
    if (!resolved.ref_name.empty()) {
      tries.push_back({"-C", mirror, "fetch", "-q", "--no-tags", "--force", "--", op.remote,
                       "+" + resolved.ref_name + ":" + pin});
    } else {
      tries.push_back({"-C", mirror, "fetch", "-q", "--no-tags", "--force", "--", op.remote,
                       "+" + commit + ":" + pin});
    }
    tries.push_back({"-C", mirror, "fetch", "-q", "--force", "--", op.remote,
                     "+refs/heads/*:refs/heads/*", "+refs/tags/*:refs/tags/*"});
    std::string failure;
    for (const auto& args : tries) {
      auto fetched = run_git(args, cancel);
      if (!fetched) {
        if (fetched.errorIsA<CancelledError>()) {
          return fetched.takeError();
        }
        failure = error_message(fetched.takeError());
        continue;
      }
      auto now = run_git({"-C", mirror, "cat-file", "-e", commit + "^{commit}"}, nullptr);
      if (now) {
        failure.clear();
        break;
      }
      llvm::consumeError(now.takeError());
      failure = "the remote does not have commit " + commit;
    }
    if (!failure.empty()) {
      return make_error(where + ": fetch " + commit + ": " + failure);
    }
  }
  // Keeps the commit in the mirror whatever the remote's refs do later.
  auto pinned = run_git({"-C", mirror, "update-ref", pin, commit}, cancel);
  if (!pinned) {
    return with_context(pinned.takeError(), where + ": pin " + commit);
  }

  // The checkout: a repository of its own under ROOT/tmp (so .git can be kept),
  // fetched from the mirror, then moved into a snapshot on the same file system.
  auto tmp = ScratchDir::create(ctx.root + "/tmp", "git-");
  if (!tmp) {
    return tmp.takeError();
  }
  std::string work = tmp->path() + "/checkout";
  for (const auto& args : std::vector<std::vector<std::string>>{
           {"init", "-q", "--object-format=" + format, "--", work},
           {"-C", work, "fetch", "-q", "--no-tags", "--", mirror, pin},
           {"-C", work, "-c", "advice.detachedHead=false", "checkout", "-q", "--detach", commit,
            "--"}}) {
    auto done = run_git(args, cancel);
    if (!done) {
      if (done.errorIsA<CancelledError>()) {
        return done.takeError();
      }
      return with_context(done.takeError(), where + ": check out " + commit);
    }
  }
  if (!op.keep_git_dir) {
    if (auto err = fs::remove_all(work + "/.git")) {
      return std::move(err);
    }
  } else {
    // As BuildKit leaves it: the remote named origin, not the store's mirror.
    auto set = run_git({"-C", work, "remote", "add", "origin", "--", op.remote}, cancel);
    if (!set) {
      llvm::consumeError(set.takeError());
    }
  }
  std::string top = work;
  if (!op.subdir.empty()) {
    // Resolved inside the checkout as BuildKit's fs.RootPath: a link cannot leave it.
    auto sub = cache::context_host_path(work, op.subdir, cache::FollowLast::yes);
    if (!sub) {
      return sub.takeError();
    }
    struct stat st {};
    if (::lstat(sub->c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
      return make_error(where + ": subdir " + quote(op.subdir) + " is not a directory in " +
                        commit);
    }
    top = *sub;
  }
  auto snapshot = ctx.snapshots.create_mutable(std::nullopt);
  if (!snapshot) {
    return snapshot.takeError();
  }
  auto diff = snapshot->diff_dir();
  if (!diff) {
    return diff.takeError();
  }
  if (auto err = move_entries(top, *diff)) {
    return std::move(err);
  }
  return commit_layer(ctx, *snapshot);
}

}  // namespace kiln::solver::ops::detail
