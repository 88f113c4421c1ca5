// RUN: an exec op in a container on a mutable snapshot of its rootfs input, with
// its bind, cache, tmpfs and secret mounts; the changes become a layer.
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <deque>
#include <map>

#include <llvm/ADT/StringExtras.h>

#include "cache/context_path.h"
#include "solver/ops/op_impl.h"
#include "solver/ops/scoped_mounts.h"
#include "support/atomic_file.h"
#include "support/error.h"
#include "support/fs.h"
#include "support/shown.h"

namespace kiln::solver::ops::detail {
namespace {

/// The command line of a failed process as its error shows it: the start only
/// of a huge one (a 10 MB RUN line must not make a 10 MB error).
std::string process_text(const std::vector<std::string>& args) {
  return shown_start(llvm::join(args, " "));
}

/// `dir` as an absolute path: the runtime resolves mount sources from its own
/// working directory (`kiln build .` gives a relative context).
llvm::Expected<std::string> absolute_dir(const std::string& dir) {
  if (llvm::StringRef(dir).startswith("/")) {
    return dir;
  }
  char* real = ::realpath(dir.c_str(), nullptr);
  if (!real) {
    return make_io_error("resolve", dir, errno);
  }
  std::string out = real;
  ::free(real);
  return out;
}

/// A copy of `src` (file or directory, with modes, owners and times) in a temp
/// dir of `mounts`.
llvm::Expected<std::string> writable_copy(ScopedMounts& mounts, const std::string& src) {
  auto dir = mounts.temp_dir("bind-");
  if (!dir) {
    return dir.takeError();
  }
  std::string dest = *dir + "/copy";
  pid_t pid = ::fork();
  if (pid < 0) {
    return make_io_error("fork for copying", src, errno);
  }
  if (pid == 0) {
    ::execlp("cp", "cp", "-a", "--", src.c_str(), dest.c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    return make_error("copying " + quote(src) + " for a read-write bind mount failed");
  }
  return dest;
}

/// Adds the extra mounts of `op` to `spec`.
llvm::Error add_mounts(const SolveContext& ctx, const llb::Vertex& v,
                       const std::vector<core::ResultPtr>& inputs, ScopedMounts& mounts,
                       runtime::ProcessSpec& spec) {
  const auto& op = std::get<llb::ExecOp>(v.op());
  for (size_t i = 1; i < op.mounts.size(); ++i) {
    const llb::Mount& m = op.mounts[i];
    runtime::MountSpec ms;
    ms.destination = m.target;
    ms.access = m.readonly ? runtime::Access::read_only : runtime::Access::read_write;
    switch (m.kind) {
      case llb::MountKind::rootfs:
      case llb::MountKind::bind: {
        const core::ResultPtr& in = inputs.at(*m.input);
        std::string host;
        const bool local_source = dynamic_cast<const LocalResult*>(in.get()) != nullptr;
        if (auto* local = dynamic_cast<const LocalResult*>(in.get())) {
          auto abs = absolute_dir(ctx.locals.at(local->name())->path);
          if (!abs) {
            return abs.takeError();
          }
          host = *abs;
          ms.access = runtime::Access::read_only;  // never write into the user's files
        } else {
          auto dir = mounts.mount_snapshot(static_cast<const SnapshotResult&>(*in));
          if (!dir) {
            return dir.takeError();
          }
          host = *dir;
        }
        // As BuildKit: the source's symlinks resolve inside the context (or
        // stage) root, so the runtime gets a path with none left to follow out.
        auto source = cache::context_host_path(host, m.selector, cache::FollowLast::yes);
        if (!source) {
          return source.takeError();
        }
        // The runtime gets the resolved source bound on a staging dir of ours:
        // a link swapped into the context after this cannot redirect it.
        auto held = mounts.stage_in_root(host, *source);
        if (!held) {
          return held.takeError();
        }
        ms.source = *held;
        if (local_source && !m.readonly) {
          // BuildKit: a rw bind of a local source is a writable copy, dropped
          // after the step.
          auto copy = writable_copy(mounts, *held);
          if (!copy) {
            return copy.takeError();
          }
          ms.source = *copy;
          ms.access = runtime::Access::read_write;
        }
        break;
      }
      case llb::MountKind::cache: {
        bool fresh = ctx.options.no_cache || ignores_cache(v, ctx);
        auto dir = mounts.cache_dir(m, fresh ? Fresh::yes : Fresh::no);
        if (!dir) {
          return dir.takeError();
        }
        ms.source = *dir;
        break;
      }
      case llb::MountKind::tmpfs:
        ms.kind = runtime::MountSpec::Kind::tmpfs;
        ms.tmpfs_size_bytes = m.tmpfs_size;
        break;
      case llb::MountKind::secret: {
        if (!m.secret_env.empty()) {
          auto it = ctx.secrets.find(m.secret_id);
          if (it != ctx.secrets.end()) {
            spec.env.push_back(m.secret_env + "=" + it->second.data);
          } else if (m.required) {
            return make_error("secret " + quote(m.secret_id) +
                              " not found (--secret id=" + m.secret_id + ",env=VAR or src=FILE)");
          }
          if (m.target.empty()) {
            continue;
          }
        }
        auto file = mounts.secret_file(m);
        if (!file) {
          return file.takeError();
        }
        if (file->empty()) {
          continue;
        }
        ms.source = *file;
        ms.access = runtime::Access::read_only;
        break;
      }
      case llb::MountKind::ssh: {
        auto socket = mounts.ssh_socket(m);
        if (!socket) {
          return socket.takeError();
        }
        if (socket->empty()) {
          continue;
        }
        ms.source = *socket;
        break;
      }
    }
    spec.mounts.push_back(std::move(ms));
  }
  return llvm::Error::success();
}

}  // namespace

llvm::Expected<core::CacheMap> exec_cache_map(const SolveContext& ctx, const llb::Vertex& v) {
  const auto& op = std::get<llb::ExecOp>(v.op());
  core::CacheMap map;
  map.op_digest = op_key_digest(v, ctx);
  map.deps.resize(v.inputs().size());
  // Like BuildKit's getMountDeps: a bind mount (read-only, or read-write without an
  // output, which is what a Dockerfile's rw mount is) keys on the content of the
  // paths it selects, whether the input is the context or a stage; the rootfs input
  // keys on its cache key.
  std::map<uint32_t, std::vector<std::string>> selected;
  for (size_t i = 1; i < op.mounts.size(); ++i) {
    const llb::Mount& m = op.mounts[i];
    if (m.input && *m.input != 0 && m.kind == llb::MountKind::bind) {
      auto& paths = selected[*m.input];
      if (!llvm::is_contained(paths, m.selector)) {
        paths.push_back(m.selector);
      }
    }
  }
  for (auto& [input, paths] : selected) {
    core::CacheDep& dep = map.deps[input];
    if (paths.size() == 1) {
      dep.selector = Digest::of(paths[0]);
    } else {
      Sha256 sel;
      for (const auto& p : paths) {
        sel.field("path", p);
      }
      dep.selector = sel.finish();
    }
    dep.content = content_of(ctx, std::move(paths), false);
  }
  return map;
}

llvm::Expected<core::ResultPtr> exec_run(const SolveContext& ctx, const llb::Vertex& v,
                                         const core::ExecContext& ec,
                                         const std::vector<core::ResultPtr>& inputs) {
  const auto& op = std::get<llb::ExecOp>(v.op());
  const auto& base = static_cast<const SnapshotResult&>(*inputs.at(0));
  // Declared first so it is destroyed last: its temp dirs hold the mount points.
  ScopedMounts mounts(ctx);
  std::string rootfs;
  auto snap = mounts.mount_step_rootfs(base, rootfs);
  if (!snap) {
    return snap.takeError();
  }
  runtime::ProcessSpec spec;
  spec.args = op.args;
  spec.env = op.env;
  for (const auto& [k, val] : op.proxy_env) {
    spec.env.push_back(k + "=" + val);
  }
  spec.cwd = op.cwd;
  spec.user = op.user;
  spec.platform = op.platform;
  spec.network = op.network == llb::NetworkMode::none   ? runtime::NetworkMode::none
                 : op.network == llb::NetworkMode::host ? runtime::NetworkMode::host
                                                        : ctx.options.default_network;
  spec.hostname = "buildkitsandbox";
  spec.hostname_env = false;
  if (auto err = add_mounts(ctx, v, inputs, mounts, spec)) {
    return err;
  }
  std::deque<std::string> last;
  runtime::RunRequest req;
  req.rootfs = rootfs;
  req.process = spec;
  req.stdio.on_output = [&](runtime::OutputStream, llvm::StringRef line) {
    ec.log(line);
    last.push_back(line.str());
    if (last.size() > 10) {
      last.pop_front();
    }
  };
  auto status = ctx.executor->run(req, &ec.cancel());
  if (!status) {
    return status.takeError();
  }
  if (status->code() != 0) {
    std::string what = status->signal ? "signal: " + std::to_string(status->signal)
                                      : "exit code: " + std::to_string(status->exit_code);
    // A write into a full overlay may show as EIO in the step; say what it was, so
    // that the build can evict unused cache and try again (builder/build_gc.cpp).
    struct statvfs fs {};
    if (::statvfs(ctx.root.c_str(), &fs) == 0 &&
        static_cast<uint64_t>(fs.f_bavail) * fs.f_frsize < (uint64_t{16} << 20)) {
      what += " (no space left on device: the store's file system is full)";
    }
    return llvm::make_error<ExecError>(
        "process \"" + process_text(op.args) + "\" did not complete successfully: " + what,
        v.metadata().description, status->code(),
        std::vector<std::string>(last.begin(), last.end()));
  }
  return commit_layer(ctx, *snap);
}

}  // namespace kiln::solver::ops::detail
