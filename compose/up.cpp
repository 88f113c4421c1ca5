// `compose up` (ops.h): resources, then each service in dependency order.
#include <chrono>
#include <mutex>
#include <optional>
#include <set>
#include <thread>

#include <llvm/ADT/StringExtras.h>

#include "compose/ops.h"
#include "support/error.h"

namespace kiln::compose {
namespace {

using Clock = std::chrono::steady_clock;

int number_of(const ContainerInfo& c) {
  auto it = c.labels.find(kNumberLabel);
  return it == c.labels.end() ? 0 : std::atoi(it->second.c_str());
}

bool running(const ContainerInfo& c) { return c.state == "running" || c.state == "restarting"; }

// The services named and (unless no_deps) everything they depend on.
llvm::Expected<std::set<std::string>> selection(const std::vector<ServiceConfig>& services,
                                                const std::vector<std::string>& named,
                                                bool no_deps) {
  std::map<std::string, const ServiceConfig*> by_name;
  for (const auto& s : services) {
    by_name[s.name] = &s;
  }
  std::set<std::string> out;
  std::vector<std::string> todo = named;
  if (named.empty()) {
    for (const auto& s : services) {
      todo.push_back(s.name);
    }
  }
  for (const auto& n : todo) {
    if (!by_name.count(n)) {
      return llvm::make_error<UsageError>("no such service: " + n);
    }
  }
  while (!todo.empty()) {
    std::string n = todo.back();
    todo.pop_back();
    if (!out.insert(n).second || no_deps) {
      continue;
    }
    for (const auto& d : by_name.at(n)->depends_on) {
      if (by_name.count(d.service)) {
        todo.push_back(d.service);
      }
    }
  }
  return out;
}

llvm::Error ensure_networks(Engine& engine, const Project& project,
                            const std::vector<const ServiceConfig*>& services,
                            ComposeEvents& events) {
  const Node* declared = project.model.find("networks");
  std::set<std::string> keys;
  for (const auto* s : services) {
    if (const Node* nets = s->model.find("networks"); nets && !s->model.find("network_mode")) {
      for (const auto& [key, spec] : nets->entries) {
        keys.insert(key);
      }
    }
  }
  for (const auto& key : keys) {
    const Node* spec = declared ? declared->find(key) : nullptr;
    std::string name = network_name(project, key);
    auto exists = engine.network_exists(name);
    if (!exists) {
      return exists.takeError();
    }
    if (spec && spec->find("external") && spec->find("external")->text == "true") {
      if (!*exists) {
        return make_error("network " + name + " declared as external, but could not be found");
      }
      continue;
    }
    if (*exists) {
      continue;
    }
    if (auto err = engine.create_network(name, {{kProjectLabel, project.name},
                                                {kNetworkLabel, key},
                                                {"com.docker.compose.version", kComposeVersion}})) {
      return err;
    }
    events.status("Network", name, "Created");
  }
  return llvm::Error::success();
}

llvm::Error ensure_volumes(Engine& engine, const Project& project,
                           const std::vector<const ServiceConfig*>& services,
                           ComposeEvents& events) {
  const Node* declared = project.model.find("volumes");
  std::set<std::string> keys;
  for (const auto* s : services) {
    if (const Node* vols = s->model.find("volumes")) {
      for (const Node& v : vols->items) {
        const Node* type = v.find("type");
        const Node* source = v.find("source");
        if (type && type->text == "volume" && source) {
          keys.insert(source->text);
        }
      }
    }
  }
  for (const auto& key : keys) {
    const Node* spec = declared ? declared->find(key) : nullptr;
    std::string name = volume_name(project, key);
    auto exists = engine.volume_exists(name);
    if (!exists) {
      return exists.takeError();
    }
    if (spec && spec->find("external") && spec->find("external")->text == "true") {
      if (!*exists) {
        return make_error("external volume \"" + name + "\" not found");
      }
      continue;
    }
    if (*exists) {
      continue;
    }
    if (auto err = engine.create_volume(name, {{kProjectLabel, project.name},
                                               {kVolumeLabel, key},
                                               {"com.docker.compose.version", kComposeVersion}})) {
      return err;
    }
    events.status("Volume", "\"" + name + "\"", "Created");
  }
  return llvm::Error::success();
}

// Anonymous volumes of a request: created with the project's label so that
// `down -v` finds them.
llvm::Error ensure_anonymous_volumes(Engine& engine, const Project& project,
                                     const ContainerRequest& request) {
  for (const auto& m : request.mounts) {
    if (m.type != MountRequest::Type::volume || m.source.find('_') != std::string::npos ||
        m.source.size() != 64) {
      continue;
    }
    if (auto err =
            engine.create_volume(m.source, {{kProjectLabel, project.name},
                                            {kVolumeLabel, m.source},
                                            {"com.docker.compose.volume.anonymous", "True"}})) {
      return err;
    }
  }
  return llvm::Error::success();
}

bool timed_out(Clock::time_point deadline) {
  return deadline != Clock::time_point::max() && Clock::now() > deadline;
}

}  // namespace

llvm::Error wait_condition(Engine& engine, const ContainerInfo& c, const std::string& condition,
                           Clock::time_point deadline, ComposeEvents& events, bool for_up_wait);

llvm::Error wait_condition(Engine& engine, const ContainerInfo& c, const std::string& condition,
                           Clock::time_point deadline, ComposeEvents& events, bool for_up_wait) {
  if (condition == "service_started") {
    return llvm::Error::success();
  }
  events.status("Container", c.name, "Waiting");
  while (true) {
    auto info = engine.inspect_container(c.id);
    if (!info) {
      return info.takeError();
    }
    if (condition == "service_healthy") {
      if (info->health == "healthy") {
        events.status("Container", c.name, "Healthy");
        return llvm::Error::success();
      }
      if (info->health.empty() && !for_up_wait) {
        return make_error("container " + c.name + " has no healthcheck configured");
      }
      if (info->health.empty() && running(*info)) {
        events.status("Container", c.name, "Running");
        return llvm::Error::success();
      }
      if (info->health == "unhealthy") {
        std::string output = llvm::StringRef(info->health_output).trim().str();
        return make_error((for_up_wait ? "container " : "dependency failed to start: container ") +
                          c.name + " is unhealthy" + (output.empty() ? "" : ": " + output));
      }
      if (info->state == "exited") {
        return make_error((for_up_wait ? "container " : "dependency failed to start: container ") +
                          c.name + " exited (" + std::to_string(info->exit_code) + ")");
      }
    } else if (condition == "service_completed_successfully") {
      if (info->state == "exited") {
        if (info->exit_code != 0) {
          return make_error("service \"" + info->labels[kServiceLabel] +
                            "\" didn't complete successfully: exit " +
                            std::to_string(info->exit_code));
        }
        events.status("Container", c.name, "Exited");
        return llvm::Error::success();
      }
    }
    if (timed_out(deadline)) {
      return make_error("timeout waiting for container " + c.name);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

llvm::Error parse_scale(const std::vector<std::string>& values, std::map<std::string, int>& scale) {
  for (const auto& s : values) {
    auto [name, number] = llvm::StringRef(s).split('=');
    int n = 0;
    if (name.empty() || number.getAsInteger(10, n) || n < 0) {
      return llvm::make_error<UsageError>("invalid --scale " + quote(s) +
                                          " (expected SERVICE=NUM)");
    }
    scale[name.str()] = n;
  }
  return llvm::Error::success();
}

llvm::Expected<std::vector<ContainerInfo>> project_containers(
    Engine& engine, const Project& project, const std::vector<std::string>& services, bool oneoff) {
  auto all = engine.list_containers({{kProjectLabel, project.name}});
  if (!all) {
    return all.takeError();
  }
  std::vector<ContainerInfo> out;
  for (auto& c : *all) {
    if (!oneoff && c.labels[kOneoffLabel] == "True") {
      continue;
    }
    const std::string& svc = c.labels[kServiceLabel];
    if (!services.empty() && std::find(services.begin(), services.end(), svc) == services.end()) {
      continue;
    }
    out.push_back(std::move(c));
  }
  std::sort(out.begin(), out.end(), [](const ContainerInfo& a, const ContainerInfo& b) {
    auto sa = a.labels.at(kServiceLabel);
    auto sb = b.labels.at(kServiceLabel);
    return sa != sb                       ? sa < sb
           : number_of(a) != number_of(b) ? number_of(a) < number_of(b)
                                          : a.name < b.name;
  });
  return out;
}

namespace {

// Services whose containers this `up` recreated, for depends_on's `restart: true`.
struct Recreated {
  std::mutex mu;
  std::set<std::string> services;
  void add(const std::string& s) {
    std::lock_guard lock(mu);
    services.insert(s);
  }
  bool has(const std::string& s) {
    std::lock_guard lock(mu);
    return services.count(s) != 0;
  }
};

llvm::Error converge_service(Engine& engine, const Project& project, const ServiceConfig& s,
                             const UpOptions& options, ComposeEvents& events,
                             Recreated& recreated) {
  auto image_id = engine.image_id(s.image);
  if (!image_id) {
    return image_id.takeError();
  }
  if (image_id->empty()) {
    return make_error("service " + quote(s.name) + ": image " + quote(s.image) +
                      " is not in the store (kiln compose pull or build it)");
  }
  std::string hash = service_hash(s, *image_id);
  auto existing = project_containers(engine, project, {s.name});
  if (!existing) {
    return existing.takeError();
  }
  int scale = options.scale.count(s.name) ? options.scale.at(s.name) : s.replicas;
  if (scale > 1 && !s.container_name.empty()) {
    return make_error("service " + quote(s.name) + ": container_name " + quote(s.container_name) +
                      " cannot be scaled to " + std::to_string(scale) + " containers");
  }
  std::map<int, ContainerInfo> by_number;
  for (auto& c : *existing) {
    by_number[number_of(c)] = c;
  }
  for (int n = 1; n <= scale; ++n) {
    auto request = container_request(project, s, n, *image_id);
    if (!request) {
      return request.takeError();
    }
    if (auto err = ensure_anonymous_volumes(engine, project, *request)) {
      return err;
    }
    auto it = by_number.find(n);
    bool recreate = false;
    if (it != by_number.end()) {
      const ContainerInfo& c = it->second;
      bool changed = c.labels.count(kHashLabel) == 0 || c.labels.at(kHashLabel) != hash;
      if ((changed || options.force_recreate) && !options.no_recreate) {
        if (running(c)) {
          if (auto err = engine.stop_container(c.id, -1)) {
            return err;
          }
        }
        if (auto err = engine.remove_container(c.id, true)) {
          return err;
        }
        recreate = true;
        recreated.add(s.name);
      } else {
        if (running(c)) {
          events.status("Container", c.name, "Running");
          continue;
        }
        if (auto err = engine.start_container(c.id)) {
          return with_context(std::move(err), "start container " + quote(c.name));
        }
        events.status("Container", c.name, "Started");
        continue;
      }
    }
    auto id = engine.create_container(*request);
    if (!id) {
      return with_context(id.takeError(), "create container " + quote(request->name));
    }
    events.status("Container", request->name, recreate ? "Recreated" : "Created");
    if (auto err = engine.start_container(*id)) {
      return with_context(std::move(err), "start container " + quote(request->name));
    }
    events.status("Container", request->name, "Started");
  }
  for (auto& [n, c] : by_number) {
    if (n > scale) {
      if (running(c)) {
        if (auto err = engine.stop_container(c.id, -1)) {
          return err;
        }
        events.status("Container", c.name, "Stopped");
      }
      if (auto err = engine.remove_container(c.id, true)) {
        return err;
      }
      events.status("Container", c.name, "Removed");
    }
  }
  return llvm::Error::success();
}

llvm::Error handle_orphans(Engine& engine, const Project& project, bool remove,
                           ComposeEvents& events) {
  auto all = project_containers(engine, project, {});
  if (!all) {
    return all.takeError();
  }
  const Node* services = project.model.find("services");
  std::vector<ContainerInfo> orphans;
  for (auto& c : *all) {
    const std::string& svc = c.labels[kServiceLabel];
    bool disabled = std::find(project.disabled_services.begin(), project.disabled_services.end(),
                              svc) != project.disabled_services.end();
    if (!disabled && (!services || !services->find(svc))) {
      orphans.push_back(c);
    }
  }
  if (orphans.empty()) {
    return llvm::Error::success();
  }
  if (!remove) {
    std::vector<std::string> names;
    for (const auto& c : orphans) {
      names.push_back(c.name);
    }
    events.warning("Found orphan containers ([" + llvm::join(names, " ") +
                   "]) for this project. If you removed or renamed this service in your compose "
                   "file, you can run this command with the --remove-orphans flag to clean it up.");
    return llvm::Error::success();
  }
  for (const auto& c : orphans) {
    if (running(c)) {
      if (auto err = engine.stop_container(c.id, -1)) {
        return err;
      }
    }
    if (auto err = engine.remove_container(c.id, true)) {
      return err;
    }
    events.status("Container", c.name, "Removed");
  }
  return llvm::Error::success();
}

// Waits for the service's dependencies' conditions, then converges it.
llvm::Error start_service(Engine& engine, const Project& project, const ServiceConfig& s,
                          const std::set<std::string>& selected, const UpOptions& options,
                          ComposeEvents& events, Recreated& recreated) {
  bool restart = false;
  for (const auto& dep : s.depends_on) {
    if (!selected.count(dep.service) || options.no_deps) {
      continue;
    }
    restart = restart || (dep.restart && recreated.has(dep.service));
    auto deps = project_containers(engine, project, {dep.service});
    if (!deps) {
      return deps.takeError();
    }
    for (const auto& c : *deps) {
      if (auto err =
              wait_condition(engine, c, dep.condition, Clock::time_point::max(), events, false)) {
        return err;
      }
    }
  }
  if (auto err = converge_service(engine, project, s, options, events, recreated)) {
    return err;
  }
  if (!restart || recreated.has(s.name)) {
    return llvm::Error::success();
  }
  // depends_on `restart: true`: a dependency was recreated, so this service restarts.
  auto containers = project_containers(engine, project, {s.name});
  if (!containers) {
    return containers.takeError();
  }
  for (const auto& c : *containers) {
    if (running(c)) {
      if (auto err = engine.stop_container(c.id, -1)) {
        return err;
      }
    }
    if (auto err = engine.start_container(c.id)) {
      return err;
    }
    events.status("Container", c.name, "Restarted");
  }
  return llvm::Error::success();
}

}  // namespace

llvm::Error ensure_service_resources(Engine& engine, const Project& project,
                                     const ServiceConfig& service, const ContainerRequest& request,
                                     ComposeEvents& events) {
  if (auto err = ensure_networks(engine, project, {&service}, events)) {
    return err;
  }
  if (auto err = ensure_volumes(engine, project, {&service}, events)) {
    return err;
  }
  return ensure_anonymous_volumes(engine, project, request);
}

llvm::Error up(Engine& engine, const Project& project, const UpOptions& options,
               const BuildFn& build, ComposeEvents& events) {
  auto services = project_services(project);
  if (!services) {
    return services.takeError();
  }
  auto selected = selection(*services, options.services, options.no_deps);
  if (!selected) {
    return selected.takeError();
  }
  std::vector<const ServiceConfig*> chosen;
  std::vector<ServiceConfig> chosen_values;
  for (const auto& s : *services) {
    if (selected->count(s.name)) {
      chosen.push_back(&s);
      chosen_values.push_back(s);
    }
  }
  if (!options.no_build && build) {
    if (auto err = build(chosen_values, !options.build)) {
      return err;
    }
  }
  if (auto err = handle_orphans(engine, project, options.remove_orphans, events)) {
    return err;
  }
  if (auto err = ensure_networks(engine, project, chosen, events)) {
    return err;
  }
  if (auto err = ensure_volumes(engine, project, chosen, events)) {
    return err;
  }
  Clock::time_point deadline = options.wait_timeout_s > 0
                                   ? Clock::now() + std::chrono::seconds(options.wait_timeout_s)
                                   : Clock::time_point::max();
  // Services start in waves: each wave holds the services whose dependencies are
  // all in earlier waves, and its services start at once, each in a thread.
  Recreated recreated;
  std::map<std::string, int> wave;
  int waves = 0;
  for (const auto* s : chosen) {  // dependency order: dependencies come first
    int w = 0;
    for (const auto& dep : s->depends_on) {
      if (wave.count(dep.service) && !options.no_deps) {
        w = std::max(w, wave[dep.service] + 1);
      }
    }
    wave[s->name] = w;
    waves = std::max(waves, w + 1);
  }
  for (int w = 0; w < waves; ++w) {
    std::vector<const ServiceConfig*> now;
    for (const auto* s : chosen) {
      if (wave[s->name] == w) {
        now.push_back(s);
      }
    }
    std::vector<std::optional<llvm::Error>> errors(now.size());
    std::vector<std::thread> threads;
    for (size_t i = 0; i < now.size(); ++i) {
      threads.emplace_back([&, i] {
        errors[i].emplace(
            start_service(engine, project, *now[i], *selected, options, events, recreated));
      });
    }
    for (auto& t : threads) {
      t.join();
    }
    llvm::Error first = llvm::Error::success();
    for (auto& e : errors) {
      if (*e && !first) {
        first = std::move(*e);
      } else {
        llvm::consumeError(std::move(*e));
      }
    }
    if (first) {
      return first;
    }
  }
  if (!options.wait) {
    return llvm::Error::success();
  }
  auto all = project_containers(engine, project, {});
  if (!all) {
    return all.takeError();
  }
  for (const auto& c : *all) {
    if (!selected->count(c.labels.at(kServiceLabel))) {
      continue;
    }
    if (auto err = wait_condition(engine, c, "service_healthy", deadline, events, true)) {
      return err;
    }
  }
  return llvm::Error::success();
}

}  // namespace kiln::compose
