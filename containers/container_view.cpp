#include "containers/container_view.h"

#include <algorithm>

#include "containers/container_filter.h"
#include "containers/container_log.h"
#include "containers/container_network.h"
#include "oci/image_config.h"
#include "support/error.h"
#include "support/fs.h"
#include "support/go_template.h"
#include "support/units.h"

namespace kiln::containers {

namespace {

using Json = nlohmann::ordered_json;

int64_t seconds_between(int64_t from_ns, int64_t to_ns) {
  return std::max<int64_t>(0, (to_ns - from_ns) / 1000000000);
}

// Go's RFC3339Nano as encoding/json writes a time.Time (trailing zeros trimmed);
// the zero time for 0.
std::string json_time(int64_t ns) {
  if (ns == 0) {
    return "0001-01-01T00:00:00Z";
  }
  std::string text = rfc3339_utc(ns, 9);  // ...:05.123000000Z
  size_t dot = text.find('.');
  size_t end = text.size() - 1;  // the 'Z'
  size_t last = end;
  while (last > dot + 1 && text[last - 1] == '0') {
    --last;
  }
  if (last == dot + 1) {
    last = dot;  // no fraction at all
  }
  return text.substr(0, last) + "Z";
}

std::string health_word(const std::string& status) {
  return status == "starting" ? "health: starting" : status;
}

// docker's port map; an ephemeral port's HostPort is "" in HostConfig.PortBindings.
Json port_bindings(const std::vector<PublishedPort>& ports) {
  Json out = Json::object();
  for (const PublishedPort& p : ports) {
    out[std::to_string(p.container_port) + "/" + p.protocol].push_back(
        {{"HostIp", p.host_ip}, {"HostPort", p.host_port == 0 ? "" : std::to_string(p.host_port)}});
  }
  return out;
}

Json health_json(const HealthState& health) {
  Json log = Json::array();
  for (const HealthProbe& p : health.log) {
    log.push_back({{"Start", json_time(p.start_ns)},
                   {"End", json_time(p.end_ns)},
                   {"ExitCode", p.exit_code},
                   {"Output", p.output}});
  }
  return {{"Status", health.status}, {"FailingStreak", health.failing_streak}, {"Log", log}};
}

Json state_json(const ContainerState& state) {
  Json out = {{"Status", state_name(state).str()},
              {"Running", state.running()},
              {"Paused", state.paused},
              {"Restarting", state.status == ContainerStatus::restarting},
              {"OOMKilled", false},
              {"Dead", false},
              {"Pid", state.pid},
              {"ExitCode", state.exit_code},
              {"Error", state.error},
              {"StartedAt", json_time(state.started_ns)},
              {"FinishedAt", json_time(state.finished_ns)}};
  if (!state.health.status.empty()) {
    out["Health"] = health_json(state.health);
  }
  return out;
}

Json string_list(const std::vector<std::string>& items) {
  return items.empty() ? Json(nullptr) : Json(items);
}

Json config_json(const ContainerView& view, const oci::ContainerConfig& image) {
  const ContainerSpec& spec = view.spec;
  const auto& args = spec.process.args;
  std::vector<std::string> entrypoint(args.begin(), args.begin() + spec.entrypoint_size);
  std::vector<std::string> cmd(args.begin() + spec.entrypoint_size, args.end());
  Json exposed = Json::object();
  for (const auto& port : image.exposed_ports) {
    exposed[port] = Json::object();
  }
  for (const PublishedPort& p : spec.ports) {
    exposed[std::to_string(p.container_port) + "/" + p.protocol] = Json::object();
  }
  Json labels = Json::object();
  for (const auto& [key, value] : image.labels) {
    labels[key] = value;
  }
  Json out = {{"Hostname", spec.process.hostname},
              {"Domainname", ""},
              {"User", spec.process.user},
              {"AttachStdin", spec.interactive},
              {"AttachStdout", true},
              {"AttachStderr", true},
              {"Tty", spec.process.tty},
              {"OpenStdin", spec.interactive},
              {"StdinOnce", false},
              {"Env", string_list(spec.process.env)},
              {"Cmd", string_list(cmd)},
              {"Image", spec.image},
              {"Volumes", nullptr},
              {"WorkingDir", spec.process.cwd == "/" ? "" : spec.process.cwd},
              {"Entrypoint", string_list(entrypoint)},
              {"OnBuild", nullptr},
              {"Labels", labels},
              {"StopSignal", spec.stop_signal},
              {"StopTimeout", spec.stop_timeout}};
  if (!exposed.empty()) {
    out["ExposedPorts"] = exposed;
  }
  if (spec.healthcheck) {
    const oci::Healthcheck& h = *spec.healthcheck;
    out["Healthcheck"] = {{"Test", h.test},
                          {"Interval", h.interval},
                          {"Timeout", h.timeout},
                          {"StartPeriod", h.start_period},
                          {"Retries", h.retries}};
  }
  return out;
}

Json host_config_json(const ContainerSpec& spec) {
  Json binds = Json::array();
  for (const auto& m : spec.process.mounts) {
    if (m.kind == runtime::MountSpec::Kind::bind) {
      binds.push_back(m.source + ":" + m.destination +
                      (m.access == runtime::Access::read_only ? ":ro" : ""));
    }
  }
  return {{"Binds", binds.empty() ? Json(nullptr) : binds},
          {"LogConfig",
           {{"Type", "json-file"},
            {"Config", {{"max-size", std::to_string(spec.log_max_size)}, {"max-file", "2"}}}}},
          {"NetworkMode", spec.network_mode},
          {"PortBindings", port_bindings(spec.ports)},
          {"RestartPolicy",
           {{"Name", spec.restart.name()}, {"MaximumRetryCount", spec.restart.max_retries}}},
          {"AutoRemove", spec.auto_remove},
          {"ReadonlyRootfs", spec.process.rootfs_access == runtime::Access::read_only}};
}

Json mounts_json(const ContainerSpec& spec) {
  Json out = Json::array();
  for (const auto& m : spec.mount_records) {
    Json entry = {{"Type", m.type}};
    if (m.type == "volume") {
      entry["Name"] = m.name;
    }
    entry["Source"] = m.source;
    entry["Destination"] = m.destination;
    if (m.type == "volume") {
      entry["Driver"] = "local";
    }
    entry["Mode"] = m.type == "volume" ? "z" : "";
    entry["RW"] = m.rw;
    entry["Propagation"] = m.type == "bind" ? "rprivate" : "";
    out.push_back(entry);
  }
  if (!spec.mount_records.empty()) {
    return out;
  }
  for (const auto& m : spec.process.mounts) {
    bool bind = m.kind == runtime::MountSpec::Kind::bind;
    out.push_back({{"Type", bind ? "bind" : "tmpfs"},
                   {"Source", bind ? m.source : ""},
                   {"Destination", m.destination},
                   {"Mode", ""},
                   {"RW", m.access == runtime::Access::read_write},
                   {"Propagation", bind ? "rprivate" : ""}});
  }
  return out;
}

}  // namespace

llvm::Expected<ContainerView> load_view(const ContainerStore& store, const std::string& id) {
  auto spec = store.load_spec(id);
  if (!spec) {
    return spec.takeError();
  }
  auto state = store.current_state(id);
  if (!state) {
    return state.takeError();
  }
  return ContainerView{std::move(*spec), std::move(*state)};
}

llvm::Expected<std::vector<ContainerView>> list_containers(const ContainerStore& store) {
  auto ids = store.ids();
  if (!ids) {
    return ids.takeError();
  }
  std::vector<ContainerView> out;
  for (const auto& id : *ids) {
    auto view = load_view(store, id);
    if (!view) {
      llvm::consumeError(view.takeError());
      continue;
    }
    out.push_back(std::move(*view));
  }
  std::stable_sort(out.begin(), out.end(), [](const ContainerView& a, const ContainerView& b) {
    return a.spec.created_ns > b.spec.created_ns;
  });
  return out;
}

std::string status_text(const ContainerState& state, int64_t now) {
  switch (state.status) {
    case ContainerStatus::running: {
      std::string text = "Up " + human_duration(seconds_between(state.started_ns, now));
      if (state.paused) {
        text += " (Paused)";
      } else if (!state.health.status.empty()) {
        text += " (" + health_word(state.health.status) + ")";
      }
      return text;
    }
    case ContainerStatus::restarting:
      return "Restarting (" + std::to_string(state.exit_code) + ") " +
             human_duration(seconds_between(state.finished_ns, now)) + " ago";
    case ContainerStatus::created:
      return "Created";
    case ContainerStatus::exited:
      if (state.started_ns == 0) {
        return "Created";
      }
      return "Exited (" + std::to_string(state.exit_code) + ") " +
             human_duration(seconds_between(state.finished_ns, now)) + " ago";
  }
  return "";
}

std::string command_text(const ContainerSpec& spec) {
  std::string out;
  for (const auto& arg : spec.process.args) {
    out += (out.empty() ? "" : " ") + arg;
  }
  return out;
}

std::string ports_text(const ContainerView& view) {
  std::string out;
  for (const PublishedPort& p : containers::live_ports(view.spec, view.state)) {
    out += (out.empty() ? "" : ", ") + p.host_ip + ":" + std::to_string(p.host_port) + "->" +
           std::to_string(p.container_port) + "/" + p.protocol;
  }
  return out;
}

namespace {

// go-units/stringutils Ellipsis: at most `max` characters, the last one '…'.
std::string ellipsis(const std::string& text, size_t max) {
  std::vector<size_t> starts;  // byte offset of each code point
  for (size_t i = 0; i < text.size(); ++i) {
    if ((static_cast<unsigned char>(text[i]) & 0xC0) != 0x80) {
      starts.push_back(i);
    }
  }
  if (starts.size() <= max) {
    return text;
  }
  return text.substr(0, starts[max - 1]) + "…";
}

std::string labels_text(const ContainerSpec& spec) {
  std::string out;
  for (const auto& [key, value] : spec.labels) {
    out += (out.empty() ? "" : ",") + key + "=" + value;
  }
  return out;
}

std::string networks_text(const ContainerSpec& spec) {
  if (spec.networks.empty()) {
    return spec.network_mode;
  }
  std::string out;
  for (const auto& n : spec.networks) {
    out += (out.empty() ? "" : ",") + n.name;
  }
  return out;
}

}  // namespace

nlohmann::ordered_json ps_row(const ContainerView& v, bool no_trunc, int64_t now_ns) {
  std::string command = command_text(v.spec);
  int64_t created = v.spec.created_ns / 1000000000;
  return {{"Command", support::go_quote(no_trunc ? command : ellipsis(command, 20))},
          {"CreatedAt", go_time_string(created)},
          {"ID", no_trunc ? v.spec.id : v.spec.id.substr(0, 12)},
          {"Image", v.spec.image},
          {"Labels", labels_text(v.spec)},
          {"LocalVolumes", "0"},
          {"Mounts", ""},
          {"Names", v.spec.name},
          {"Networks", networks_text(v.spec)},
          {"Ports", ports_text(v)},
          {"RunningFor", human_duration(now_ns / 1000000000 - created) + " ago"},
          {"Size", "0B"},
          {"State", state_name(v.state).str()},
          {"Status", status_text(v.state, now_ns)}};
}

const nlohmann::ordered_json& ps_header() {
  static const Json header = {
      {"Command", "COMMAND"}, {"CreatedAt", "CREATED AT"}, {"ID", "CONTAINER ID"},
      {"Image", "IMAGE"},     {"Labels", "LABELS"},        {"LocalVolumes", "LOCAL VOLUMES"},
      {"Mounts", "MOUNTS"},   {"Names", "NAMES"},          {"Networks", "NETWORKS"},
      {"Ports", "PORTS"},     {"RunningFor", "CREATED"},   {"Size", "SIZE"},
      {"State", "STATE"},     {"Status", "STATUS"}};
  return header;
}

llvm::Expected<std::vector<nlohmann::ordered_json>> ps_rows(const ContainerStore& store,
                                                            const PsOptions& options,
                                                            int64_t now_ns) {
  if (auto removed = store.reclaim_lost(); !removed) {
    llvm::consumeError(removed.takeError());
  }
  auto views = list_containers(store);
  if (!views) {
    return views.takeError();
  }
  auto filter = parse_container_filters(options.filters);
  if (!filter) {
    return filter.takeError();
  }
  std::vector<Json> rows;
  for (const ContainerView& v : *views) {
    if ((options.all || filter->has_status() || v.state.running()) &&
        filter_matches(*filter, v.spec, v.state)) {
      rows.push_back(ps_row(v, options.no_trunc, now_ns));
    }
  }
  return rows;
}

llvm::Expected<std::vector<std::string>> port_lines(const ContainerView& view,
                                                    llvm::StringRef wanted) {
  std::vector<std::string> out;
  for (const auto& p : live_ports(view.spec, view.state)) {
    std::string private_port = std::to_string(p.container_port) + "/" + p.protocol;
    std::string host = p.host_ip + ":" + std::to_string(p.host_port);
    if (wanted.empty()) {
      out.push_back(private_port + " -> " + host);
    } else if (wanted == private_port || wanted == std::to_string(p.container_port)) {
      out.push_back(host);
    }
  }
  if (!wanted.empty() && out.empty()) {
    return make_error("no public port '" + wanted.str() + "' published for " + view.spec.name);
  }
  return out;
}

nlohmann::ordered_json inspect_json(const ContainerStore& store, const ContainerView& view) {
  const ContainerSpec& spec = view.spec;
  ContainerPaths paths = store.paths(spec.id);
  oci::ContainerConfig image;
  if (auto text = fs::read_file(paths.image_config())) {
    if (auto parsed = oci::parse_image_config(*text)) {
      image = parsed->config;
    } else {
      llvm::consumeError(parsed.takeError());
    }
  } else {
    llvm::consumeError(text.takeError());
  }
  const auto& args = spec.process.args;
  Json out;
  out["Id"] = spec.id;
  out["Created"] = json_time(spec.created_ns);
  out["Path"] = args.empty() ? "" : args.front();
  out["Args"] =
      args.empty() ? Json::array() : Json(std::vector<std::string>(args.begin() + 1, args.end()));
  out["State"] = state_json(view.state);
  out["Image"] = spec.image_id;
  out["LogPath"] = paths.log();
  out["Name"] = "/" + spec.name;
  out["RestartCount"] = view.state.restart_count;
  out["Driver"] = "overlay2";
  out["Platform"] = "linux";
  out["HostConfig"] = host_config_json(spec);
  out["GraphDriver"] = {{"Data",
                         {{"MergedDir", paths.rootfs()},
                          {"UpperDir", paths.snapshot() + "/upper"},
                          {"WorkDir", paths.snapshot() + "/work"}}},
                        {"Name", "overlay2"}};
  out["Mounts"] = mounts_json(spec);
  out["Config"] = config_json(view, image);
  Json networks = Json::object();
  std::string first_ip;
  for (const auto& place : network_places(store, spec)) {
    networks[place.network] = {{"Aliases", place.aliases},
                               {"NetworkID", place.network_id},
                               {"Gateway", place.ip.empty() ? "" : place.gateway},
                               {"IPAddress", place.ip},
                               {"IPPrefixLen", place.prefix_len}};
    if (first_ip.empty()) {
      first_ip = place.ip;
    }
  }
  out["NetworkSettings"] = {{"Ports", port_bindings(containers::live_ports(spec, view.state))},
                            {"IPAddress", first_ip},
                            {"Networks", networks}};
  return out;
}

llvm::Expected<std::optional<nlohmann::ordered_json>> inspect_container(llvm::StringRef root,
                                                                        llvm::StringRef text) {
  if (!fs::exists(fs::join(root, "containers"))) {
    return std::nullopt;
  }
  auto store = ContainerStore::open(root);
  if (!store) {
    return store.takeError();
  }
  auto id = store->resolve(text);
  if (!id) {
    llvm::consumeError(id.takeError());
    return std::nullopt;
  }
  auto view = load_view(*store, *id);
  if (!view) {
    return view.takeError();
  }
  return std::optional<nlohmann::ordered_json>(inspect_json(*store, *view));
}

}  // namespace kiln::containers
