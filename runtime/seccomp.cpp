#include "runtime/seccomp.h"

#include <sys/utsname.h>

#include <algorithm>
#include <cstdio>

#include <nlohmann/json.hpp>

#include "runtime/bundle.h"
#include "support/error.h"
#include "support/fs.h"

namespace kiln::runtime {
namespace {

using nlohmann::json;

#if defined(__x86_64__)
constexpr const char* kNativeArch = "amd64";
constexpr const char* kNativeScmpArch = "SCMP_ARCH_X86_64";
const char* const kNativeArches[] = {"SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"};
const char* const kArchSyscalls[] = {"arch_prctl", "modify_ldt"};
#elif defined(__aarch64__)
constexpr const char* kNativeArch = "arm64";
constexpr const char* kNativeScmpArch = "SCMP_ARCH_AARCH64";
const char* const kNativeArches[] = {"SCMP_ARCH_AARCH64", "SCMP_ARCH_ARM"};
const char* const kArchSyscalls[] = {"arm_fadvise64_64", "arm_sync_file_range", "sync_file_range2",
                                     "breakpoint",       "cacheflush",          "set_tls"};
#else
#error "kiln's seccomp profile knows x86_64 and aarch64"
#endif

constexpr int kEperm = 1;
constexpr int kEnosys = 38;
constexpr uint64_t kAfVsock = 40;
// CLONE_NEWNS | CLONE_NEWCGROUP | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWUSER |
// CLONE_NEWPID | CLONE_NEWNET: clone may not make namespaces without CAP_SYS_ADMIN.
constexpr uint64_t kCloneNamespaceFlags = 0x7E020000;

// The calls docker's default profile allows unconditionally, plus those it allows
// for docker's default capabilities (chroot: CAP_SYS_CHROOT) and for kernels from
// 4.8 on (ptrace, process_vm_*: since 4.8 ptrace cannot bypass seccomp).
// clang-format off
const char* const kAllowed[] = {
    "accept", "accept4", "access", "adjtimex", "alarm", "bind", "brk", "capget", "capset", "chdir",
    "chmod", "chown", "chown32", "clock_adjtime", "clock_adjtime64", "clock_getres",
    "clock_getres_time64", "clock_gettime", "clock_gettime64", "clock_nanosleep",
    "clock_nanosleep_time64", "close", "close_range", "connect", "copy_file_range", "creat", "dup",
    "dup2", "dup3", "epoll_create", "epoll_create1", "epoll_ctl", "epoll_ctl_old", "epoll_pwait",
    "epoll_pwait2", "epoll_wait", "epoll_wait_old", "eventfd", "eventfd2", "execve", "execveat",
    "exit", "exit_group", "faccessat", "faccessat2", "fadvise64", "fadvise64_64", "fallocate",
    "fanotify_mark", "fchdir", "fchmod", "fchmodat", "fchown", "fchown32", "fchownat", "fcntl",
    "fcntl64", "fdatasync", "fgetxattr", "flistxattr", "flock", "fork", "fremovexattr",
    "fsetxattr", "fstat", "fstat64", "fstatat64", "fstatfs", "fstatfs64", "fsync", "ftruncate",
    "ftruncate64", "futex", "futex_time64", "futex_waitv", "futimesat", "getcpu", "getcwd",
    "getdents", "getdents64", "getegid", "getegid32", "geteuid", "geteuid32", "getgid", "getgid32",
    "getgroups", "getgroups32", "getitimer", "getpeername", "getpgid", "getpgrp", "getpid",
    "getppid", "getpriority", "getrandom", "getresgid", "getresgid32", "getresuid", "getresuid32",
    "getrlimit", "get_robust_list", "getrusage", "getsid", "getsockname", "getsockopt",
    "get_thread_area", "gettid", "gettimeofday", "getuid", "getuid32", "getxattr",
    "inotify_add_watch", "inotify_init", "inotify_init1", "inotify_rm_watch", "io_cancel", "ioctl",
    "io_destroy", "io_getevents", "io_pgetevents", "io_pgetevents_time64", "ioprio_get",
    "ioprio_set", "io_setup", "io_submit", "io_uring_enter", "io_uring_register", "io_uring_setup",
    "ipc", "kill", "landlock_add_rule", "landlock_create_ruleset", "landlock_restrict_self",
    "lchown", "lchown32", "lgetxattr", "link", "linkat", "listen", "listxattr", "llistxattr",
    "_llseek", "lremovexattr", "lseek", "lsetxattr", "lstat", "lstat64", "madvise", "membarrier",
    "memfd_create", "memfd_secret", "mincore", "mkdir", "mkdirat", "mknod", "mknodat", "mlock",
    "mlock2", "mlockall", "mmap", "mmap2", "mprotect", "mq_getsetattr", "mq_notify", "mq_open",
    "mq_timedreceive", "mq_timedreceive_time64", "mq_timedsend", "mq_timedsend_time64",
    "mq_unlink", "mremap", "msgctl", "msgget", "msgrcv", "msgsnd", "msync", "munlock",
    "munlockall", "munmap", "name_to_handle_at", "nanosleep", "newfstatat", "_newselect", "open",
    "openat", "openat2", "pause", "pidfd_open", "pidfd_send_signal", "pipe", "pipe2", "pkey_alloc",
    "pkey_free", "pkey_mprotect", "poll", "ppoll", "ppoll_time64", "prctl", "pread64", "preadv",
    "preadv2", "prlimit64", "process_mrelease", "pselect6", "pselect6_time64", "pwrite64",
    "pwritev", "pwritev2", "read", "readahead", "readlink", "readlinkat", "readv", "recv",
    "recvfrom", "recvmmsg", "recvmmsg_time64", "recvmsg", "remap_file_pages", "removexattr",
    "rename", "renameat", "renameat2", "restart_syscall", "rmdir", "rseq", "rt_sigaction",
    "rt_sigpending", "rt_sigprocmask", "rt_sigqueueinfo", "rt_sigreturn", "rt_sigsuspend",
    "rt_sigtimedwait", "rt_sigtimedwait_time64", "rt_tgsigqueueinfo", "sched_getaffinity",
    "sched_getattr", "sched_getparam", "sched_get_priority_max", "sched_get_priority_min",
    "sched_getscheduler", "sched_rr_get_interval", "sched_rr_get_interval_time64",
    "sched_setaffinity", "sched_setattr", "sched_setparam", "sched_setscheduler", "sched_yield",
    "seccomp", "select", "semctl", "semget", "semop", "semtimedop", "semtimedop_time64", "send",
    "sendfile", "sendfile64", "sendmmsg", "sendmsg", "sendto", "setfsgid", "setfsgid32",
    "setfsuid", "setfsuid32", "setgid", "setgid32", "setgroups", "setgroups32", "setitimer",
    "setpgid", "setpriority", "setregid", "setregid32", "setresgid", "setresgid32", "setresuid",
    "setresuid32", "setreuid", "setreuid32", "setrlimit", "set_robust_list", "setsid",
    "setsockopt", "set_thread_area", "set_tid_address", "setuid", "setuid32", "setxattr", "shmat",
    "shmctl", "shmdt", "shmget", "shutdown", "sigaltstack", "signalfd", "signalfd4", "sigprocmask",
    "sigreturn", "socketcall", "socketpair", "splice", "stat", "stat64", "statfs", "statfs64",
    "statx", "symlink", "symlinkat", "sync", "sync_file_range", "syncfs", "sysinfo", "tee",
    "tgkill", "time", "timer_create", "timer_delete", "timer_getoverrun", "timer_gettime",
    "timer_gettime64", "timer_settime", "timer_settime64", "timerfd_create", "timerfd_gettime",
    "timerfd_gettime64", "timerfd_settime", "timerfd_settime64", "times", "tkill", "truncate",
    "truncate64", "ugetrlimit", "umask", "uname", "unlink", "unlinkat", "utime", "utimensat",
    "utimensat_time64", "utimes", "vfork", "vmsplice", "wait4", "waitid", "waitpid", "write",
    "writev", "ptrace", "process_vm_readv", "process_vm_writev", "chroot"
};
// clang-format on

json arg(int index, uint64_t value, uint64_t value_two, const char* op) {
  return {{"index", index}, {"value", value}, {"valueTwo", value_two}, {"op", op}};
}

json rule(std::vector<std::string> names, json args = json::array()) {
  return {{"names", std::move(names)}, {"action", "SCMP_ACT_ALLOW"}, {"args", std::move(args)}};
}

// `release` ("6.1.0-18-amd64") is at least `min` ("4.8").
bool kernel_at_least(llvm::StringRef release, llvm::StringRef min) {
  unsigned have_major = 0, have_minor = 0, want_major = 0, want_minor = 0;
  if (std::sscanf(release.str().c_str(), "%u.%u", &have_major, &have_minor) < 1 ||
      std::sscanf(min.str().c_str(), "%u.%u", &want_major, &want_minor) < 1) {
    return false;
  }
  return have_major != want_major ? have_major > want_major : have_minor >= want_minor;
}

bool contains(const json& list, llvm::StringRef value) {
  return list.is_array() && std::any_of(list.begin(), list.end(), [&](const json& item) {
           return item.is_string() && item.get<std::string>() == value;
         });
}

bool has_capability(llvm::StringRef cap) {
  auto caps = docker_capabilities();
  return std::find(caps.begin(), caps.end(), cap) != caps.end();
}

// Moby's rule filter: `includes` must all hold, `excludes` must all fail.
bool applies(const json& entry) {
  json includes = entry.value("includes", json::object());
  json excludes = entry.value("excludes", json::object());
  if (!includes.is_object() || !excludes.is_object()) {
    return false;
  }
  json arches = includes.value("arches", json::array());
  if (!arches.empty() && !contains(arches, kNativeArch)) {
    return false;
  }
  for (const json& cap : includes.value("caps", json::array())) {
    if (!cap.is_string() || !has_capability(cap.get<std::string>())) {
      return false;
    }
  }
  if (includes.contains("minKernel") && includes["minKernel"].is_string()) {
    utsname uts{};
    if (::uname(&uts) != 0 ||
        !kernel_at_least(uts.release, includes["minKernel"].get<std::string>())) {
      return false;
    }
  }
  if (contains(excludes.value("arches", json::array()), kNativeArch)) {
    return false;
  }
  for (const json& cap : excludes.value("caps", json::array())) {
    if (cap.is_string() && has_capability(cap.get<std::string>())) {
      return false;
    }
  }
  return true;
}

json convert_syscall(const json& entry) {
  json out = json::object();
  json names = entry.value("names", json::array());
  if (entry.contains("name") && entry["name"].is_string()) {
    names.push_back(entry["name"]);
  }
  out["names"] = names;
  for (const char* key : {"action", "errnoRet", "args"}) {
    if (entry.contains(key)) {
      out[key] = entry[key];
    }
  }
  return out;
}

json native_architectures(const json& profile) {
  if (profile.contains("architectures")) {
    return profile["architectures"];
  }
  json arches = json::array();
  for (const json& entry : profile.value("archMap", json::array())) {
    if (entry.is_object() && entry.value("architecture", "") == kNativeScmpArch) {
      arches.push_back(kNativeScmpArch);
      for (const json& sub : entry.value("subArchitectures", json::array())) {
        arches.push_back(sub);
      }
    }
  }
  return arches;
}

}  // namespace

std::string docker_default_seccomp() {
  json syscalls = json::array();
  syscalls.push_back(rule({std::begin(kAllowed), std::end(kAllowed)}));
  syscalls.push_back(rule({std::begin(kArchSyscalls), std::end(kArchSyscalls)}));
  syscalls.push_back(rule({"socket"}, {arg(0, kAfVsock, 0, "SCMP_CMP_NE")}));
  for (uint64_t persona : {0x0ull, 0x8ull, 0x20000ull, 0x20008ull, 0xffffffffull}) {
    syscalls.push_back(rule({"personality"}, {arg(0, persona, 0, "SCMP_CMP_EQ")}));
  }
  syscalls.push_back(rule({"clone"}, {arg(0, kCloneNamespaceFlags, 0, "SCMP_CMP_MASKED_EQ")}));
  // glibc falls back to clone when clone3 says ENOSYS; clone3's flags are out of reach.
  syscalls.push_back({{"names", {"clone3"}}, {"action", "SCMP_ACT_ERRNO"}, {"errnoRet", kEnosys}});
  json seccomp = {{"defaultAction", "SCMP_ACT_ERRNO"},
                  {"defaultErrnoRet", kEperm},
                  {"architectures",
                   std::vector<std::string>(std::begin(kNativeArches), std::end(kNativeArches))},
                  {"syscalls", syscalls}};
  return seccomp.dump();
}

llvm::Expected<std::string> seccomp_from_profile(llvm::StringRef text) {
  json profile = json::parse(text.begin(), text.end(), nullptr, false);
  if (!profile.is_object() || !profile.contains("defaultAction")) {
    return make_error("not a seccomp profile: expected a JSON object with 'defaultAction'");
  }
  json out = json::object();
  for (const char* key :
       {"defaultAction", "defaultErrnoRet", "flags", "listenerPath", "listenerMetadata"}) {
    if (profile.contains(key)) {
      out[key] = profile[key];
    }
  }
  out["architectures"] = native_architectures(profile);
  json syscalls = json::array();
  for (const json& entry : profile.value("syscalls", json::array())) {
    if (entry.is_object() && applies(entry)) {
      syscalls.push_back(convert_syscall(entry));
    }
  }
  out["syscalls"] = syscalls;
  return out.dump();
}

llvm::Expected<Seccomp> parse_security_opt(llvm::StringRef option) {
  auto [key, value] = option.split(option.contains('=') ? '=' : ':');
  if (key != "seccomp" || value.empty()) {
    return llvm::make_error<UsageError>("invalid --security-opt " + quote(option) +
                                        " (kiln knows seccomp=unconfined|PROFILE.json)");
  }
  if (value == "unconfined") {
    return Seccomp{Seccomp::Kind::unconfined, ""};
  }
  auto text = fs::read_file(value);
  if (!text) {
    return with_context(text.takeError(), "seccomp profile " + quote(value));
  }
  auto converted = seccomp_from_profile(*text);
  if (!converted) {
    return with_context(converted.takeError(), "seccomp profile " + quote(value));
  }
  return Seccomp{Seccomp::Kind::custom, std::move(*converted)};
}

}  // namespace kiln::runtime
