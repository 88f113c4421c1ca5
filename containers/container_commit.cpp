#include "containers/container_commit.h"

#include <algorithm>
#include <chrono>

#include <nlohmann/json.hpp>

#include "cache/build_db.h"
#include "cache/image_store.h"
#include "cache/layer_blobs.h"
#include "cache/layer_unpack.h"
#include "cache/snapshot.h"
#include "exporter/image_commit.h"
#include "oci/image_config.h"
#include "oci/types.h"
#include "runtime/container_control.h"
#include "support/error.h"
#include "support/fs.h"

namespace kiln::containers {

namespace {

// CMD/ENTRYPOINT: exec form (a JSON array) or shell form.
std::vector<std::string> command_form(llvm::StringRef text) {
  auto json = nlohmann::json::parse(text.begin(), text.end(), nullptr, false);
  if (json.is_array() &&
      std::all_of(json.begin(), json.end(), [](const auto& v) { return v.is_string(); })) {
    return json.get<std::vector<std::string>>();
  }
  return {"/bin/sh", "-c", text.str()};
}

void set_env(std::vector<std::string>& env, llvm::StringRef entry) {
  llvm::StringRef key = entry.split('=').first;
  for (auto& e : env) {
    if (llvm::StringRef(e).split('=').first == key) {
      e = entry.str();
      return;
    }
  }
  env.push_back(entry.str());
}

// Applies one --change (a Dockerfile instruction docker commit accepts).
llvm::Error apply_change(oci::ContainerConfig& config, llvm::StringRef change) {
  auto [word, rest] = change.trim().split(' ');
  std::string instruction = word.upper();
  rest = rest.trim();
  if (instruction == "CMD") {
    config.cmd = command_form(rest);
  } else if (instruction == "ENTRYPOINT") {
    config.entrypoint = command_form(rest);
  } else if (instruction == "ENV") {
    auto [key, value] = rest.split(rest.contains('=') ? '=' : ' ');
    set_env(config.env, (key.trim() + "=" + value.trim()).str());
  } else if (instruction == "LABEL") {
    auto [key, value] = rest.split('=');
    config.labels[key.trim().str()] = value.trim().trim('"').str();
  } else if (instruction == "EXPOSE") {
    std::string port = rest.contains('/') ? rest.str() : rest.str() + "/tcp";
    if (std::find(config.exposed_ports.begin(), config.exposed_ports.end(), port) ==
        config.exposed_ports.end()) {
      config.exposed_ports.push_back(port);
    }
  } else if (instruction == "USER") {
    config.user = rest.str();
  } else if (instruction == "WORKDIR") {
    config.working_dir = rest.str();
  } else if (instruction == "STOPSIGNAL") {
    config.stop_signal = rest.str();
  } else {
    return llvm::make_error<UsageError>(
        "invalid change " + quote(change) +
        " (supported: CMD, ENTRYPOINT, ENV, EXPOSE, LABEL, STOPSIGNAL, USER, WORKDIR)");
  }
  return llvm::Error::success();
}

// The new image's config: the base image's, with the container's process
// settings, the --change instructions and a history entry for the new layer.
llvm::Expected<oci::ImageConfig> committed_config(const ContainerSpec& spec,
                                                  oci::ImageConfig config,
                                                  const CommitOptions& flags) {
  oci::ContainerConfig& c = config.config;
  const auto& args = spec.process.args;
  c.entrypoint.assign(args.begin(), args.begin() + spec.entrypoint_size);
  c.cmd.assign(args.begin() + spec.entrypoint_size, args.end());
  c.env = spec.process.env;
  c.user = spec.process.user;
  if (spec.process.cwd != "/" || !c.working_dir.empty()) {
    c.working_dir = spec.process.cwd;
  }
  for (const PublishedPort& p : spec.ports) {
    std::string port = std::to_string(p.container_port) + "/" + p.protocol;
    if (std::find(c.exposed_ports.begin(), c.exposed_ports.end(), port) == c.exposed_ports.end()) {
      c.exposed_ports.push_back(port);
    }
  }
  for (const auto& change : flags.changes) {
    if (auto err = apply_change(c, change)) {
      return err;
    }
  }
  auto now = std::chrono::system_clock::now().time_since_epoch();
  int64_t ns = std::chrono::duration_cast<std::chrono::nanoseconds>(now).count();
  config.created = exporter::rfc3339(ns / 1000000000, ns % 1000000000);
  if (!flags.author.empty()) {
    config.author = flags.author;
  }
  oci::HistoryEntry history;
  history.created = config.created;
  std::string created_by;
  for (const auto& a : args) {
    created_by += (created_by.empty() ? "" : " ") + a;
  }
  history.created_by = created_by;
  history.author = flags.author;
  history.comment = flags.message;
  config.history.push_back(history);
  return config;
}

// Records the base image's layer blobs so that assembling reuses them as stored.
llvm::Error record_base_layers(cache::ImageStore& images, cache::BuildDb& db,
                               const std::string& image_id) {
  auto record = images.resolve(image_id);
  if (!record) {
    // The image was removed: its layers are packed again from the snapshots.
    llvm::consumeError(record.takeError());
    return llvm::Error::success();
  }
  auto manifest_json = images.content().read(record->manifest);
  auto config_json = images.content().read(record->config);
  if (!manifest_json || !config_json) {
    return llvm::joinErrors(manifest_json ? llvm::Error::success() : manifest_json.takeError(),
                            config_json ? llvm::Error::success() : config_json.takeError());
  }
  auto manifest = oci::parse_manifest(*manifest_json);
  auto config = oci::parse_image_config(*config_json);
  if (!manifest || !config) {
    return llvm::joinErrors(manifest ? llvm::Error::success() : manifest.takeError(),
                            config ? llvm::Error::success() : config.takeError());
  }
  for (size_t i = 0; i < manifest->layers.size() && i < config->diff_ids.size(); ++i) {
    const oci::Descriptor& layer = manifest->layers[i];
    auto compression = cache::compression_of_media_type(layer.media_type);
    if (auto err = db.record_layer(config->diff_ids[i], cache::compression_name(compression),
                                   {layer.digest, static_cast<uint64_t>(layer.size)})) {
      return err;
    }
  }
  return llvm::Error::success();
}

// Stores the packed layer `layer` as the snapshot over `parent` (unpacked from its
// blob, so the container's own upper dir stays as it is). Returns the chain ID.
llvm::Expected<Digest> add_snapshot(const cache::SnapshotStore& snapshots,
                                    const cache::ContentStore& content,
                                    const cache::StoredLayer& layer,
                                    const std::optional<Digest>& parent) {
  Digest chain = parent ? cache::chain_id(*parent, layer.diff_id) : layer.diff_id;
  if (snapshots.contains(chain)) {
    return chain;
  }
  auto tmp = fs::make_temp_dir(fs::join(snapshots.root(), "tmp"), "commit-");
  if (!tmp) {
    return tmp.takeError();
  }
  std::string dir = fs::join(*tmp, "fs");
  llvm::Error err = fs::make_dirs(dir);
  if (!err) {
    auto unpacked = cache::unpack_layer(content.blob_path(layer.blob), dir, layer.diff_id);
    err = unpacked ? llvm::Error::success() : unpacked.takeError();
  }
  llvm::Expected<Digest> added =
      err ? llvm::Expected<Digest>(std::move(err)) : snapshots.add_dir(dir, parent, layer.diff_id);
  llvm::consumeError(fs::remove_all(*tmp));
  return added;
}

}  // namespace

llvm::Expected<Digest> commit_container(llvm::StringRef root, const CommitOptions& flags) {
  std::vector<std::string> names;
  if (!flags.reference.empty()) {
    auto name = cache::normalize_image_name(flags.reference);
    if (!name) {
      return name.takeError();
    }
    names.push_back(*name);
  }
  auto containers = ContainerStore::open(root);
  if (!containers) {
    return containers.takeError();
  }
  auto id = containers->resolve(flags.container);
  if (!id) {
    return id.takeError();
  }
  auto spec = containers->load_spec(*id);
  if (!spec) {
    return spec.takeError();
  }
  ContainerPaths paths = containers->paths(*id);
  auto image_json = fs::read_file(paths.image_config());
  if (!image_json) {
    return image_json.takeError();
  }
  auto base = oci::parse_image_config(*image_json);
  if (!base) {
    return base.takeError();
  }
  auto config = committed_config(*spec, std::move(*base), flags);
  if (!config) {
    return config.takeError();
  }
  auto images = cache::ImageStore::open(root);
  auto snapshots = images ? cache::SnapshotStore::open(root)
                          : llvm::Expected<cache::SnapshotStore>(images.takeError());
  auto db = snapshots ? cache::BuildDb::open(root)
                      : llvm::Expected<std::unique_ptr<cache::BuildDb>>(snapshots.takeError());
  if (!db) {
    return db.takeError();
  }
  auto lease = (*images)->content().lease(cache::LeaseMode::shared);
  if (!lease) {
    return lease.takeError();
  }
  // docker pauses a running container so that the layer is a consistent copy.
  std::optional<runtime::ContainerControl> paused;
  if (flags.pause && containers->has_runner(*id)) {
    auto control = runtime::ContainerControl::open(container_runtime(containers->root()));
    if (control && !control->pause(*id)) {
      paused = *control;
    } else if (!control) {
      llvm::consumeError(control.takeError());
    }
  }
  auto chain = [&]() -> llvm::Expected<Digest> {
    auto snapshot = snapshots->open_mutable(paths.snapshot());
    if (!snapshot) {
      return snapshot.takeError();
    }
    auto parent = snapshot->parent();
    auto diff = snapshot->diff_dir();
    auto stored = diff ? cache::store_layer((*images)->content(), **db, *diff, {})
                       : llvm::Expected<cache::StoredLayer>(diff.takeError());
    llvm::consumeError(snapshot->persist(paths.snapshot()));
    if (!stored) {
      return stored.takeError();
    }
    return add_snapshot(*snapshots, (*images)->content(), *stored, parent);
  }();
  if (paused) {
    llvm::consumeError(paused->resume(*id));
  }
  if (!chain) {
    return with_context(chain.takeError(), "commit " + quote(flags.container));
  }
  if (auto err = record_base_layers(**images, **db, spec->image_id)) {
    return err;
  }
  exporter::ImageAssembly assembly;
  assembly.chain = *chain;
  assembly.config = std::move(*config);
  auto assembled = exporter::assemble_image(**images, *snapshots, **db, assembly);
  if (!assembled) {
    return assembled.takeError();
  }
  auto added = (*images)->add(assembled->manifest_digest, names);
  if (!added) {
    return added.takeError();
  }
  return assembled->config_digest;
}

}  // namespace kiln::containers
