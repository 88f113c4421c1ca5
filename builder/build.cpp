#include "builder/build.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <thread>

#include <llvm/Support/FileSystem.h>
#include <nlohmann/json.hpp>

#include "builder/build_attempt.h"
#include "builder/build_finish.h"
#include "builder/build_platforms.h"
#include "builder/build_registry.h"
#include "builder/build_targets.h"
#include "cache/image_index.h"
#include "cache/image_store.h"
#include "cache/snapshot.h"
#include "exporter/image_commit.h"
#include "exporter/outputs.h"
#include "frontend/dockerignore.h"
#include "frontend/source_epoch.h"
#include "oci/image_config.h"
#include "oci/reference.h"
#include "runtime/executor.h"
#include "solver/core/scheduler.h"
#include "solver/ops/cache_index.h"
#include "solver/ops/op_graph.h"
#include "solver/ops/source_time.h"
#include "support/atomic_file.h"
#include "support/error.h"
#include "support/fs.h"
#include "support/signal_watch.h"
#include "support/trace.h"

namespace kiln::builder {
namespace {

using exporter::parse_csv_kv;

/// Base images from the local store, for the lowering (configs) and the image
/// source op (layers). Thread-safe: one store connection under a mutex.
class StoreImages : public frontend::ImageMetaResolver, public solver::ops::ImageSourceResolver {
 public:
  explicit StoreImages(std::unique_ptr<cache::ImageStore> store) : store_(std::move(store)) {}

  llvm::Expected<frontend::ImageMeta> resolve(const std::string& ref,
                                              const std::string& platform) override {
    std::lock_guard lock(mu_);
    auto found = find(ref, platform);
    if (!found) {
      return found.takeError();
    }
    auto config = store_->content().read(found->config);
    if (!config) {
      return config.takeError();
    }
    return frontend::ImageMeta{std::move(*config), found->manifest};
  }

  llvm::Expected<solver::ops::StoredImage> stored_image(const std::string& ref,
                                                        const std::string& platform) override {
    std::lock_guard lock(mu_);
    auto found = find(ref, platform);
    if (!found) {
      return found.takeError();
    }
    auto manifest_json = store_->content().read(found->manifest);
    auto config_json = manifest_json ? store_->content().read(found->config)
                                     : llvm::Expected<std::string>(manifest_json.takeError());
    if (!config_json) {
      return config_json.takeError();
    }
    auto manifest = oci::parse_manifest(*manifest_json);
    auto config = manifest ? oci::parse_image_config(*config_json)
                           : llvm::Expected<oci::ImageConfig>(manifest.takeError());
    if (!config) {
      return with_context(config.takeError(), "image " + quote(ref));
    }
    if (config->diff_ids.size() != manifest->layers.size()) {
      return make_error("image " + quote(ref) + ": the config lists " +
                        llvm::Twine(config->diff_ids.size()) + " layers, the manifest " +
                        llvm::Twine(manifest->layers.size()));
    }
    solver::ops::StoredImage out;
    out.manifest = found->manifest;
    out.config = found->config;
    for (size_t i = 0; i < manifest->layers.size(); ++i) {
      const auto& d = manifest->layers[i];
      out.layers.push_back({store_->content().blob_path(d.digest), config->diff_ids[i]});
      out.blob_digests.push_back(d.digest);
      out.media_types.push_back(d.media_type);
    }
    return out;
  }

  cache::ImageStore& store() { return *store_; }
  std::mutex& mutex() { return mu_; }
  /// Pulls what the store lacks (and everything with --pull). Borrowed.
  void set_puller(BuildPuller* puller) { puller_ = puller; }

 private:
  /// The manifest and config of `ref` for `platform` (an index's platform, or a
  /// manifest whose config is of that platform).
  llvm::Expected<cache::PlatformManifest> find(const std::string& ref,
                                               const std::string& platform_text) {
    auto platform = oci::parse_normalized_platform(platform_text);
    if (!platform) {
      return platform.takeError();
    }
    if (puller_ && puller_->always()) {
      return pull(ref, *platform);
    }
    auto found = store_->resolve(ref);
    if (found) {
      auto chosen = cache::manifest_for_platform(store_->content(), found->manifest, *platform);
      if (chosen || !puller_) {
        return with_context(std::move(chosen),
                            "failed to resolve source metadata for " + quote(ref));
      }
      // Another platform of the name may be in its registry; if not, say both.
      std::string local = error_message(chosen.takeError());
      auto pulled = puller_->pull(*store_, ref, platform->str());
      if (!pulled) {
        return make_error("failed to resolve source metadata for " + quote(ref) + ": " + local +
                          "; " + error_message(pulled.takeError()));
      }
      return cache::manifest_for_platform(store_->content(), pulled->manifest, *platform);
    } else {
      llvm::consumeError(found.takeError());
      // A platform's manifest of a stored index ("name@sha256:..." as the lowering
      // pinned it) is in the content store, held by its index.
      auto at = llvm::StringRef(ref).rsplit('@');
      auto digest = Digest::parse(at.second);
      if (digest && store_->content().exists(*digest)) {
        return cache::manifest_for_platform(store_->content(), *digest, *platform);
      }
      if (!digest) {
        llvm::consumeError(digest.takeError());
      }
    }
    if (puller_) {
      return pull(ref, *platform);
    }
    return make_error("failed to resolve source metadata for " + quote(ref) +
                      ": not found in the local store (kiln pull or kiln load it first)");
  }

  llvm::Expected<cache::PlatformManifest> pull(const std::string& ref,
                                               const oci::Platform& platform) {
    auto pulled = puller_->pull(*store_, ref, platform.str());
    if (!pulled) {
      return with_context(pulled.takeError(), "failed to resolve source metadata for " +
                                                  quote(ref) + ": not in the local store");
    }
    return cache::manifest_for_platform(store_->content(), pulled->manifest, platform);
  }

  BuildPuller* puller_ = nullptr;

  std::mutex mu_;
  std::unique_ptr<cache::ImageStore> store_;
};

/// The .dockerignore patterns (`<Dockerfile>.dockerignore` first) as a context
/// filter with Docker's pattern semantics. A directory is kept when it is not
/// excluded or when a `!` exception may re-include something below it.
llvm::Expected<cache::PathFilter> context_filter(const std::string& context,
                                                 const std::string& dockerfile) {
  auto patterns =
      frontend::load_dockerignore(context, dockerfile == "-" ? std::string() : dockerfile);
  if (!patterns) {
    return patterns.takeError();
  }
  if (patterns->empty()) {
    return cache::PathFilter();
  }
  auto matcher = frontend::PatternMatcher::create(*patterns);
  if (!matcher) {
    return with_context(matcher.takeError(), ".dockerignore");
  }
  auto shared = std::make_shared<frontend::PatternMatcher>(std::move(*matcher));
  return cache::PathFilter([shared](llvm::StringRef path, bool is_dir) {
    if (is_dir) {
      auto d = shared->match_dir(path);
      return !d.excluded || d.must_descend;
    }
    return !shared->matches(path);
  });
}

/// --ssh: each id's agent socket. A key file (or several paths) is refused:
/// kiln relays an agent, it does not run one.
llvm::Error add_ssh_agents(const std::vector<std::string>& flags, solver::ops::SolveContext& ctx) {
  for (const auto& flag : flags) {
    auto [id, path] = llvm::StringRef(flag).split('=');
    if (id.empty()) {
      return llvm::make_error<UsageError>("invalid ssh " + quote(flag) + ": missing id");
    }
    std::string socket = path.str();
    if (!llvm::StringRef(flag).contains('=')) {
      const char* env = std::getenv("SSH_AUTH_SOCK");
      socket = env ? env : "";
      if (socket.empty()) {
        return llvm::make_error<UsageError>(
            "invalid empty ssh agent socket: make sure SSH_AUTH_SOCK is set");
      }
    }
    struct stat st {};
    if (socket.find(',') == std::string::npos && ::stat(socket.c_str(), &st) != 0) {
      return llvm::make_error<UsageError>("ssh " + quote(id) + ": " + quote(socket) + ": " +
                                          std::strerror(errno));
    }
    if (socket.find(',') != std::string::npos || !S_ISSOCK(st.st_mode)) {
      return llvm::make_error<UsageError>(
          "ssh " + quote(id) + ": " + quote(socket) +
          " is not an ssh-agent socket (kiln forwards an agent; for a key file, start "
          "ssh-agent, ssh-add the key and give its socket)");
    }
    llvm::SmallString<256> abs(socket);
    llvm::sys::fs::make_absolute(abs);
    ctx.ssh_agents[id.str()] = std::string(abs);
  }
  return llvm::Error::success();
}

llvm::Error add_secrets(const std::vector<std::string>& flags, solver::ops::SolveContext& ctx) {
  for (const auto& flag : flags) {
    auto kv = parse_csv_kv(flag);
    kv.erase("type");
    std::string id = kv.count("id") ? kv["id"] : "";
    if (id.empty()) {
      return llvm::make_error<UsageError>("invalid secret " + quote(flag) + ": missing id=");
    }
    std::string src = kv.count("src") ? kv["src"] : kv.count("source") ? kv["source"] : "";
    std::string env = kv.count("env") ? kv["env"] : "";
    if (src.empty() && env.empty()) {
      env = id;
    }
    if (!src.empty()) {
      auto data = fs::read_file(src);
      if (!data) {
        return with_context(data.takeError(), "secret " + quote(id));
      }
      ctx.secrets[id] = {std::move(*data)};
    } else if (const char* value = std::getenv(env.c_str())) {
      ctx.secrets[id] = {value};
    } else {
      return llvm::make_error<UsageError>("secret " + quote(id) + ": environment variable " +
                                          quote(env) + " is not set");
    }
  }
  return llvm::Error::success();
}

/// The OCI runtime KILN_OCI_RUNTIME names (runc when unset), its bundles under
/// ROOT/tmp/exec.
llvm::Expected<std::unique_ptr<runtime::Executor>> oci_executor(const std::string& root) {
  auto kind = runtime::parse_runtime_kind(
      std::getenv("KILN_OCI_RUNTIME") ? std::getenv("KILN_OCI_RUNTIME") : "");
  if (!kind) {
    return kind.takeError();
  }
  runtime::ExecutorOptions exec_opts;
  exec_opts.kind = *kind;
  exec_opts.state_dir = fs::join(root, "tmp/exec");
  exec_opts.runtime_root = fs::join(root, "runc");  // the store's build containers
  exec_opts.runtime_root_exclusive = true;
  return runtime::make_oci_executor(exec_opts);
}

/// SOURCE_DATE_EPOCH (frontend::resolve_epoch_source): a number, or the time of what
/// it names (a source stage's download). A name's value in the build args becomes
/// that number, or empty when what it names has no time, as BuildKit rewrites it,
/// so that `ARG SOURCE_DATE_EPOCH` in a stage sees the number.
llvm::Expected<std::optional<int64_t>> source_date_epoch(const solver::ops::SolveContext& ctx,
                                                         frontend::LowerOptions& lower,
                                                         const frontend::Dockerfile& dockerfile) {
  auto source = frontend::resolve_epoch_source(dockerfile, lower, std::getenv("SOURCE_DATE_EPOCH"));
  if (!source) {
    return source.takeError();
  }
  std::optional<int64_t> epoch = source->seconds;
  if (source->http) {
    auto time = solver::ops::http_source_time(ctx, *source->http);
    if (!time) {
      return with_context(time.takeError(), "SOURCE_DATE_EPOCH " + quote(source->value));
    }
    epoch = *time;
  }
  if (source->value.empty() || source->seconds) {
    return epoch;
  }
  bool declared = std::any_of(
      dockerfile.meta_args.begin(), dockerfile.meta_args.end(), [](const frontend::ArgCmd& cmd) {
        return std::any_of(cmd.args.begin(), cmd.args.end(),
                           [](const frontend::ArgDef& a) { return a.name == "SOURCE_DATE_EPOCH"; });
      });
  if (declared || lower.build_args.count("SOURCE_DATE_EPOCH")) {
    lower.build_args["SOURCE_DATE_EPOCH"] = epoch ? std::to_string(*epoch) : "";
  }
  return epoch;
}

/// BuildKit's report of a failed step: the step's last output lines (an event),
/// then the error located at the step's Dockerfile lines.
llvm::Error explain_failure(llvm::Error err, const llb::Vertex* v,
                            const frontend::Dockerfile& dockerfile, BuildEvents& events,
                            BuildAttempt& attempt) {
  if (!v || err.isA<CancelledError>()) {
    return err;
  }
  std::vector<std::string> lines;
  std::string message;
  llvm::handleAllErrors(
      std::move(err),
      [&](const ExecError& e) {
        lines = e.last_lines();
        message = e.message();
      },
      [&](const llvm::ErrorInfoBase& e) { message = e.message(); });
  attempt.out_of_space = mentions_enospc(message, lines);
  if (attempt.out_of_space && !attempt.last_try) {
    return make_error(message);  // evicted and retried by build()
  }
  if (attempt.out_of_space) {
    message = "step " + quote(v->metadata().description) + ": " + message +
              " (the store's file system is full, even after evicting unused build cache)";
  }
  events.step_failed(v->metadata().description, lines);
  const auto& ast = dockerfile.ast;
  return llvm::make_error<SourceError>("failed to solve: " + message, ast.file_name,
                                       v->metadata().ranges, ast.source);
}

/// The local directories of the solve: each request's context under its name in
/// `names` (one LocalDir for requests that share one), and the named build
/// contexts (the same for every request).
llvm::Error add_locals(const std::vector<BuildRequest>& requests,
                       const std::vector<std::string>& names, cache::StatCache& stat_cache,
                       solver::ops::SolveContext& ctx) {
  for (size_t i = 0; i < requests.size(); ++i) {
    if (ctx.locals.count(names[i])) {
      continue;
    }
    const BuildOptions& flags = requests[i].options;
    auto filter = context_filter(flags.context, flags.dockerfile_path);
    if (!filter) {
      return filter.takeError();
    }
    ctx.locals[names[i]] =
        std::make_unique<solver::ops::LocalDir>(flags.context, *filter, &stat_cache);
  }
  for (const auto& bc : requests.front().options.build_contexts) {
    auto [name, path] = llvm::StringRef(bc).split('=');
    if (name.empty() || path.empty()) {
      return llvm::make_error<UsageError>("invalid build context " + quote(bc) +
                                          " (expected name=path)");
    }
    // A directory's own .dockerignore applies to it, as BuildKit's named local contexts.
    cache::PathFilter named_filter;
    if (!path.startswith("docker-image://")) {
      auto f = context_filter(path.str(), "");
      if (!f) {
        return with_context(f.takeError(), "build context " + quote(name));
      }
      named_filter = std::move(*f);
    }
    ctx.locals[name.str()] =
        std::make_unique<solver::ops::LocalDir>(path.str(), std::move(named_filter), nullptr);
  }
  return llvm::Error::success();
}

/// One request: its Dockerfile for its platforms (several share one graph).
/// Several requests: one graph, `platforms[i]` request i's stages.
llvm::Expected<frontend::MultiLowerResult> lower_requests(const std::vector<BuildRequest>& requests,
                                                          const std::vector<std::string>& names,
                                                          frontend::ImageMetaResolver& resolver) {
  std::vector<frontend::LowerTarget> targets;
  for (size_t i = 0; i < requests.size(); ++i) {
    const BuildRequest& r = requests[i];
    auto platforms = target_platforms(r.options.platforms);
    if (!platforms) {
      return platforms.takeError();
    }
    frontend::LowerOptions lower = r.lower;
    lower.resolver = &resolver;
    if (requests.size() == 1) {
      return lower_for_platforms(*r.dockerfile, lower, *platforms);
    }
    if (!platforms->empty()) {
      lower.target_platform = platforms->front();
    }
    lower.context_name = names[i];
    targets.push_back({r.name, r.dockerfile, std::move(lower)});
  }
  return frontend::lower_targets(targets);
}

/// The step history's project: the one build's context and Dockerfile, or for
/// several, every build's (so that the next solve of the same builds compares
/// with this one).
CacheProject cache_project(const std::vector<BuildRequest>& requests) {
  const BuildOptions& first = requests.front().options;
  CacheProject project{first.context, first.dockerfile_path, {}, first.registry};
  for (size_t i = 1; i < requests.size(); ++i) {
    project.dockerfile +=
        "\n" + requests[i].options.context + "\n" + requests[i].options.dockerfile_path;
  }
  for (const auto& r : requests) {
    for (const auto& [k, v] : r.lower.build_args) {
      project.build_args.insert(k);
    }
  }
  return project;
}

/// Fails with a UsageError when the requests cannot be one solve.
llvm::Error check_shareable(const std::vector<BuildRequest>& requests) {
  if (requests.empty()) {
    return llvm::make_error<UsageError>("nothing to build");
  }
  for (size_t i = 1; i < requests.size(); ++i) {
    if (!can_share_solve(requests.front(), requests[i])) {
      return llvm::make_error<UsageError>(
          "build " + quote(requests[i].name) + " cannot share one solve with " +
          quote(requests.front().name) +
          " (different solve options, several platforms, or a cache import or export)");
    }
  }
  return llvm::Error::success();
}

}  // namespace

llvm::Expected<std::vector<BuildResult>> build_many_in_store(
    const std::vector<BuildRequest>& requests, BuildEvents& events, BuildAttempt& attempt) {
  if (auto err = check_shareable(requests)) {
    return err;
  }
  const BuildRequest& request = requests.front();
  const BuildOptions& flags = request.options;
  bool several = requests.size() > 1;
  std::vector<std::vector<std::string>> names;
  for (const auto& r : requests) {
    llvm::Error tag_err = llvm::Error::success();
    names.push_back(normalized_tags(r.options.tags, tag_err));
    if (tag_err) {
      return tag_err;
    }
  }
  trace("solve_build: start");
  auto store = cache::ImageStore::open(request.root);
  if (!store) {
    return store.takeError();
  }
  StoreImages images(std::move(*store));
  BuildPuller puller(flags.registry, flags.pull);
  images.set_puller(&puller);
  auto snapshots = cache::SnapshotStore::open(request.root);
  auto db = snapshots ? cache::BuildDb::open(request.root)
                      : llvm::Expected<std::unique_ptr<cache::BuildDb>>(snapshots.takeError());
  if (!db) {
    return db.takeError();
  }
  std::unique_ptr<runtime::Executor> own_executor;
  if (!request.executor) {
    auto made = oci_executor(request.root);
    if (!made) {
      return made.takeError();
    }
    own_executor = std::move(*made);
  }
  runtime::Executor* executor = request.executor ? request.executor : own_executor.get();

  solver::ops::SolveContext ctx{
      request.root, images.store().content(), *snapshots, db->get(), executor, &images, {}, {}, {}};
  // Each request's SOURCE_DATE_EPOCH build arg as the stage or context it names
  // resolves (they agree: can_share_solve); the first one's is the solve's.
  std::vector<BuildRequest> prepared = requests;
  llvm::Expected<std::optional<int64_t>> epoch = std::nullopt;
  for (size_t i = 0; i < prepared.size(); ++i) {
    auto one = source_date_epoch(ctx, prepared[i].lower, *prepared[i].dockerfile);
    if (!one) {
      return one.takeError();
    }
    if (i == 0) {
      epoch = *one;
    }
  }
  if (!epoch) {
    return epoch.takeError();
  }
  ctx.options.source_date_epoch = *epoch;
  ctx.options.compression = cache::Compression::none;
  ctx.options.no_cache_stages.insert(flags.no_cache_filter.begin(), flags.no_cache_filter.end());
  ctx.options.no_cache = flags.no_cache;
  if (flags.network == "none") {
    ctx.options.default_network = runtime::NetworkMode::none;
  } else if (!flags.network.empty() && flags.network != "host" && flags.network != "default") {
    return llvm::make_error<UsageError>("unsupported network mode " + quote(flags.network) +
                                        " (choose from host, none)");
  }
  trace("stores open");
  cache::StatCache stat_cache(fs::join(request.root, "statcache.bin"));
  if (auto err = stat_cache.load()) {
    return err;
  }
  trace("stat cache loaded");
  std::vector<std::string> locals =
      several ? context_names(requests) : std::vector<std::string>{"context"};
  if (auto err = add_locals(requests, locals, stat_cache, ctx)) {
    return err;
  }
  if (auto err = add_secrets(flags.secrets, ctx)) {
    return err;
  }
  if (auto err = add_ssh_agents(flags.ssh, ctx)) {
    return err;
  }
  auto lowered = lower_requests(prepared, locals, images);
  if (!lowered) {
    return lowered.takeError();
  }
  trace("lowered");
  // Each step's progress is named after the builds that need it (when they have
  // names: a plain `kiln build` has none).
  std::vector<const llb::Vertex*> targets;
  std::vector<std::string> request_names;
  for (size_t i = 0; i < lowered->platforms.size(); ++i) {
    const auto& p = lowered->platforms[i];
    targets.push_back(p.stages[p.target].vertex);
    request_names.push_back(requests[several ? i : 0].name);
  }
  TargetUsers users(targets, request_names);
  TargetEvents sink(events, users);
  if (auto err = sink.begin()) {
    return err;
  }
  auto build_cache = BuildCache::open(flags.cache, cache_project(requests), ctx, images.store(),
                                      images.mutex(), sink);
  if (!build_cache) {
    return build_cache.takeError();
  }

  solver::ops::OpGraph graph(lowered->definition, ctx);
  solver::ops::SnapshotCacheStore cache_store(**db, *snapshots);
  solver::ops::FileStepLocks locks(request.root);
  solver::core::SchedulerOptions sched_opts;
  sched_opts.jobs = flags.jobs;
  if (several && flags.jobs == 0) {
    // As many containers at once as the builds had each in a solve of its own
    // (one per CPU each): independent services still build side by side.
    sched_opts.jobs =
        std::max(1u, std::thread::hardware_concurrency()) * static_cast<unsigned>(requests.size());
  }
  sched_opts.store = &cache_store;
  sched_opts.locks = &locks;
  sched_opts.lookup =
      flags.no_cache ? solver::core::CacheLookup::no : solver::core::CacheLookup::yes;
  // Link layers start while their bases are built, unless the cache comes from
  // elsewhere (an imported cache has no link layers: each would be made in vain).
  sched_opts.speculate = flags.cache.cache_from.empty();
  (*build_cache)->attach(sched_opts, cache_store, lowered->definition, graph);
  solver::core::CancelToken cancel;
  ctx.cancel = &cancel;
  std::optional<Digest> failed;  // the first step that failed
  llvm::Expected<std::vector<solver::core::Solved>> solved = make_error("not solved");
  {
    // SIGINT and SIGTERM cancel the solve (each step's container is killed).
    SignalWatch signals({SIGINT, SIGTERM}, [&cancel](int) { cancel.cancel(); });
    solver::core::Scheduler scheduler(sched_opts);
    auto progress = [&sink, &failed](const solver::core::ProgressEvent& e) {
      if (e.kind == solver::core::ProgressKind::error && !failed) {
        failed = e.vertex;
      }
      sink.progress(e);
    };
    // Every platform's (or build's) target in one scheduler: steps they share run once.
    std::vector<const solver::core::Vertex*> roots;
    for (const llb::Vertex* t : targets) {
      roots.push_back(&graph.vertex(t));
    }
    llvm::consumeError(solved.takeError());
    trace("solve: start");
    solved = solve_roots(scheduler, roots, progress, cancel);
    trace("solve: done");
  }
  llvm::consumeError(stat_cache.save());
  trace("stat cache saved");
  (*build_cache)->after_solve();
  if (!solved) {
    sink.finish(false);
    const llb::Vertex* v = failed ? lowered->definition.find(*failed) : nullptr;
    // The step's lines are in the Dockerfile of the first build that needs it.
    size_t owner = several && failed ? users.first(*failed).value_or(0) : 0;
    auto err = explain_failure(solved.takeError(), v, *requests[owner].dockerfile, sink, attempt);
    if (!requests[owner].name.empty() && !err.isA<CancelledError>()) {
      err = with_context(std::move(err), "target " + quote(requests[owner].name));
    }
    return err;
  }
  if (!several && lowered->platforms.size() > 1) {
    auto built =
        finish_platforms(request, *lowered, *solved, images.store(), images.mutex(), *snapshots,
                         **db, **build_cache, ctx.options.source_date_epoch, names[0], events);
    if (!built) {
      return built.takeError();
    }
    return std::vector<BuildResult>{*built};
  }
  FinishContext fc{request.root,
                   images.store(),
                   images.mutex(),
                   *snapshots,
                   **db,
                   **build_cache,
                   ctx.options.source_date_epoch,
                   sink};
  std::vector<BuildResult> results;
  for (size_t i = 0; i < requests.size(); ++i) {
    const auto& p = lowered->platforms[i];
    const auto* fs_result =
        dynamic_cast<const solver::ops::SnapshotResult*>((*solved)[i].result.get());
    llvm::Expected<BuildResult> built =
        fs_result ? finish_image(fc, requests[i].options, fs_result->chain(),
                                 p.stages[p.target].config, names[i])
                  : make_error("the target stage does not produce a file system");
    if (!built) {
      sink.finish(false);
      return requests[i].name.empty()
                 ? built.takeError()
                 : with_context(built.takeError(), "target " + quote(requests[i].name));
    }
    results.push_back(*built);
  }
  sink.finish(true);
  trace("done");
  return results;
}

}  // namespace kiln::builder
