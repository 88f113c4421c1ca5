#include "oci/image_config.h"

#include <algorithm>
#include <initializer_list>

#include "oci/json_io.h"
#include "support/error.h"

namespace kiln::oci {

using detail::Json;
using detail::ObjectReader;

namespace {

// Members of `j` not in `known`, as raw JSON, in document order.
ExtraFields extra_fields(const Json& j, std::initializer_list<llvm::StringRef> known) {
  ExtraFields out;
  for (const auto& [key, value] : j.items()) {
    if (std::find(known.begin(), known.end(), llvm::StringRef(key)) == known.end()) {
      out.emplace_back(key, value.dump());
    }
  }
  return out;
}

void put_extra(Json& j, const ExtraFields& extra) {
  for (const auto& [key, raw] : extra) {
    j[key] = Json::parse(raw, nullptr, false);
  }
}

llvm::Error read_healthcheck(const Json& j, Healthcheck& h) {
  ObjectReader r(j, "config.Healthcheck");
  int64_t retries = 0;
  llvm::Error err = llvm::joinErrors(r.strings("Test", h.test), r.int64("Interval", h.interval));
  err = llvm::joinErrors(std::move(err), r.int64("Timeout", h.timeout));
  err = llvm::joinErrors(std::move(err), r.int64("StartPeriod", h.start_period));
  err = llvm::joinErrors(std::move(err), r.int64("StartInterval", h.start_interval));
  err = llvm::joinErrors(std::move(err), r.int64("Retries", retries));
  h.retries = static_cast<int>(retries);
  return err;
}

llvm::Error read_container_config(const Json& j, ContainerConfig& c) {
  if (!j.is_object()) {
    return make_error("'config': expected an object");
  }
  ObjectReader r(j, "config");
  llvm::Error err = r.string("User", c.user);
  err = llvm::joinErrors(std::move(err), r.key_set("ExposedPorts", c.exposed_ports));
  err = llvm::joinErrors(std::move(err), r.strings("Env", c.env));
  err = llvm::joinErrors(std::move(err), r.strings("Entrypoint", c.entrypoint));
  err = llvm::joinErrors(std::move(err), r.strings("Cmd", c.cmd));
  err = llvm::joinErrors(std::move(err), r.key_set("Volumes", c.volumes));
  err = llvm::joinErrors(std::move(err), r.string("WorkingDir", c.working_dir));
  err = llvm::joinErrors(std::move(err), r.string_map("Labels", c.labels));
  err = llvm::joinErrors(std::move(err), r.string("StopSignal", c.stop_signal));
  err = llvm::joinErrors(std::move(err), r.boolean("ArgsEscaped", c.args_escaped));
  err = llvm::joinErrors(std::move(err), r.strings("OnBuild", c.on_build));
  err = llvm::joinErrors(std::move(err), r.strings("Shell", c.shell));
  if (err) {
    return err;
  }
  if (const Json* h = r.find("Healthcheck")) {
    if (!h->is_object()) {
      return r.fail("Healthcheck", "expected an object");
    }
    c.healthcheck.emplace();
    if (auto herr = read_healthcheck(*h, *c.healthcheck)) {
      return herr;
    }
  }
  c.extra =
      extra_fields(j, {"User", "ExposedPorts", "Env", "Entrypoint", "Cmd", "Volumes", "WorkingDir",
                       "Labels", "StopSignal", "ArgsEscaped", "Healthcheck", "OnBuild", "Shell"});
  return llvm::Error::success();
}

llvm::Error read_history(const Json& list, std::vector<HistoryEntry>& out) {
  if (!list.is_array()) {
    return make_error("'history': expected an array");
  }
  for (size_t i = 0; i < list.size(); ++i) {
    const Json& item = list[i];
    std::string path = "history[" + std::to_string(i) + "]";
    if (!item.is_object()) {
      return make_error(quote(path) + ": expected an object");
    }
    ObjectReader r(item, path);
    HistoryEntry h;
    llvm::Error err = r.string("created", h.created);
    err = llvm::joinErrors(std::move(err), r.string("created_by", h.created_by));
    err = llvm::joinErrors(std::move(err), r.string("author", h.author));
    err = llvm::joinErrors(std::move(err), r.string("comment", h.comment));
    err = llvm::joinErrors(std::move(err), r.boolean("empty_layer", h.empty_layer));
    if (err) {
      return err;
    }
    h.extra = extra_fields(item, {"created", "created_by", "author", "comment", "empty_layer"});
    out.push_back(std::move(h));
  }
  return llvm::Error::success();
}

llvm::Error read_rootfs(const Json& j, ImageConfig& out) {
  if (!j.is_object()) {
    return make_error("'rootfs': expected an object");
  }
  ObjectReader r(j, "rootfs");
  std::vector<std::string> ids;
  llvm::Error err = llvm::joinErrors(r.string("type", out.rootfs_type), r.strings("diff_ids", ids));
  if (err) {
    return err;
  }
  for (size_t i = 0; i < ids.size(); ++i) {
    auto d = Digest::parse(ids[i]);
    if (!d) {
      return with_context(d.takeError(), "'rootfs.diff_ids[" + std::to_string(i) + "]'");
    }
    out.diff_ids.push_back(*d);
  }
  return llvm::Error::success();
}

llvm::Error read_image_config(const Json& j, ImageConfig& out) {
  ObjectReader r(j, "");
  llvm::Error err = r.string("created", out.created);
  err = llvm::joinErrors(std::move(err), r.string("author", out.author));
  err = llvm::joinErrors(std::move(err), r.string("architecture", out.architecture));
  err = llvm::joinErrors(std::move(err), r.string("os", out.os));
  err = llvm::joinErrors(std::move(err), r.string("os.version", out.os_version));
  err = llvm::joinErrors(std::move(err), r.strings("os.features", out.os_features));
  err = llvm::joinErrors(std::move(err), r.string("variant", out.variant));
  if (err) {
    return err;
  }
  if (const Json* c = r.find("config")) {
    if (auto cerr = read_container_config(*c, out.config)) {
      return cerr;
    }
  }
  if (const Json* rootfs = r.find("rootfs")) {
    if (auto rerr = read_rootfs(*rootfs, out)) {
      return rerr;
    }
  }
  if (const Json* history = r.find("history")) {
    if (auto herr = read_history(*history, out.history)) {
      return herr;
    }
  }
  out.extra = extra_fields(j, {"created", "author", "architecture", "os", "os.version",
                               "os.features", "variant", "config", "rootfs", "history"});
  return llvm::Error::success();
}

Json key_set_json(std::vector<std::string> keys) {
  std::sort(keys.begin(), keys.end());
  Json j = Json::object();
  for (const auto& k : keys) {
    j[k] = Json::object();
  }
  return j;
}

Json healthcheck_json(const Healthcheck& h) {
  Json j = Json::object();
  if (!h.test.empty()) {
    j["Test"] = h.test;
  }
  if (h.interval != 0) {
    j["Interval"] = h.interval;
  }
  if (h.timeout != 0) {
    j["Timeout"] = h.timeout;
  }
  if (h.start_period != 0) {
    j["StartPeriod"] = h.start_period;
  }
  if (h.start_interval != 0) {
    j["StartInterval"] = h.start_interval;
  }
  if (h.retries != 0) {
    j["Retries"] = h.retries;
  }
  return j;
}

void put_if(Json& j, const char* key, const std::string& value) {
  if (!value.empty()) {
    j[key] = value;
  }
}

void put_if(Json& j, const char* key, const std::vector<std::string>& value) {
  if (!value.empty()) {
    j[key] = value;
  }
}

Json container_config_json(const ContainerConfig& c) {
  Json j = Json::object();
  put_if(j, "User", c.user);
  if (!c.exposed_ports.empty()) {
    j["ExposedPorts"] = key_set_json(c.exposed_ports);
  }
  put_if(j, "Env", c.env);
  put_if(j, "Entrypoint", c.entrypoint);
  put_if(j, "Cmd", c.cmd);
  if (!c.volumes.empty()) {
    j["Volumes"] = key_set_json(c.volumes);
  }
  put_if(j, "WorkingDir", c.working_dir);
  if (!c.labels.empty()) {
    j["Labels"] = c.labels;
  }
  put_if(j, "StopSignal", c.stop_signal);
  if (c.args_escaped) {
    j["ArgsEscaped"] = true;
  }
  if (c.healthcheck) {
    j["Healthcheck"] = healthcheck_json(*c.healthcheck);
  }
  put_if(j, "OnBuild", c.on_build);
  put_if(j, "Shell", c.shell);
  put_extra(j, c.extra);
  return j;
}

Json history_json(const HistoryEntry& h) {
  Json j = Json::object();
  put_if(j, "created", h.created);
  put_if(j, "created_by", h.created_by);
  put_if(j, "author", h.author);
  put_if(j, "comment", h.comment);
  if (h.empty_layer) {
    j["empty_layer"] = true;
  }
  put_extra(j, h.extra);
  return j;
}

}  // namespace

llvm::Expected<ImageConfig> parse_image_config(llvm::StringRef json) {
  auto j = detail::parse_json(json, "invalid image config");
  if (!j) {
    return j.takeError();
  }
  if (!j->is_object()) {
    return make_error("invalid image config: expected a JSON object");
  }
  ImageConfig out;
  if (auto err = read_image_config(*j, out)) {
    return with_context(std::move(err), "invalid image config");
  }
  return out;
}

std::string to_json(const ImageConfig& c) {
  Json j = Json::object();
  put_if(j, "created", c.created);
  put_if(j, "author", c.author);
  j["architecture"] = c.architecture;
  j["os"] = c.os;
  put_if(j, "os.version", c.os_version);
  put_if(j, "os.features", c.os_features);
  put_if(j, "variant", c.variant);
  j["config"] = container_config_json(c.config);
  Json rootfs = Json::object();
  rootfs["type"] = c.rootfs_type;
  rootfs["diff_ids"] = Json::array();
  for (const auto& d : c.diff_ids) {
    rootfs["diff_ids"].push_back(d.str());
  }
  j["rootfs"] = std::move(rootfs);
  if (!c.history.empty()) {
    j["history"] = Json::array();
    for (const auto& h : c.history) {
      j["history"].push_back(history_json(h));
    }
  }
  put_extra(j, c.extra);
  return detail::dump_go(j);
}

}  // namespace kiln::oci
