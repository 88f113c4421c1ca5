#include "compose/schema.h"

#include <functional>
#include <vector>

#include <llvm/ADT/StringRef.h>

#include "support/error.h"

namespace kiln::compose {
namespace {

using Check = std::function<llvm::Error(const Node&, const std::string&)>;

struct Field {
  const char* name;
  Check check;
};

std::string join(const std::string& path, const std::string& key) {
  return path.empty() ? key : path + "." + key;
}

std::string shown(const std::string& path) { return path.empty() ? "(root)" : path; }

llvm::Error type_error(const Node& n, const std::string& path, const std::string& want) {
  return make_error(n.where.str() + ": " + shown(path) + " must be " + want);
}

Check any() {
  return [](const Node&, const std::string&) { return llvm::Error::success(); };
}

// A scalar written as text (numbers are accepted where compose reads strings).
Check str() {
  return [](const Node& n, const std::string& path) -> llvm::Error {
    if (!n.is_scalar() || n.type == ScalarType::boolean ||
        (n.type == ScalarType::auto_ && n.is_bool_text() && n.text != "y" && n.text != "n")) {
      return type_error(n, path, "a string");
    }
    return llvm::Error::success();
  };
}

Check integer() {
  return [](const Node& n, const std::string& path) -> llvm::Error {
    if (!n.is_int_text()) {
      return type_error(n, path, "a number");
    }
    return llvm::Error::success();
  };
}

Check boolean() {
  return [](const Node& n, const std::string& path) -> llvm::Error {
    if (!n.is_bool_text()) {
      return type_error(n, path, "a boolean");
    }
    return llvm::Error::success();
  };
}

Check number_or_string() {
  return [](const Node& n, const std::string& path) -> llvm::Error {
    if (!n.is_scalar()) {
      return type_error(n, path, "a string or number");
    }
    return llvm::Error::success();
  };
}

Check duration() {
  return [](const Node& n, const std::string& path) -> llvm::Error {
    long long ns = 0;
    if (!n.is_scalar() || !parse_duration(n.text, ns)) {
      return type_error(n, path, "a duration (like '30s' or '1m30s')");
    }
    return llvm::Error::success();
  };
}

Check seq_of(Check item) {
  return [item](const Node& n, const std::string& path) -> llvm::Error {
    if (!n.is_seq()) {
      return type_error(n, path, "an array");
    }
    for (size_t i = 0; i < n.items.size(); ++i) {
      if (auto err = item(n.items[i], path + "[" + std::to_string(i) + "]")) {
        return err;
      }
    }
    return llvm::Error::success();
  };
}

Check map_of(Check value) {
  return [value](const Node& n, const std::string& path) -> llvm::Error {
    if (!n.is_map()) {
      return type_error(n, path, "a mapping");
    }
    for (const auto& [k, v] : n.entries) {
      if (auto err = value(v, join(path, k))) {
        return err;
      }
    }
    return llvm::Error::success();
  };
}

Check nullable(Check c) {
  return [c](const Node& n, const std::string& path) -> llvm::Error {
    return n.is_null() ? llvm::Error::success() : c(n, path);
  };
}

// Tries `a` for scalars and `b` for collections (the usual "short or long" pair).
Check scalar_or(Check a, Check b) {
  return [a, b](const Node& n, const std::string& path) -> llvm::Error {
    return n.is_scalar() ? a(n, path) : b(n, path);
  };
}

Check string_or_list() { return scalar_or(str(), seq_of(str())); }

// A list of "K=V" strings or a mapping of scalars (environment, labels, args).
Check list_or_dict() {
  return [](const Node& n, const std::string& path) -> llvm::Error {
    if (n.is_seq()) {
      return seq_of(number_or_string())(n, path);
    }
    if (n.is_map()) {
      return map_of(nullable(number_or_string()))(n, path);
    }
    return type_error(n, path, "a mapping or an array of strings");
  };
}

size_t edit_distance(llvm::StringRef a, llvm::StringRef b) { return a.edit_distance(b, true, 8); }

Check object(std::vector<Field> fields) {
  auto shared = std::make_shared<std::vector<Field>>(std::move(fields));
  return [shared](const Node& n, const std::string& path) -> llvm::Error {
    if (!n.is_map()) {
      return type_error(n, path, "a mapping");
    }
    for (size_t index = 0; index < n.entries.size(); ++index) {
      const auto& [key, value] = n.entries[index];
      if (llvm::StringRef(key).startswith("x-")) {
        continue;
      }
      const Field* field = nullptr;
      const Field* nearest = nullptr;
      size_t best = 3;
      for (const Field& f : *shared) {
        if (key == f.name) {
          field = &f;
          break;
        }
        if (size_t d = edit_distance(key, f.name); d < best) {
          best = d;
          nearest = &f;
        }
      }
      if (!field) {
        return make_error(
            n.key_where(index).str() + ": " + shown(path) + ": additional property " + quote(key) +
            " is not allowed" +
            (nearest ? std::string(" (did you mean ") + quote(nearest->name) + "?)" : ""));
      }
      if (auto err = field->check(value, join(path, key))) {
        return err;
      }
    }
    return llvm::Error::success();
  };
}

Check build_schema() {
  return scalar_or(str(), object({{"context", str()},
                                  {"dockerfile", str()},
                                  {"dockerfile_inline", str()},
                                  {"args", list_or_dict()},
                                  {"ssh", any()},
                                  {"labels", list_or_dict()},
                                  {"cache_from", seq_of(str())},
                                  {"cache_to", seq_of(str())},
                                  {"no_cache", boolean()},
                                  {"additional_contexts", list_or_dict()},
                                  {"network", str()},
                                  {"pull", boolean()},
                                  {"target", str()},
                                  {"shm_size", number_or_string()},
                                  {"extra_hosts", list_or_dict()},
                                  {"isolation", str()},
                                  {"privileged", boolean()},
                                  {"secrets", seq_of(scalar_or(str(), map_of(any())))},
                                  {"tags", seq_of(str())},
                                  {"platforms", seq_of(str())}}));
}

Check port_schema() {
  return scalar_or(number_or_string(), object({{"name", str()},
                                               {"mode", str()},
                                               {"host_ip", str()},
                                               {"target", integer()},
                                               {"published", number_or_string()},
                                               {"protocol", str()},
                                               {"app_protocol", str()}}));
}

Check volume_mount_schema() {
  return scalar_or(
      str(),
      object(
          {{"type", str()},
           {"source", str()},
           {"target", str()},
           {"read_only", boolean()},
           {"consistency", str()},
           {"bind",
            object({{"propagation", str()}, {"create_host_path", boolean()}, {"selinux", str()}})},
           {"volume", object({{"nocopy", boolean()}, {"subpath", str()}})},
           {"tmpfs", object({{"size", number_or_string()}, {"mode", number_or_string()}})}}));
}

Check depends_on_schema() {
  Check item = object({{"condition",
                        [](const Node& n, const std::string& path) -> llvm::Error {
                          if (!n.is_scalar() ||
                              (n.text != "service_started" && n.text != "service_healthy" &&
                               n.text != "service_completed_successfully")) {
                            return type_error(n, path,
                                              "one of 'service_started', 'service_healthy', "
                                              "'service_completed_successfully'");
                          }
                          return llvm::Error::success();
                        }},
                       {"required", boolean()},
                       {"restart", boolean()}});
  return [item](const Node& n, const std::string& path) -> llvm::Error {
    return n.is_seq() ? seq_of(str())(n, path) : map_of(item)(n, path);
  };
}

Check healthcheck_schema() {
  return object({{"test", string_or_list()},
                 {"interval", duration()},
                 {"timeout", duration()},
                 {"retries", integer()},
                 {"start_period", duration()},
                 {"start_interval", duration()},
                 {"disable", boolean()}});
}

Check service_networks_schema() {
  Check item = nullable(object({{"aliases", seq_of(str())},
                                {"ipv4_address", str()},
                                {"ipv6_address", str()},
                                {"priority", integer()},
                                {"link_local_ips", seq_of(str())},
                                {"mac_address", str()}}));
  return [item](const Node& n, const std::string& path) -> llvm::Error {
    return n.is_seq() ? seq_of(str())(n, path) : map_of(item)(n, path);
  };
}

Check file_ref_schema() {
  return seq_of(scalar_or(str(), object({{"source", str()},
                                         {"target", str()},
                                         {"uid", str()},
                                         {"gid", str()},
                                         {"mode", number_or_string()}})));
}

Check service_schema() {
  Check deploy = object({{"mode", str()},
                         {"replicas", integer()},
                         {"labels", list_or_dict()},
                         {"resources", any()},
                         {"restart_policy", any()},
                         {"update_config", any()},
                         {"rollback_config", any()},
                         {"placement", any()},
                         {"endpoint_mode", str()}});
  Check extends = scalar_or(str(), object({{"service", str()}, {"file", str()}}));
  Check env_file = scalar_or(
      str(), seq_of(scalar_or(
                 str(), object({{"path", str()}, {"required", boolean()}, {"format", str()}}))));
  return object({
      {"build", build_schema()},
      {"cap_add", seq_of(str())},
      {"cap_drop", seq_of(str())},
      {"command", nullable(string_or_list())},
      {"configs", file_ref_schema()},
      {"container_name", str()},
      {"cpus", number_or_string()},
      {"depends_on", depends_on_schema()},
      {"deploy", deploy},
      {"devices", seq_of(any())},
      {"dns", string_or_list()},
      {"dns_search", string_or_list()},
      {"domainname", str()},
      {"entrypoint", nullable(string_or_list())},
      {"env_file", env_file},
      {"environment", list_or_dict()},
      {"expose", seq_of(number_or_string())},
      {"extends", extends},
      {"external_links", seq_of(str())},
      {"extra_hosts", list_or_dict()},
      {"healthcheck", healthcheck_schema()},
      {"hostname", str()},
      {"image", str()},
      {"init", boolean()},
      {"ipc", str()},
      {"labels", list_or_dict()},
      {"links", seq_of(str())},
      {"logging", object({{"driver", str()}, {"options", map_of(nullable(number_or_string()))}})},
      {"mem_limit", number_or_string()},
      {"network_mode", str()},
      {"networks", service_networks_schema()},
      {"pid", nullable(str())},
      {"platform", str()},
      {"ports", seq_of(port_schema())},
      {"privileged", boolean()},
      {"profiles", seq_of(str())},
      {"pull_policy", str()},
      {"read_only", boolean()},
      {"restart", str()},
      {"scale", integer()},
      {"secrets", file_ref_schema()},
      {"security_opt", seq_of(str())},
      {"shm_size", number_or_string()},
      {"stdin_open", boolean()},
      {"stop_grace_period", duration()},
      {"stop_signal", str()},
      {"sysctls", list_or_dict()},
      {"tmpfs", string_or_list()},
      {"tty", boolean()},
      {"ulimits", map_of(any())},
      {"user", str()},
      {"userns_mode", str()},
      {"volumes", seq_of(volume_mount_schema())},
      {"volumes_from", seq_of(str())},
      {"working_dir", str()},
  });
}

Check external_schema() { return scalar_or(boolean(), object({{"name", str()}})); }

Check network_schema() {
  return nullable(object({{"name", str()},
                          {"driver", str()},
                          {"driver_opts", map_of(number_or_string())},
                          {"ipam", any()},
                          {"external", external_schema()},
                          {"internal", boolean()},
                          {"enable_ipv6", boolean()},
                          {"attachable", boolean()},
                          {"labels", list_or_dict()}}));
}

Check volume_schema() {
  return nullable(object({{"name", str()},
                          {"driver", str()},
                          {"driver_opts", map_of(number_or_string())},
                          {"external", external_schema()},
                          {"labels", list_or_dict()}}));
}

Check file_object_schema(bool config) {
  std::vector<Field> fields = {{"name", str()},
                               {"file", str()},
                               {"environment", str()},
                               {"external", external_schema()},
                               {"labels", list_or_dict()}};
  if (config) {
    fields.push_back({"content", str()});
  }
  return nullable(object(fields));
}

Check include_schema() {
  return seq_of(scalar_or(str(), object({{"path", string_or_list()},
                                         {"project_directory", str()},
                                         {"env_file", string_or_list()}})));
}

}  // namespace

llvm::Error validate_file(const Node& top) {
  if (top.is_null()) {
    return make_error(top.where.str() + ": empty compose file");
  }
  static const Check file = object({{"version", number_or_string()},
                                    {"name", str()},
                                    {"include", include_schema()},
                                    {"services", nullable(map_of(service_schema()))},
                                    {"networks", nullable(map_of(network_schema()))},
                                    {"volumes", nullable(map_of(volume_schema()))},
                                    {"secrets", nullable(map_of(file_object_schema(false)))},
                                    {"configs", nullable(map_of(file_object_schema(true)))}});
  if (!top.is_map()) {
    return make_error(top.where.str() + ": top-level object must be a mapping");
  }
  return file(top, "");
}

}  // namespace kiln::compose
