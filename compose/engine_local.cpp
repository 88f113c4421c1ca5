#include "compose/engine_local.h"

#include "compose/engine_resources.h"

#include <unistd.h>

#include <chrono>
#include <thread>

#include <nlohmann/json.hpp>

#include "cache/image_store.h"
#include "containers/container_create.h"
#include "containers/container_monitor.h"
#include "containers/container_ops.h"
#include "containers/container_stop.h"
#include "containers/container_store.h"
#include "containers/container_view.h"
#include "support/atomic_file.h"
#include "support/error.h"
#include "support/fs.h"

namespace kiln::compose {
namespace {

using containers::ContainerStore;

class LocalEngine : public Engine {
 public:
  LocalEngine(std::string root, MonitorArgv argv, ContainerStore store)
      : root_(std::move(root)),
        argv_(std::move(argv)),
        store_(std::move(store)),
        resources_(root_, store_) {}

  llvm::Error create_network(const std::string& name, const Labels& labels) override {
    return resources_.create_network(name, labels);
  }
  llvm::Error remove_network(const std::string& name) override {
    return resources_.remove_network(name);
  }
  llvm::Expected<bool> network_exists(const std::string& name) override {
    return resources_.network_exists(name);
  }
  llvm::Expected<std::vector<std::string>> list_networks(const Labels& labels) override {
    return resources_.list_networks(labels);
  }
  llvm::Error create_volume(const std::string& name, const Labels& labels) override {
    return resources_.create_volume(name, labels);
  }
  llvm::Error remove_volume(const std::string& name) override {
    return resources_.remove_volume(name);
  }
  llvm::Expected<bool> volume_exists(const std::string& name) override {
    return resources_.volume_exists(name);
  }
  llvm::Expected<std::vector<std::string>> list_volumes(const Labels& labels) override {
    return resources_.list_volumes(labels);
  }

  std::vector<ContainerInfo> all_containers() {
    std::vector<ContainerInfo> out;
    auto ids = store_.ids();
    if (!ids) {
      llvm::consumeError(ids.takeError());
      return out;
    }
    for (const auto& id : *ids) {
      auto info = inspect_container(id);
      if (!info) {
        llvm::consumeError(info.takeError());  // being created or removed
        continue;
      }
      out.push_back(std::move(*info));
    }
    return out;
  }

  llvm::Expected<std::vector<ContainerInfo>> list_containers(const Labels& labels) override {
    std::vector<ContainerInfo> out;
    for (auto& info : all_containers()) {
      if (has_labels(info.labels, labels)) {
        out.push_back(std::move(info));
      }
    }
    return out;
  }

  llvm::Expected<ContainerInfo> inspect_container(const std::string& id) override {
    auto view = containers::load_view(store_, id);
    if (!view) {
      return view.takeError();
    }
    const containers::ContainerSpec& spec = view->spec;
    const containers::ContainerState& state = view->state;
    ContainerInfo info;
    info.id = spec.id;
    info.name = spec.name;
    info.image = spec.image;
    info.image_id = spec.image_id;
    info.command = spec.process.args;
    info.labels = spec.labels;
    info.state = containers::status_name(state.status).str();
    info.exit_code = state.exit_code;
    info.health = state.health.status;
    if (!state.health.log.empty()) {
      info.health_output = state.health.log.back().output;
    }
    info.created_ns = spec.created_ns;
    info.started_ns = state.started_ns;
    info.finished_ns = state.finished_ns;
    info.pid = state.pid;
    for (const auto& p : containers::live_ports(spec, state)) {
      info.ports.push_back(p.host_ip + ":" + std::to_string(p.host_port) + "->" +
                           std::to_string(p.container_port) + "/" + p.protocol);
    }
    return info;
  }

  llvm::Expected<std::string> create_container(const ContainerRequest& r) override {
    containers::CreateFlags flags;
    flags.name = r.name;
    flags.env = r.env;
    flags.workdir = r.working_dir;
    flags.user = r.user;
    for (const auto& [k, v] : r.labels) {
      flags.labels.push_back(k + "=" + v);
    }
    if (auto err = resources_.apply(r, flags)) {
      return std::move(err);
    }
    flags.publish = r.publish;
    flags.restart = r.restart.empty() ? "no" : r.restart;
    flags.stop_signal = r.stop_signal;
    flags.stop_timeout = r.stop_timeout;
    flags.healthcheck = r.healthcheck;
    flags.init = r.init;
    flags.entrypoint = r.entrypoint;
    flags.auto_remove = r.auto_remove;
    flags.interactive = r.interactive;
    flags.tty = r.tty;
    flags.memory = r.memory;
    flags.cpus = r.cpus;
    flags.platform = r.platform;
    flags.dns = r.dns;
    flags.image_and_command.push_back(r.image);
    flags.image_and_command.insert(flags.image_and_command.end(), r.command.begin(),
                                   r.command.end());
    auto spec = containers::create_container(store_, flags, [](const std::string&) {});
    if (!spec) {
      return spec.takeError();
    }
    if (auto err = resources_.after_create(r, spec->id)) {
      llvm::consumeError(containers::remove_container(store_, spec->id, true));
      return std::move(err);
    }
    return spec->id;
  }

  llvm::Error start_container(const std::string& id) override {
    auto argv = argv_(id);
    if (!argv) {
      return argv.takeError();
    }
    auto started = containers::start_container(store_, id, *argv);
    return started ? llvm::Error::success() : started.takeError();
  }

  llvm::Error stop_container(const std::string& id, int timeout_s) override {
    if (timeout_s < 0) {
      auto spec = store_.load_spec(id);
      if (!spec) {
        return spec.takeError();
      }
      timeout_s = spec->stop_timeout;
    }
    return containers::stop_container(store_, id, timeout_s);
  }

  llvm::Error kill_container(const std::string& id, int signal) override {
    return containers::kill_container(store_, id, signal);
  }

  llvm::Error remove_container(const std::string& id, bool force) override {
    auto spec = store_.load_spec(id);
    if (auto err = containers::remove_container(store_, id, force)) {
      llvm::consumeError(spec ? llvm::Error::success() : spec.takeError());
      return err;
    }
    if (spec) {
      resources_.forget_container(spec->name);
    } else {
      llvm::consumeError(spec.takeError());
    }
    return llvm::Error::success();
  }

  llvm::Error read_logs(const std::string& id, int tail, bool follow,
                        const std::function<void(const LogLine&)>& on_line) override {
    std::string path = store_.paths(id).log();
    std::string pending;
    int64_t offset = 0;
    auto emit = [&](llvm::StringRef raw) {
      LogLine line;
      try {
        auto j = nlohmann::json::parse(raw.str());
        line.text = j.value("log", "");
        line.stderr_stream = j.value("stream", "") == "stderr";
        line.time = j.value("time", "");
      } catch (const std::exception&) {
        return;
      }
      if (!line.text.empty() && line.text.back() == '\n') {
        line.text.pop_back();
      }
      on_line(line);
    };
    // What is there now: the rotated file first, then the current one.
    std::vector<std::string> lines;
    for (const std::string& file : {path + ".1", path}) {
      auto text = fs::read_file(file);
      if (!text) {
        llvm::consumeError(text.takeError());
        continue;
      }
      if (file == path) {
        offset = static_cast<int64_t>(text->size());
      }
      llvm::StringRef rest = *text;
      while (!rest.empty()) {
        auto [line, tail_text] = rest.split('\n');
        if (tail_text.empty() && !rest.endswith("\n")) {
          if (file == path) {
            pending = line.str();
          }
          break;
        }
        lines.push_back(line.str());
        rest = tail_text;
      }
    }
    size_t first = tail >= 0 && static_cast<size_t>(tail) < lines.size() ? lines.size() - tail : 0;
    for (size_t i = first; i < lines.size(); ++i) {
      emit(lines[i]);
    }
    while (follow) {
      bool alive = store_.has_runner(id);
      auto text = fs::read_file(path);
      if (text) {
        if (static_cast<int64_t>(text->size()) < offset) {
          offset = 0;  // rotated
          pending.clear();
        }
        pending += text->substr(offset);
        offset = static_cast<int64_t>(text->size());
        size_t nl;
        while ((nl = pending.find('\n')) != std::string::npos) {
          emit(llvm::StringRef(pending).take_front(nl));
          pending.erase(0, nl + 1);
        }
      } else {
        llvm::consumeError(text.takeError());
      }
      if (!alive) {
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return llvm::Error::success();
  }

  llvm::Expected<std::string> image_id(const std::string& reference) override {
    auto images = cache::ImageStore::open(root_);
    if (!images) {
      return images.takeError();
    }
    auto record = (*images)->resolve(reference);
    if (!record) {
      llvm::consumeError(record.takeError());
      return "";
    }
    return record->config.str();
  }

  llvm::Expected<std::vector<containers::ProcessInfo>> processes(const std::string& id) override {
    return containers::container_processes(store_, id);
  }

  llvm::Error remove_image(const std::string& reference) override {
    auto images = cache::ImageStore::open(root_);
    if (!images) {
      return images.takeError();
    }
    auto removed = (*images)->remove(reference, cache::Force::no);
    return removed ? llvm::Error::success() : removed.takeError();
  }

 private:
  std::string root_;
  MonitorArgv argv_;
  ContainerStore store_;
  ProjectResources resources_;
};

}  // namespace

llvm::Expected<std::unique_ptr<Engine>> make_local_engine(const std::string& root,
                                                          MonitorArgv monitor_argv) {
  auto store = ContainerStore::open(root);
  if (!store) {
    return store.takeError();
  }
  return std::unique_ptr<Engine>(
      std::make_unique<LocalEngine>(root, std::move(monitor_argv), std::move(*store)));
}

}  // namespace kiln::compose
