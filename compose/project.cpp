// The last phase of load_project(): the project's name, profiles, the default
// network, resource names, cross-references, and the printed model's order.
#include "compose/project.h"

#include <algorithm>
#include <set>

#include <llvm/ADT/StringExtras.h>
#include <llvm/Support/Path.h>
#include <nlohmann/json.hpp>

#include "compose/normalize.h"
#include "compose/service.h"
#include "support/error.h"

namespace kiln::compose {
namespace {

std::string env_value(const Environment& env, const std::string& key) {
  auto it = env.find(key);
  return it == env.end() ? "" : it->second;
}

llvm::Expected<std::string> project_name(const Project& project, const LoadOptions& options) {
  auto invalid = [](const std::string& name) {
    return llvm::make_error<UsageError>(
        "invalid project name " + quote(name) +
        ": must consist only of lowercase alphanumeric characters, hyphens, and underscores as "
        "well as start with a letter or number");
  };
  std::string name = options.project_name;
  if (name.empty()) {
    name = env_value(project.environment, "COMPOSE_PROJECT_NAME");
  }
  if (name.empty()) {
    if (const Node* n = project.model.find("name"); n && n->is_scalar()) {
      name = n->text;
    }
  }
  if (!name.empty()) {
    if (!valid_project_name(name)) {
      return invalid(name);
    }
    return name;
  }
  name = normalize_project_name(llvm::sys::path::filename(project.working_dir));
  if (name.empty()) {
    return invalid(llvm::sys::path::filename(project.working_dir).str());
  }
  return name;
}

std::vector<std::string> active_profiles(const LoadOptions& options, const Environment& env) {
  std::vector<std::string> profiles = options.profiles;
  llvm::SmallVector<llvm::StringRef, 4> parts;
  llvm::StringRef(env_value(env, "COMPOSE_PROFILES")).split(parts, ',', -1, false);
  for (llvm::StringRef p : parts) {
    profiles.push_back(p.trim().str());
  }
  return profiles;
}

bool enabled(const Node& service, const std::vector<std::string>& active) {
  const Node* profiles = service.find("profiles");
  if (!profiles || profiles->items.empty()) {
    return true;
  }
  for (const Node& p : profiles->items) {
    for (const auto& a : active) {
      if (a == "*" || a == p.text) {
        return true;
      }
    }
  }
  return false;
}

// Gives every top-level resource of `kind` its name (`project_key` unless named or
// external) and normalizes `external`.
void name_resources(Node& resources, const std::string& project) {
  for (auto& [key, spec] : resources.entries) {
    if (spec.is_null()) {
      spec = Node::map();
    }
    bool external = false;
    if (Node* ext = spec.find("external")) {
      if (ext->is_map()) {
        if (const Node* n = ext->find("name")) {
          spec.set("name", Node::str(n->text));
        }
        external = true;
      } else {
        external = ext->text == "true";
      }
      spec.set("external", Node::boolean(external));
      if (!external) {
        spec.erase("external");
      }
    }
    Node named = Node::map();
    const Node* name = spec.find("name");
    named.set("name", Node::str(name ? name->text : external ? key : project + "_" + key));
    for (auto& [k, v] : spec.entries) {
      if (k == "name") {
        continue;
      }
      if (k == "labels") {
        Node labels = Node::map();
        if (v.is_map()) {
          for (auto& [lk, lv] : v.entries) {
            labels.set(lk, Node::str(lv.text));
          }
        } else {
          for (auto& item : v.items) {
            auto [lk, lv] = llvm::StringRef(item.text).split('=');
            labels.set(lk, Node::str(lv.str()));
          }
        }
        sort_keys(labels);
        named.set(k, std::move(labels));
      } else if (v.is_scalar() && v.type == ScalarType::auto_) {
        Node s = v;
        s.type = v.is_bool_text() ? ScalarType::boolean : ScalarType::string;
        named.set(k, std::move(s));
      } else {
        named.set(k, v);
      }
    }
    spec = std::move(named);
  }
  sort_keys(resources);
}

llvm::Error check_references(const std::string& name, const Node& service, const Node& services,
                             const Node& networks, const Node& volumes) {
  if (const Node* deps = service.find("depends_on")) {
    for (const auto& [dep, spec] : deps->entries) {
      if (!services.find(dep)) {
        const Node* req = spec.find("required");
        if (req && req->text == "false") {
          continue;
        }
        return make_error(deps->where.str() + ": service " + quote(name) +
                          " depends on undefined service " + quote(dep));
      }
    }
  }
  if (const Node* nets = service.find("networks")) {
    for (const auto& [net, spec] : nets->entries) {
      if (net != "default" && !networks.find(net)) {
        return make_error(nets->where.str() + ": service " + quote(name) +
                          " refers to undefined network " + quote(net));
      }
    }
  }
  if (const Node* vols = service.find("volumes")) {
    for (const Node& v : vols->items) {
      const Node* type = v.find("type");
      const Node* source = v.find("source");
      if (type && type->text == "volume" && source && !volumes.find(source->text)) {
        return make_error(v.where.str() + ": service " + quote(name) +
                          " refers to undefined volume " + quote(source->text));
      }
    }
  }
  return llvm::Error::success();
}

}  // namespace

llvm::Error finish_project(Project& project, const LoadOptions& options, const WarnFn& warn) {
  auto name = project_name(project, options);
  if (!name) {
    return name.takeError();
  }
  project.name = *name;
  Node& m = project.model;
  Node services =
      m.find("services") && m.find("services")->is_map() ? *m.find("services") : Node::map();
  auto active = active_profiles(options, project.environment);
  Node kept = Node::map();
  for (auto& [svc, spec] : services.entries) {
    if (enabled(spec, active)) {
      kept.set(svc, std::move(spec));
    } else {
      project.disabled_services.push_back(svc);
    }
  }
  Node networks =
      m.find("networks") && m.find("networks")->is_map() ? *m.find("networks") : Node::map();
  Node volumes =
      m.find("volumes") && m.find("volumes")->is_map() ? *m.find("volumes") : Node::map();
  bool uses_default = false;
  for (auto& [svc, spec] : kept.entries) {
    if (const Node* cn = spec.find("container_name");
        cn && (cn->text.empty() || cn->text.find('/') != std::string::npos)) {
      return make_error(cn->where.str() + ": invalid container_name " + quote(cn->text));
    }
    if (!spec.find("image") && !spec.find("build")) {
      return make_error(spec.where.str() + ": service " + quote(svc) +
                        " has neither an image nor a build context specified");
    }
    if (!spec.find("network_mode")) {
      if (!spec.find("networks")) {
        Node nets = Node::map();
        nets.set("default", Node::null_value());
        spec.set("networks", std::move(nets));
      }
      if (spec.find("networks")->find("default")) {
        uses_default = true;
      }
    }
    if (auto err = check_references(svc, spec, kept, networks, volumes)) {
      return err;
    }
    for (const char* key : {"environment", "labels", "depends_on", "networks", "sysctls"}) {
      if (Node* n = spec.find(key)) {
        sort_keys(*n);
      }
    }
    if (Node* build = spec.find("build")) {
      for (const char* key : {"args", "labels"}) {
        if (Node* n = build->find(key)) {
          sort_keys(*n);
        }
      }
      sort_keys(*build);
    }
    sort_keys(spec);
  }
  if (uses_default && !networks.find("default")) {
    networks.set("default", Node::null_value());
  }
  sort_keys(kept);
  name_resources(networks, project.name);
  name_resources(volumes, project.name);
  Node out = Node::map();
  out.set("name", Node::str(project.name));
  out.set("services", std::move(kept));
  if (!networks.entries.empty()) {
    out.set("networks", std::move(networks));
  }
  if (!volumes.entries.empty()) {
    out.set("volumes", std::move(volumes));
  }
  for (const char* kind : {"secrets", "configs"}) {
    if (const Node* r = m.find(kind); r && r->is_map() && !r->entries.empty()) {
      Node copy = *r;
      name_resources(copy, project.name);
      out.set(kind, std::move(copy));
    }
  }
  for (const auto& [key, value] : m.entries) {
    if (llvm::StringRef(key).startswith("x-")) {
      out.set(key, value);
    }
  }
  (void)warn;
  m = std::move(out);
  return llvm::Error::success();
}

std::string config_yaml(const Project& project) { return emit_yaml(project.model); }

namespace {

// A value as JSON: a plain scalar is what its text reads as (a decimal integer,
// a float, true or false), a quoted one a string.
nlohmann::ordered_json json_value(const Node& n) {
  using Json = nlohmann::ordered_json;
  switch (n.kind) {
    case Node::Kind::null:
      return nullptr;
    case Node::Kind::sequence: {
      Json out = Json::array();
      for (const Node& item : n.items) {
        out.push_back(json_value(item));
      }
      return out;
    }
    case Node::Kind::mapping: {
      Json out = Json::object();
      for (const auto& [key, value] : n.entries) {
        out[key] = json_value(value);
      }
      return out;
    }
    case Node::Kind::scalar:
      break;
  }
  llvm::StringRef text = n.text;
  if (n.type == ScalarType::string) {
    return n.text;
  }
  if (text == "true" || text == "false") {
    return text == "true";
  }
  long long integer = 0;
  if (!text.getAsInteger(10, integer)) {
    return integer;
  }
  double real = 0;
  if (n.type == ScalarType::auto_ && n.is_float_text() && !text.getAsDouble(real)) {
    return real;
  }
  return n.text;
}

}  // namespace

std::string config_json(const Project& project) { return json_value(project.model).dump(2) + "\n"; }

llvm::Expected<std::string> config_text(const Project& project, ConfigPart part, bool json) {
  std::string text;
  if (part == ConfigPart::images) {
    auto services = project_services(project);
    if (!services) {
      return services.takeError();
    }
    for (const auto& service : *services) {
      text += service.image + "\n";
    }
  } else if (part == ConfigPart::services || part == ConfigPart::volumes) {
    const Node* list = project.model.find(part == ConfigPart::services ? "services" : "volumes");
    for (const auto& entry : list ? list->entries : decltype(list->entries){}) {
      text += entry.first + "\n";
    }
  } else {
    text = json ? config_json(project) : config_yaml(project);
  }
  return text;
}

}  // namespace kiln::compose
