#include "compose/view.h"

#include <set>

#include <llvm/ADT/StringExtras.h>

#include "compose/ops.h"
#include "compose/service.h"
#include "oci/reference.h"
#include "support/error.h"
#include "support/units.h"

namespace kiln::compose {
namespace {

constexpr int64_t kNsPerSecond = 1000000000LL;

std::string service_of(const ContainerInfo& c) {
  auto it = c.labels.find(kServiceLabel);
  return it == c.labels.end() ? "" : it->second;
}

// "<duration> ago" from `then_ns` to `now_ns`, in whole seconds as docker counts.
std::string ago(int64_t then_ns, int64_t now_ns) {
  return human_duration(now_ns / kNsPerSecond - then_ns / kNsPerSecond) + " ago";
}

}  // namespace

llvm::Expected<std::vector<ContainerInfo>> ps_containers(Engine& engine, const Project& project,
                                                         const std::vector<std::string>& services,
                                                         bool all) {
  auto list = project_containers(engine, project, services);
  if (!list) {
    return list.takeError();
  }
  std::vector<ContainerInfo> shown;
  for (auto& c : *list) {
    if (all || c.state == "running" || c.state == "restarting") {
      shown.push_back(std::move(c));
    }
  }
  return shown;
}

std::vector<std::string> service_names(const std::vector<ContainerInfo>& containers) {
  std::vector<std::string> names;
  std::set<std::string> seen;
  for (const auto& c : containers) {
    if (seen.insert(service_of(c)).second) {
      names.push_back(service_of(c));
    }
  }
  return names;
}

std::string ps_status(const ContainerInfo& c, int64_t now_ns) {
  if (c.state == "running") {
    std::string s = "Up " + human_duration((now_ns - c.started_ns) / kNsPerSecond);
    return c.health.empty() ? s : s + " (" + c.health + ")";
  }
  if (c.state == "restarting" || c.state == "exited") {
    return (c.state == "exited" ? "Exited (" : "Restarting (") + std::to_string(c.exit_code) +
           ") " + human_duration((now_ns - c.finished_ns) / kNsPerSecond) + " ago";
  }
  return "Created";
}

std::string ps_command(const ContainerInfo& c) {
  std::string cmd = llvm::join(c.command, " ");
  if (cmd.size() > 20) {
    cmd = cmd.substr(0, 19) + "…";
  }
  return "\"" + cmd + "\"";
}

nlohmann::ordered_json ps_json(const ContainerInfo& c, const std::string& project, int64_t now_ns) {
  nlohmann::ordered_json j;
  j["Command"] = ps_command(c);
  j["CreatedAt"] = go_time_string(c.created_ns / kNsPerSecond);
  j["ExitCode"] = c.exit_code;
  j["Health"] = c.health;
  j["ID"] = c.id;
  j["Image"] = c.image;
  j["Labels"] = c.labels;
  j["Name"] = c.name;
  j["Names"] = c.name;
  j["Ports"] = llvm::join(c.ports, ", ");
  j["Project"] = project;
  j["RunningFor"] = ago(c.created_ns, now_ns);
  j["Service"] = service_of(c);
  j["State"] = c.state;
  j["Status"] = ps_status(c, now_ns);
  return j;
}

std::vector<std::vector<std::string>> ps_table(const std::vector<ContainerInfo>& containers,
                                               int64_t now_ns) {
  std::vector<std::vector<std::string>> rows = {
      {"NAME", "IMAGE", "COMMAND", "SERVICE", "CREATED", "STATUS", "PORTS"}};
  for (const auto& c : containers) {
    rows.push_back({c.name, c.image, ps_command(c), service_of(c), ago(c.created_ns, now_ns),
                    ps_status(c, now_ns), llvm::join(c.ports, ", ")});
  }
  return rows;
}

llvm::Expected<std::string> published_port(Engine& engine, const Project& project,
                                           const std::string& service, int index, int port,
                                           const std::string& protocol) {
  auto container = service_container(engine, project, service, index);
  if (!container) {
    return container.takeError();
  }
  // ContainerInfo::ports reads "127.0.0.1:49153->8000/tcp".
  std::string wanted = "->" + std::to_string(port) + "/" + protocol;
  for (llvm::StringRef p : container->ports) {
    if (p.endswith(wanted)) {
      return p.drop_back(wanted.size()).str();
    }
  }
  return make_error("no port " + std::to_string(port) + "/" + protocol + " for container " +
                    container->name);
}

llvm::Expected<std::vector<ContainerProcesses>> top(Engine& engine, const Project& project,
                                                    const std::vector<std::string>& services) {
  auto list = project_containers(engine, project, services);
  if (!list) {
    return list.takeError();
  }
  std::vector<ContainerProcesses> out;
  for (const auto& c : *list) {
    if (c.state != "running" || c.pid <= 0) {
      continue;
    }
    auto processes = engine.processes(c.id);
    if (!processes) {
      llvm::consumeError(processes.takeError());
      continue;
    }
    out.push_back({c.name, std::move(*processes)});
  }
  return out;
}

std::vector<std::vector<std::string>> top_rows(const ContainerProcesses& container) {
  std::vector<std::vector<std::string>> rows = {{"UID", "PID", "PPID", "CMD"}};
  for (const auto& p : container.processes) {
    rows.push_back({p.uid, std::to_string(p.pid), p.ppid, p.command});
  }
  return rows;
}

std::vector<std::vector<std::string>> images_table(const std::vector<ContainerInfo>& containers) {
  std::vector<std::vector<std::string>> rows = {{"CONTAINER", "REPOSITORY", "TAG", "IMAGE ID"}};
  for (const auto& c : containers) {
    auto [repo, tag] = oci::familiar_repo_tag(c.image);
    rows.push_back({c.name, repo, tag, llvm::StringRef(c.image_id).substr(7, 12).str()});
  }
  return rows;
}

}  // namespace kiln::compose
