#include "compose/service.h"

#include <algorithm>
#include <set>

#include <llvm/ADT/StringExtras.h>

#include "support/digest.h"
#include "support/error.h"

namespace kiln::compose {
namespace {

std::vector<std::string> strings(const Node* n) {
  std::vector<std::string> out;
  if (n) {
    for (const Node& item : n->items) {
      out.push_back(item.text);
    }
  }
  return out;
}

std::map<std::string, std::string> string_map(const Node* n) {
  std::map<std::string, std::string> out;
  if (n) {
    for (const auto& [k, v] : n->entries) {
      out[k] = v.text;
    }
  }
  return out;
}

int64_t duration_ns(const Node* n) {
  long long ns = 0;
  if (n) {
    parse_duration(n->text, ns);
  }
  return ns;
}

ServiceConfig make_service(const Project& project, const std::string& name, const Node& model) {
  ServiceConfig s;
  s.name = name;
  s.model = model;
  if (const Node* image = model.find("image")) {
    s.image = image->text;
    s.named_image = true;
  } else {
    s.image = project.name + "-" + name;
  }
  if (const Node* b = model.find("build")) {
    BuildSpec build;
    build.context = b->find("context") ? b->find("context")->text : project.working_dir;
    std::string dockerfile = b->find("dockerfile") ? b->find("dockerfile")->text : "Dockerfile";
    build.dockerfile =
        llvm::StringRef(dockerfile).startswith("/") ? dockerfile : build.context + "/" + dockerfile;
    if (const Node* t = b->find("target")) {
      build.target = t->text;
    }
    build.args = string_map(b->find("args"));
    build.labels = string_map(b->find("labels"));
    build.cache_from = strings(b->find("cache_from"));
    build.cache_to = strings(b->find("cache_to"));
    build.no_cache = b->find("no_cache") && b->find("no_cache")->text == "true";
    build.pull = b->find("pull") && b->find("pull")->text == "true";
    s.build = std::move(build);
  }
  if (const Node* deploy = model.find("deploy")) {
    if (const Node* r = deploy->find("replicas")) {
      s.replicas = std::atoi(r->text.c_str());
    }
  }
  if (const Node* cn = model.find("container_name")) {
    s.container_name = cn->text;
  }
  if (const Node* deps = model.find("depends_on")) {
    for (const auto& [dep, spec] : deps->entries) {
      Dependency d;
      d.service = dep;
      if (const Node* c = spec.find("condition")) {
        d.condition = c->text;
      }
      d.required = !(spec.find("required") && spec.find("required")->text == "false");
      d.restart = spec.find("restart") && spec.find("restart")->text == "true";
      s.depends_on.push_back(d);
    }
  }
  if (const Node* h = model.find("healthcheck")) {
    oci::Healthcheck hc;
    if (h->find("disable") && h->find("disable")->text == "true") {
      hc.test = {"NONE"};
    } else {
      hc.test = strings(h->find("test"));
    }
    hc.interval = duration_ns(h->find("interval"));
    hc.timeout = duration_ns(h->find("timeout"));
    hc.start_period = duration_ns(h->find("start_period"));
    hc.start_interval = duration_ns(h->find("start_interval"));
    if (const Node* r = h->find("retries")) {
      hc.retries = std::atoi(r->text.c_str());
    }
    if (!hc.test.empty()) {
      s.healthcheck = hc;
    }
  }
  return s;
}

// File-based secrets (at /run/secrets/<target>) and configs (at /<target>) as
// read-only binds of their files.
llvm::Error add_file_mounts(const Project& project, const ServiceConfig& service,
                            ContainerRequest& r) {
  for (const char* kind : {"secrets", "configs"}) {
    const Node* refs = service.model.find(kind);
    const Node* defined = project.model.find(kind);
    if (!refs) {
      continue;
    }
    for (const Node& ref : refs->items) {
      const Node* source = ref.find("source");
      const Node* def = source && defined ? defined->find(source->text) : nullptr;
      if (!def) {
        return make_error(ref.where.str() + ": service " + quote(service.name) +
                          " refers to undefined " +
                          std::string(kind).substr(0, std::string(kind).size() - 1) + " " +
                          quote(source ? source->text : ""));
      }
      const Node* file = def->find("file");
      if (!file) {
        continue;  // environment/external ones: nothing kiln can mount
      }
      std::string target = ref.find("target") ? ref.find("target")->text : source->text;
      if (!llvm::StringRef(target).startswith("/")) {
        target = (std::string(kind) == "secrets" ? "/run/secrets/" : "/") + target;
      }
      MountRequest mount;
      mount.type = MountRequest::Type::bind;
      mount.source = file->text;
      mount.target = target;
      mount.read_only = true;
      mount.file = true;
      r.mounts.push_back(std::move(mount));
    }
  }
  return llvm::Error::success();
}

// The service's limits, platform and DNS servers as `kiln run` takes them:
// mem_limit and cpus, else deploy.resources.limits (as docker compose applies
// them outside swarm).
void add_resources(const Node& m, ContainerRequest& r) {
  const Node* deploy = m.find("deploy");
  const Node* resources = deploy ? deploy->find("resources") : nullptr;
  const Node* limits = resources ? resources->find("limits") : nullptr;
  auto text_of = [](const Node* n) { return n && n->is_scalar() ? n->text : std::string(); };
  r.memory = text_of(m.find("mem_limit"));
  if (r.memory.empty() && limits) {
    r.memory = text_of(limits->find("memory"));
  }
  r.cpus = text_of(m.find("cpus"));
  if (r.cpus.empty() && limits) {
    r.cpus = text_of(limits->find("cpus"));
  }
  r.platform = text_of(m.find("platform"));
  if (const Node* dns = m.find("dns")) {
    r.dns = dns->is_scalar() ? std::vector<std::string>{dns->text} : strings(dns);
  }
}

}  // namespace

std::string service_hash(const ServiceConfig& service, const std::string& image_id) {
  Node hashed = service.model;
  hashed.erase("build");
  hashed.erase("depends_on");
  hashed.erase("pull_policy");
  hashed.erase("scale");
  if (Node* deploy = hashed.find("deploy")) {
    deploy->erase("replicas");
  }
  return Digest::of("kiln-compose-hash-v1\n" + emit_yaml(hashed) + "image-id\n" + image_id).hex();
}

llvm::Expected<std::vector<ServiceConfig>> project_services(const Project& project) {
  std::map<std::string, ServiceConfig> all;
  if (const Node* services = project.model.find("services")) {
    for (const auto& [name, model] : services->entries) {
      all.emplace(name, make_service(project, name, model));
    }
  }
  std::vector<ServiceConfig> order;
  std::set<std::string> done;
  std::set<std::string> visiting;
  std::function<llvm::Error(const std::string&)> visit =
      [&](const std::string& name) -> llvm::Error {
    if (done.count(name) || !all.count(name)) {
      return llvm::Error::success();
    }
    if (visiting.count(name)) {
      return make_error("dependency cycle detected at service " + quote(name));
    }
    visiting.insert(name);
    for (const auto& dep : all.at(name).depends_on) {
      if (auto err = visit(dep.service)) {
        return err;
      }
    }
    visiting.erase(name);
    done.insert(name);
    order.push_back(all.at(name));
    return llvm::Error::success();
  };
  for (const auto& [name, service] : all) {
    if (auto err = visit(name)) {
      return std::move(err);
    }
  }
  return order;
}

std::string container_name(const Project& project, const ServiceConfig& service, int number) {
  if (!service.container_name.empty()) {
    return service.container_name;
  }
  return project.name + "-" + service.name + "-" + std::to_string(number);
}

std::string network_name(const Project& project, const std::string& key) {
  if (const Node* nets = project.model.find("networks")) {
    if (const Node* n = nets->find(key)) {
      if (const Node* name = n->find("name")) {
        return name->text;
      }
    }
  }
  return project.name + "_" + key;
}

std::string volume_name(const Project& project, const std::string& key) {
  if (const Node* vols = project.model.find("volumes")) {
    if (const Node* v = vols->find(key)) {
      if (const Node* name = v->find("name")) {
        return name->text;
      }
    }
  }
  return project.name + "_" + key;
}

llvm::Expected<ContainerRequest> container_request(const Project& project,
                                                   const ServiceConfig& service, int number,
                                                   const std::string& image_id) {
  const Node& m = service.model;
  ContainerRequest r;
  r.name = container_name(project, service, number);
  r.image = service.image;
  std::vector<std::string> entrypoint;
  bool has_entrypoint = false;
  if (const Node* e = m.find("entrypoint"); e && !e->is_null()) {
    entrypoint = strings(e);
    has_entrypoint = true;
  }
  std::vector<std::string> command = strings(m.find("command"));
  if (has_entrypoint) {
    // --entrypoint takes one word: the rest of compose's list goes first in the command.
    r.entrypoint = entrypoint.empty() ? "" : entrypoint.front();
    if (!entrypoint.empty()) {
      r.command.assign(entrypoint.begin() + 1, entrypoint.end());
    }
  }
  r.command.insert(r.command.end(), command.begin(), command.end());
  if (const Node* env = m.find("environment")) {
    for (const auto& [k, v] : env->entries) {
      if (!v.is_null()) {
        r.env.push_back(k + "=" + v.text);
      }
    }
  }
  if (const Node* w = m.find("working_dir")) {
    r.working_dir = w->text;
  }
  if (const Node* u = m.find("user")) {
    r.user = u->text;
  }
  r.labels = string_map(m.find("labels"));
  r.labels[kProjectLabel] = project.name;
  r.labels[kServiceLabel] = service.name;
  r.labels[kNumberLabel] = std::to_string(number);
  r.labels[kOneoffLabel] = "False";
  r.labels[kHashLabel] = service_hash(service, image_id);
  r.labels[kImageLabel] = image_id;
  r.labels["com.docker.compose.version"] = kComposeVersion;
  r.labels["com.docker.compose.project.working_dir"] = project.working_dir;
  r.labels["com.docker.compose.project.config_files"] = llvm::join(project.files, ",");
  std::vector<std::string> deps;
  for (const auto& d : service.depends_on) {
    deps.push_back(d.service + ":" + d.condition + ":" + (d.restart ? "true" : "false"));
  }
  r.labels["com.docker.compose.depends_on"] = llvm::join(deps, ",");
  if (const Node* vols = m.find("volumes")) {
    for (const Node& v : vols->items) {
      MountRequest mount;
      std::string type = v.find("type") ? v.find("type")->text : "volume";
      mount.target = v.find("target") ? v.find("target")->text : "";
      mount.read_only = v.find("read_only") && v.find("read_only")->text == "true";
      const Node* source = v.find("source");
      if (type == "bind") {
        mount.type = MountRequest::Type::bind;
        mount.source = source ? source->text : "";
      } else if (type == "tmpfs") {
        mount.type = MountRequest::Type::tmpfs;
      } else if (type == "volume") {
        mount.type = MountRequest::Type::volume;
        // An anonymous volume is named after the container and its target.
        mount.source = source ? volume_name(project, source->text)
                              : Digest::of(r.name + ":" + mount.target).hex();
      } else {
        return make_error("service " + quote(service.name) + ": volume type " + quote(type) +
                          " is not supported");
      }
      r.mounts.push_back(std::move(mount));
    }
  }
  if (auto err = add_file_mounts(project, service, r)) {
    return std::move(err);
  }
  for (const auto& t : strings(m.find("tmpfs"))) {
    MountRequest mount;
    mount.type = MountRequest::Type::tmpfs;
    mount.target = llvm::StringRef(t).split(':').first.str();
    r.mounts.push_back(std::move(mount));
  }
  if (const Node* ports = m.find("ports")) {
    for (const Node& p : ports->items) {
      // No published port: an ephemeral one, as docker picks.
      const Node* published = p.find("published");
      std::string host_port = published ? published->text : "";
      std::string ip = p.find("host_ip") ? p.find("host_ip")->text : "127.0.0.1";
      if (ip == "0.0.0.0") {
        ip = "127.0.0.1";  // kiln binds loopback only
      }
      r.publish.push_back(ip + ":" + host_port + ":" + p.find("target")->text + "/" +
                          (p.find("protocol") ? p.find("protocol")->text : "tcp"));
    }
  }
  if (const Node* restart = m.find("restart")) {
    r.restart = restart->text;
  }
  if (const Node* sig = m.find("stop_signal")) {
    r.stop_signal = sig->text;
  }
  if (const Node* grace = m.find("stop_grace_period")) {
    r.stop_timeout = static_cast<int>(duration_ns(grace) / 1000000000LL);
  }
  r.healthcheck = service.healthcheck;
  if (const Node* mode = m.find("network_mode")) {
    r.network_mode = mode->text;
  } else if (const Node* nets = m.find("networks")) {
    for (const auto& [key, spec] : nets->entries) {
      NetworkJoin join;
      join.network = network_name(project, key);
      join.aliases.push_back(service.name);
      for (const auto& a : strings(spec.find("aliases"))) {
        join.aliases.push_back(a);
      }
      r.networks.push_back(std::move(join));
    }
  }
  if (const Node* h = m.find("hostname")) {
    r.hostname = h->text;
  }
  r.extra_hosts = strings(m.find("extra_hosts"));
  r.init = m.find("init") && m.find("init")->text == "true";
  r.interactive = m.find("stdin_open") && m.find("stdin_open")->text == "true";
  r.tty = m.find("tty") && m.find("tty")->text == "true";
  add_resources(m, r);
  return r;
}

}  // namespace kiln::compose
