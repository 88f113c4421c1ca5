#include "containers/container_json.h"

#include <nlohmann/json.hpp>

#include "support/error.h"

namespace kiln::containers {
namespace {

using Json = nlohmann::json;

Json process_to_json(const runtime::ProcessSpec& p) {
  Json mounts = Json::array();
  for (const auto& m : p.mounts) {
    mounts.push_back({{"kind", m.kind == runtime::MountSpec::Kind::tmpfs ? "tmpfs" : "bind"},
                      {"source", m.source},
                      {"destination", m.destination},
                      {"readonly", m.access == runtime::Access::read_only},
                      {"tmpfs_size", m.tmpfs_size_bytes}});
  }
  Json j = {{"args", p.args},
            {"env", p.env},
            {"cwd", p.cwd},
            {"user", p.user},
            {"tty", p.tty},
            {"network", p.network == runtime::NetworkMode::none ? "none" : "host"},
            {"hostname", p.hostname},
            {"mounts", mounts},
            {"readonly_rootfs", p.rootfs_access == runtime::Access::read_only},
            {"memory_limit", p.memory_limit},
            {"cpus", p.cpus}};
  if (p.seccomp.kind != runtime::Seccomp::Kind::docker_default) {
    j["seccomp"] = p.seccomp.kind == runtime::Seccomp::Kind::unconfined
                       ? Json("unconfined")
                       : Json::parse(p.seccomp.oci_json, nullptr, false);
  }
  if (p.hosts) {
    j["hosts"] = *p.hosts;
  }
  if (p.resolv_conf) {
    j["resolv_conf"] = *p.resolv_conf;
  }
  return j;
}

runtime::ProcessSpec process_from_json(const Json& j) {
  runtime::ProcessSpec p;
  p.args = j.value("args", std::vector<std::string>{});
  p.env = j.value("env", std::vector<std::string>{});
  p.cwd = j.value("cwd", "/");
  p.user = j.value("user", "");
  p.tty = j.value("tty", false);
  p.network = j.value("network", "host") == "none" ? runtime::NetworkMode::none
                                                   : runtime::NetworkMode::host;
  p.hostname = j.value("hostname", "");
  for (const auto& m : j.value("mounts", Json::array())) {
    runtime::MountSpec ms;
    ms.kind = m.value("kind", "bind") == "tmpfs" ? runtime::MountSpec::Kind::tmpfs
                                                 : runtime::MountSpec::Kind::bind;
    ms.source = m.value("source", "");
    ms.destination = m.value("destination", "");
    ms.access =
        m.value("readonly", false) ? runtime::Access::read_only : runtime::Access::read_write;
    ms.tmpfs_size_bytes = m.value("tmpfs_size", uint64_t{0});
    p.mounts.push_back(ms);
  }
  p.rootfs_access =
      j.value("readonly_rootfs", false) ? runtime::Access::read_only : runtime::Access::read_write;
  p.memory_limit = j.value("memory_limit", int64_t{0});
  p.cpus = j.value("cpus", 0.0);
  if (j.contains("hosts")) {
    p.hosts = j["hosts"].get<std::string>();
  }
  if (j.contains("resolv_conf")) {
    p.resolv_conf = j["resolv_conf"].get<std::string>();
  }
  if (j.contains("seccomp")) {
    p.seccomp = j["seccomp"].is_string()
                    ? runtime::Seccomp{runtime::Seccomp::Kind::unconfined, ""}
                    : runtime::Seccomp{runtime::Seccomp::Kind::custom, j["seccomp"].dump()};
  }
  return p;
}

Json spec_to_json(const ContainerSpec& s) {
  Json ports = Json::array();
  for (const auto& p : s.ports) {
    ports.push_back({{"host_ip", p.host_ip},
                     {"host_port", p.host_port},
                     {"container_port", p.container_port},
                     {"protocol", p.protocol}});
  }
  Json j = {{"id", s.id},
            {"name", s.name},
            {"image", s.image},
            {"image_id", s.image_id},
            {"created_ns", s.created_ns},
            {"process", process_to_json(s.process)},
            {"entrypoint_size", s.entrypoint_size},
            {"ports", ports},
            {"restart", {{"name", s.restart.name()}, {"max_retries", s.restart.max_retries}}},
            {"stop_signal", s.stop_signal},
            {"stop_timeout", s.stop_timeout},
            {"auto_remove", s.auto_remove},
            {"interactive", s.interactive},
            {"log_max_size", s.log_max_size},
            {"network_mode", s.network_mode},
            {"extra_hosts", s.extra_hosts},
            {"labels", s.labels}};
  Json networks = Json::array();
  for (const auto& n : s.networks) {
    networks.push_back({{"name", n.name}, {"aliases", n.aliases}});
  }
  j["networks"] = networks;
  Json mounts = Json::array();
  for (const auto& m : s.mount_records) {
    mounts.push_back({{"Type", m.type},
                      {"Name", m.name},
                      {"Source", m.source},
                      {"Destination", m.destination},
                      {"RW", m.rw}});
  }
  j["Mounts"] = mounts;
  if (s.healthcheck) {
    const oci::Healthcheck& h = *s.healthcheck;
    j["healthcheck"] = {{"test", h.test},
                        {"interval", h.interval},
                        {"timeout", h.timeout},
                        {"start_period", h.start_period},
                        {"start_interval", h.start_interval},
                        {"retries", h.retries}};
  }
  return j;
}

llvm::Expected<ContainerSpec> spec_from_json(const Json& j) {
  try {
    ContainerSpec s;
    s.id = j.at("id").get<std::string>();
    s.name = j.value("name", "");
    s.image = j.value("image", "");
    s.image_id = j.value("image_id", "");
    s.created_ns = j.value("created_ns", int64_t{0});
    s.process = process_from_json(j.at("process"));
    s.entrypoint_size = j.value("entrypoint_size", size_t{0});
    for (const auto& p : j.value("ports", Json::array())) {
      s.ports.push_back({p.value("host_ip", "127.0.0.1"), p.value("host_port", uint16_t{0}),
                         p.value("container_port", uint16_t{0}), p.value("protocol", "tcp")});
    }
    if (j.contains("restart")) {
      auto policy = parse_restart_policy(j["restart"].value("name", "no"));
      if (!policy) {
        return policy.takeError();
      }
      s.restart = *policy;
      s.restart.max_retries = j["restart"].value("max_retries", 0);
    }
    s.stop_signal = j.value("stop_signal", "SIGTERM");
    s.stop_timeout = j.value("stop_timeout", 10);
    s.auto_remove = j.value("auto_remove", false);
    s.interactive = j.value("interactive", false);
    s.log_max_size = j.value("log_max_size", s.log_max_size);
    s.network_mode = j.value("network_mode", "");
    if (s.network_mode.empty()) {
      s.network_mode = s.process.network == runtime::NetworkMode::none ? "none" : "host";
    }
    for (const auto& n : j.value("networks", Json::array())) {
      s.networks.push_back({n.value("name", ""), n.value("aliases", std::vector<std::string>{})});
    }
    s.extra_hosts = j.value("extra_hosts", std::vector<std::string>{});
    s.labels = j.value("labels", std::map<std::string, std::string>{});
    for (const auto& m : j.value("Mounts", Json::array())) {
      s.mount_records.push_back({m.value("Type", ""), m.value("Name", ""), m.value("Source", ""),
                                 m.value("Destination", ""), m.value("RW", true)});
    }
    if (j.contains("healthcheck")) {
      const Json& h = j["healthcheck"];
      oci::Healthcheck hc;
      hc.test = h.value("test", std::vector<std::string>{});
      hc.interval = h.value("interval", int64_t{0});
      hc.timeout = h.value("timeout", int64_t{0});
      hc.start_period = h.value("start_period", int64_t{0});
      hc.start_interval = h.value("start_interval", int64_t{0});
      hc.retries = h.value("retries", 0);
      s.healthcheck = hc;
    }
    return s;
  } catch (const std::exception& e) {
    return make_error(std::string("invalid container config: ") + e.what());
  }
}

Json state_to_json(const ContainerState& s) {
  Json log = Json::array();
  for (const auto& p : s.health.log) {
    log.push_back({{"start_ns", p.start_ns},
                   {"end_ns", p.end_ns},
                   {"exit_code", p.exit_code},
                   {"output", p.output}});
  }
  return {
      {"status", status_name(s.status).str()},
      {"pid", s.pid},
      {"monitor_pid", s.monitor_pid},
      {"exit_code", s.exit_code},
      {"started_ns", s.started_ns},
      {"finished_ns", s.finished_ns},
      {"restart_count", s.restart_count},
      {"error", s.error},
      {"host_ports", s.host_ports},
      {"health",
       {{"status", s.health.status}, {"failing_streak", s.health.failing_streak}, {"log", log}}}};
}

ContainerState state_from_json(const Json& j) {
  ContainerState s;
  std::string status = j.value("status", "created");
  s.status = status == "running"      ? ContainerStatus::running
             : status == "restarting" ? ContainerStatus::restarting
             : status == "exited"     ? ContainerStatus::exited
                                      : ContainerStatus::created;
  s.pid = j.value("pid", 0);
  s.monitor_pid = j.value("monitor_pid", 0);
  s.exit_code = j.value("exit_code", 0);
  s.started_ns = j.value("started_ns", int64_t{0});
  s.finished_ns = j.value("finished_ns", int64_t{0});
  s.restart_count = j.value("restart_count", 0);
  s.error = j.value("error", "");
  s.host_ports = j.value("host_ports", std::vector<uint16_t>{});
  if (j.contains("health") && j["health"].is_object()) {
    const Json& h = j["health"];
    s.health.status = h.value("status", "");
    s.health.failing_streak = h.value("failing_streak", 0);
    for (const auto& p : h.value("log", Json::array())) {
      s.health.log.push_back({p.value("start_ns", int64_t{0}), p.value("end_ns", int64_t{0}),
                              p.value("exit_code", 0), p.value("output", "")});
    }
  }
  return s;
}

}  // namespace

std::string serialize_spec(const ContainerSpec& spec) { return spec_to_json(spec).dump(2) + "\n"; }

llvm::Expected<ContainerSpec> parse_spec(llvm::StringRef text) {
  Json j = Json::parse(text.begin(), text.end(), nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    return make_error("invalid container config: not a JSON object");
  }
  return spec_from_json(j);
}

std::string serialize_state(const ContainerState& state) {
  return state_to_json(state).dump() + "\n";
}

llvm::Expected<ContainerState> parse_state(llvm::StringRef text) {
  Json j = Json::parse(text.begin(), text.end(), nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    return make_error("invalid container state: not a JSON object");
  }
  try {
    return state_from_json(j);
  } catch (const std::exception& e) {
    return make_error(std::string("invalid container state: ") + e.what());
  }
}

}  // namespace kiln::containers
