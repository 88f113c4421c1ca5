// `compose down`, the lifecycle commands and `run`'s one-off container (ops.h).
#include <algorithm>
#include <chrono>
#include <random>
#include <set>

#include "compose/ops.h"
#include "support/error.h"

namespace kiln::compose {

llvm::Error wait_condition(Engine& engine, const ContainerInfo& c, const std::string& condition,
                           std::chrono::steady_clock::time_point deadline, ComposeEvents& events,
                           bool for_up_wait);

namespace {

bool running(const ContainerInfo& c) { return c.state == "running" || c.state == "restarting"; }

// The services' names in dependency order (all when `named` is empty).
llvm::Expected<std::vector<std::string>> ordered(const Project& project,
                                                 const std::vector<std::string>& named) {
  auto services = project_services(project);
  if (!services) {
    return services.takeError();
  }
  std::vector<std::string> out;
  for (const auto& n : named) {
    if (std::none_of(services->begin(), services->end(),
                     [&](const ServiceConfig& s) { return s.name == n; })) {
      return llvm::make_error<UsageError>("no such service: " + n);
    }
  }
  for (const auto& s : *services) {
    if (named.empty() || std::find(named.begin(), named.end(), s.name) != named.end()) {
      out.push_back(s.name);
    }
  }
  return out;
}

}  // namespace

llvm::Error down(Engine& engine, const Project& project, const DownOptions& options,
                 ComposeEvents& events) {
  auto containers = project_containers(engine, project, {}, true);
  if (!containers) {
    return containers.takeError();
  }
  // Dependents first: the reverse of the dependency order, then orphans.
  auto order = ordered(project, {});
  if (!order) {
    return order.takeError();
  }
  std::vector<ContainerInfo> sorted;
  for (auto it = order->rbegin(); it != order->rend(); ++it) {
    for (const auto& c : *containers) {
      if (c.labels.at(kServiceLabel) == *it) {
        sorted.push_back(c);
      }
    }
  }
  for (const auto& c : *containers) {
    const std::string& svc = c.labels.at(kServiceLabel);
    if (std::find(order->begin(), order->end(), svc) == order->end()) {
      bool disabled = std::find(project.disabled_services.begin(), project.disabled_services.end(),
                                svc) != project.disabled_services.end();
      if (options.remove_orphans || disabled || c.labels.at(kOneoffLabel) == "True") {
        sorted.push_back(c);
      }
    }
  }
  for (const auto& c : sorted) {
    if (running(c)) {
      if (auto err = engine.stop_container(c.id, options.timeout_s)) {
        return err;
      }
      events.status("Container", c.name, "Stopped");
    }
    if (auto err = engine.remove_container(c.id, true)) {
      return err;
    }
    events.status("Container", c.name, "Removed");
  }
  auto networks = engine.list_networks({{kProjectLabel, project.name}});
  if (!networks) {
    return networks.takeError();
  }
  for (const auto& n : *networks) {
    if (auto err = engine.remove_network(n)) {
      return err;
    }
    events.status("Network", n, "Removed");
  }
  if (options.volumes) {
    auto volumes = engine.list_volumes({{kProjectLabel, project.name}});
    if (!volumes) {
      return volumes.takeError();
    }
    for (const auto& v : *volumes) {
      if (auto err = engine.remove_volume(v)) {
        return err;
      }
      events.status("Volume", v, "Removed");
    }
  }
  if (!options.rmi.empty()) {
    auto services = project_services(project);
    if (!services) {
      return services.takeError();
    }
    std::set<std::string> images;
    for (const auto& s : *services) {
      if (options.rmi == "all" || !s.named_image) {
        images.insert(s.image);
      }
    }
    for (const auto& image : images) {
      auto id = engine.image_id(image);
      if (!id) {
        return id.takeError();
      }
      if (id->empty()) {
        continue;
      }
      if (auto err = engine.remove_image(image)) {
        events.warning(error_message(std::move(err)));
        continue;
      }
      events.status("Image", image, "Removed");
    }
  }
  return llvm::Error::success();
}

llvm::Error lifecycle(Engine& engine, const Project& project, Lifecycle action,
                      const std::vector<std::string>& services, const LifecycleOptions& options,
                      ComposeEvents& events) {
  auto order = ordered(project, services);
  if (!order) {
    return order.takeError();
  }
  if (action != Lifecycle::start && action != Lifecycle::restart) {
    std::reverse(order->begin(), order->end());
  }
  for (const auto& svc : *order) {
    auto containers = project_containers(engine, project, {svc});
    if (!containers) {
      return containers.takeError();
    }
    for (const auto& c : *containers) {
      llvm::Error err = llvm::Error::success();
      std::string status;
      switch (action) {
        case Lifecycle::start:
          if (running(c)) {
            continue;
          }
          err = engine.start_container(c.id);
          status = "Started";
          break;
        case Lifecycle::stop:
          if (!running(c)) {
            continue;
          }
          err = engine.stop_container(c.id, options.timeout_s);
          status = "Stopped";
          break;
        case Lifecycle::restart:
          if (running(c)) {
            err = engine.stop_container(c.id, options.timeout_s);
          }
          if (!err) {
            err = engine.start_container(c.id);
          }
          status = "Started";
          break;
        case Lifecycle::kill:
          if (!running(c)) {
            continue;
          }
          err = engine.kill_container(c.id, options.signal);
          status = "Killed";
          break;
        case Lifecycle::rm:
          if (running(c)) {
            if (!options.stop_first && !options.force) {
              continue;  // docker compose rm leaves running containers alone
            }
            if (auto stop = engine.stop_container(c.id, options.timeout_s)) {
              return stop;
            }
            events.status("Container", c.name, "Stopped");
          }
          err = engine.remove_container(c.id, true);
          status = "Removed";
          break;
      }
      if (err) {
        events.status("Container", c.name, "Error");
        return with_context(std::move(err), "container " + quote(c.name));
      }
      events.status("Container", c.name, status);
    }
  }
  return llvm::Error::success();
}

llvm::Expected<ContainerInfo> service_container(Engine& engine, const Project& project,
                                                const std::string& service, int index) {
  auto containers = project_containers(engine, project, {service});
  if (!containers) {
    return containers.takeError();
  }
  for (const auto& c : *containers) {
    if (std::atoi(c.labels.at(kNumberLabel).c_str()) == index && running(c)) {
      return c;
    }
  }
  return make_error("service " + quote(service) + " is not running");
}

llvm::Expected<ContainerInfo> create_run_container(Engine& engine, const Project& project,
                                                   const RunOptions& options, const BuildFn& build,
                                                   ComposeEvents& events) {
  auto services = project_services(project);
  if (!services) {
    return services.takeError();
  }
  const ServiceConfig* service = nullptr;
  for (const auto& s : *services) {
    if (s.name == options.service) {
      service = &s;
    }
  }
  if (!service) {
    return llvm::make_error<UsageError>("no such service: " + options.service);
  }
  if (!service->depends_on.empty() && !options.no_deps) {
    UpOptions deps;
    for (const auto& d : service->depends_on) {
      deps.services.push_back(d.service);
    }
    if (auto err = up(engine, project, deps, build, events)) {
      return std::move(err);
    }
  } else if (build) {
    if (auto err = build({*service}, true)) {
      return std::move(err);
    }
  }
  auto image_id = engine.image_id(service->image);
  if (!image_id) {
    return image_id.takeError();
  }
  auto request = container_request(project, *service, 1, *image_id);
  if (!request) {
    return request.takeError();
  }
  std::random_device rd;
  static const char hex[] = "0123456789abcdef";
  std::string suffix;
  for (int i = 0; i < 12; ++i) {
    suffix += hex[rd() % 16];
  }
  request->name =
      !options.name.empty() ? options.name : project.name + "-" + service->name + "-run-" + suffix;
  request->labels[kOneoffLabel] = "True";
  request->labels.erase(kNumberLabel);
  request->labels[kNumberLabel] = "1";
  if (!options.service_ports) {
    request->publish = options.publish;
  }
  if (!options.command.empty()) {
    std::vector<std::string> entry;
    if (request->entrypoint) {
      // Keep the service's entrypoint words; replace its command.
      const Node* e = service->model.find("entrypoint");
      for (size_t i = 1; e && i < e->items.size(); ++i) {
        entry.push_back(e->items[i].text);
      }
    }
    entry.insert(entry.end(), options.command.begin(), options.command.end());
    request->command = entry;
  }
  if (options.entrypoint) {
    request->entrypoint = *options.entrypoint;
    if (options.command.empty()) {
      request->command.clear();
    }
  }
  for (const auto& e : options.env) {
    request->env.push_back(e);
  }
  if (!options.user.empty()) {
    request->user = options.user;
  }
  if (!options.workdir.empty()) {
    request->working_dir = options.workdir;
  }
  request->restart = "no";
  request->interactive = options.interactive;
  request->tty = options.tty;
  if (auto err = ensure_service_resources(engine, project, *service, *request, events)) {
    return std::move(err);
  }
  auto id = engine.create_container(*request);
  if (!id) {
    return id.takeError();
  }
  return engine.inspect_container(*id);
}

}  // namespace kiln::compose
