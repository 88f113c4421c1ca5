#include "containers/container_ops.h"

#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <cctype>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <map>
#include <set>
#include <sstream>
#include <thread>

#include "runtime/container_control.h"
#include "support/error.h"
#include "support/fs.h"
#include "support/units.h"

namespace kiln::containers {
namespace {

// pid -> parent pid of every process on the host.
std::map<int, int> parents() {
  std::map<int, int> out;
  DIR* d = ::opendir("/proc");
  if (!d) {
    return out;
  }
  while (dirent* e = ::readdir(d)) {
    int pid = 0;
    if (llvm::StringRef(e->d_name).getAsInteger(10, pid)) {
      continue;
    }
    auto stat = fs::read_file("/proc/" + std::to_string(pid) + "/stat");
    if (!stat) {
      llvm::consumeError(stat.takeError());
      continue;
    }
    // "pid (comm) state ppid ..."; comm may hold spaces and parens.
    llvm::StringRef rest = llvm::StringRef(*stat).rsplit(')').second.trim();
    llvm::SmallVector<llvm::StringRef, 4> fields;
    rest.split(fields, ' ', 3);
    int ppid = 0;
    if (fields.size() >= 2 && !fields[1].getAsInteger(10, ppid)) {
      out[pid] = ppid;
    }
  }
  ::closedir(d);
  return out;
}

// utime + stime of `pid` in clock ticks.
int64_t cpu_ticks(int pid) {
  auto stat = fs::read_file("/proc/" + std::to_string(pid) + "/stat");
  if (!stat) {
    llvm::consumeError(stat.takeError());
    return 0;
  }
  llvm::StringRef rest = llvm::StringRef(*stat).rsplit(')').second.trim();
  llvm::SmallVector<llvm::StringRef, 20> fields;
  rest.split(fields, ' ');
  int64_t utime = 0;
  int64_t stime = 0;
  if (fields.size() > 12) {
    fields[11].getAsInteger(10, utime);
    fields[12].getAsInteger(10, stime);
  }
  return utime + stime;
}

int64_t status_kb(int pid, llvm::StringRef key) {
  auto status = fs::read_file("/proc/" + std::to_string(pid) + "/status");
  if (!status) {
    llvm::consumeError(status.takeError());
    return 0;
  }
  std::istringstream lines(*status);
  std::string line;
  while (std::getline(lines, line)) {
    if (llvm::StringRef(line).startswith(key)) {
      int64_t kb = 0;
      llvm::StringRef(line).drop_front(key.size()).trim().split(' ').first.getAsInteger(10, kb);
      return kb;
    }
  }
  return 0;
}

void add_io(int pid, ContainerStats& stats) {
  auto io = fs::read_file("/proc/" + std::to_string(pid) + "/io");
  if (!io) {
    llvm::consumeError(io.takeError());
    return;
  }
  std::istringstream lines(*io);
  std::string line;
  while (std::getline(lines, line)) {
    auto [key, value] = llvm::StringRef(line).split(':');
    int64_t n = 0;
    value.trim().getAsInteger(10, n);
    if (key == "read_bytes") {
      stats.block_read += n;
    } else if (key == "write_bytes") {
      stats.block_write += n;
    }
  }
}

}  // namespace

llvm::Expected<int> wait_container(const ContainerStore& store, llvm::StringRef id) {
  while (true) {
    auto state = store.current_state(id);
    if (!state) {
      return state.takeError();
    }
    if (!state->running() && !(state->status == ContainerStatus::created && store.has_runner(id))) {
      return state->exit_code;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

llvm::Error pause_container(const ContainerStore& store, llvm::StringRef id, bool pause) {
  auto state = store.current_state(id);
  if (!state) {
    return state.takeError();
  }
  if (!state->running()) {
    return make_error("container " + id.str() + " is not running");
  }
  auto control = runtime::ContainerControl::open(container_runtime(store.root()));
  if (!control) {
    return control.takeError();
  }
  if (auto err = pause ? control->pause(id) : control->resume(id)) {
    return err;
  }
  std::string marker = store.paths(id).paused();
  if (!pause) {
    ::unlink(marker.c_str());
    return llvm::Error::success();
  }
  int fd = ::open(marker.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) {
    return make_io_error("create", marker, errno);
  }
  ::close(fd);
  return llvm::Error::success();
}

llvm::Expected<std::vector<int>> container_pids(const ContainerStore& store, llvm::StringRef id) {
  auto state = store.current_state(id);
  if (!state) {
    return state.takeError();
  }
  if (!state->running() || state->pid <= 0) {
    return make_error("container " + id.str() + " is not running");
  }
  std::map<int, int> tree = parents();
  std::set<int> found = {state->pid};
  bool grew = true;
  while (grew) {
    grew = false;
    for (const auto& [pid, ppid] : tree) {
      if (found.count(ppid) && found.insert(pid).second) {
        grew = true;
      }
    }
  }
  return std::vector<int>(found.begin(), found.end());
}

llvm::Expected<std::vector<ProcessInfo>> container_processes(const ContainerStore& store,
                                                             llvm::StringRef id) {
  auto pids = container_pids(store, id);
  if (!pids) {
    return pids.takeError();
  }
  std::vector<ProcessInfo> out;
  for (int pid : *pids) {
    std::string dir = "/proc/" + std::to_string(pid);
    auto cmdline = fs::read_file(dir + "/cmdline");
    auto status = fs::read_file(dir + "/status");
    if (!cmdline || !status) {
      llvm::consumeError(cmdline.takeError());
      llvm::consumeError(status.takeError());
      continue;
    }
    ProcessInfo p{pid, "?", "?", *cmdline};
    std::replace(p.command.begin(), p.command.end(), '\0', ' ');
    p.command = llvm::StringRef(p.command).rtrim().str();
    llvm::SmallVector<llvm::StringRef, 64> lines;
    llvm::StringRef(*status).split(lines, '\n');
    for (llvm::StringRef l : lines) {
      if (l.consume_front("Uid:")) {
        p.uid = l.trim().split('\t').first.str();
      } else if (l.consume_front("PPid:")) {
        p.ppid = l.trim().str();
      }
    }
    out.push_back(std::move(p));
  }
  return out;
}

llvm::Expected<ContainerStats> container_stats(const ContainerStore& store, llvm::StringRef id) {
  auto pids = container_pids(store, id);
  if (!pids) {
    return pids.takeError();
  }
  auto spec = store.load_spec(id);
  if (!spec) {
    return spec.takeError();
  }
  ContainerStats stats;
  stats.pids = static_cast<int>(pids->size());
  int64_t before = 0;
  for (int pid : *pids) {
    before += cpu_ticks(pid);
  }
  auto start = std::chrono::steady_clock::now();
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  int64_t after = 0;
  for (int pid : *pids) {
    after += cpu_ticks(pid);
    stats.memory_bytes += status_kb(pid, "VmRSS:") * 1024;
    add_io(pid, stats);
  }
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  double ticks = static_cast<double>(::sysconf(_SC_CLK_TCK));
  stats.cpu_percent =
      seconds > 0 ? 100.0 * static_cast<double>(after - before) / ticks / seconds : 0;
  stats.memory_limit = spec->process.memory_limit;
  if (stats.memory_limit == 0) {
    stats.memory_limit = static_cast<int64_t>(::sysconf(_SC_PHYS_PAGES)) * ::sysconf(_SC_PAGESIZE);
  }
  // Its own namespace's interfaces but lo (none with --network host: the host's).
  if (spec->network_mode != "host") {
    auto dev = fs::read_file("/proc/" + std::to_string(pids->front()) + "/net/dev");
    if (dev) {
      std::istringstream lines(*dev);
      std::string line;
      while (std::getline(lines, line)) {
        auto [name, values] = llvm::StringRef(line).split(':');
        name = name.trim();
        if (values.empty() || name == "lo" || name.contains('|')) {
          continue;
        }
        llvm::SmallVector<llvm::StringRef, 16> fields;
        values.split(fields, ' ', -1, false);
        int64_t rx = 0;
        int64_t tx = 0;
        if (fields.size() >= 9) {
          fields[0].getAsInteger(10, rx);
          fields[8].getAsInteger(10, tx);
        }
        stats.net_rx += rx;
        stats.net_tx += tx;
      }
    } else {
      llvm::consumeError(dev.takeError());
    }
  }
  return stats;
}

llvm::Expected<std::string> top_output(const ContainerStore& store, llvm::StringRef id,
                                       const std::vector<std::string>& ps_args) {
  auto pids = container_pids(store, id);
  if (!pids) {
    return pids.takeError();
  }
  std::string list;
  for (int pid : *pids) {
    list += (list.empty() ? "" : ",") + std::to_string(pid);
  }
  std::string options;
  for (const auto& a : ps_args) {
    for (char c : a) {
      if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != ',') {
        return llvm::make_error<UsageError>("invalid ps option " + quote(a));
      }
    }
    options += " " + a;
  }
  if (options.empty()) {
    options = " -f";
  }
  std::string command = "ps" + options + " -p " + list;
  FILE* pipe = ::popen(command.c_str(), "r");
  if (!pipe) {
    return make_error("run " + quote(command));
  }
  std::string out;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof(buf), pipe)) > 0) {
    out.append(buf, n);
  }
  ::pclose(pipe);
  return out;
}

llvm::Expected<std::vector<std::string>> running_ids(const ContainerStore& store) {
  auto ids = store.ids();
  if (!ids) {
    return ids.takeError();
  }
  std::vector<std::string> out;
  for (const auto& id : *ids) {
    auto state = store.current_state(id);
    if (state && state->running()) {
      out.push_back(id);
    } else if (!state) {
      llvm::consumeError(state.takeError());
    }
  }
  return out;
}

std::vector<std::string> stats_header() {
  return {"CONTAINER ID", "NAME",    "CPU %",     "MEM USAGE / LIMIT",
          "MEM %",        "NET I/O", "BLOCK I/O", "PIDS"};
}

std::vector<std::string> stats_columns(llvm::StringRef id, llvm::StringRef name,
                                       const ContainerStats& stats) {
  char cpu[32];
  char mem[32];
  std::snprintf(cpu, sizeof(cpu), "%.2f%%", stats.cpu_percent);
  std::snprintf(mem, sizeof(mem), "%.2f%%",
                stats.memory_limit > 0 ? 100.0 * static_cast<double>(stats.memory_bytes) /
                                             static_cast<double>(stats.memory_limit)
                                       : 0.0);
  return {id.substr(0, 12).str(),
          name.str(),
          cpu,
          bytes_size(stats.memory_bytes) + " / " + bytes_size(stats.memory_limit),
          mem,
          human_size(stats.net_rx, 4) + " / " + human_size(stats.net_tx, 4),
          human_size(stats.block_read, 4) + " / " + human_size(stats.block_write, 4),
          std::to_string(stats.pids)};
}

llvm::Expected<std::vector<std::string>> stats_row(const ContainerStore& store,
                                                   llvm::StringRef id) {
  auto spec = store.load_spec(id);
  if (!spec) {
    return spec.takeError();
  }
  auto stats = container_stats(store, id);
  if (!stats) {
    return stats.takeError();
  }
  return stats_columns(id, spec->name, *stats);
}

}  // namespace kiln::containers
