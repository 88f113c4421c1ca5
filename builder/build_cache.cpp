#include "builder/build_cache.h"

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <mutex>

#include <llvm/ADT/StringExtras.h>

#include "builder/build_cache_flags.h"
#include "cache/layer_blobs.h"
#include "exporter/cache_export.h"
#include "exporter/cache_import.h"
#include "exporter/cache_mounts.h"
#include "exporter/registry_store.h"
#include "oci/media_types.h"
#include "oci/reference.h"
#include "solver/ops/build_cache_store.h"
#include "solver/ops/step_history.h"
#include "support/error.h"
#include "support/fs.h"

namespace kiln::builder {

namespace {

std::string real_path(const std::string& path) {
  char* r = ::realpath(path.c_str(), nullptr);
  if (!r) {
    return path;
  }
  std::string out = r;
  std::free(r);
  return out;
}

std::string human_bytes(uint64_t n) {
  char buf[32];
  if (n >= 1024 * 1024) {
    std::snprintf(buf, sizeof(buf), "%.1f MB", static_cast<double>(n) / (1024 * 1024));
  } else if (n >= 1024) {
    std::snprintf(buf, sizeof(buf), "%.1f kB", static_cast<double>(n) / 1024);
  } else {
    std::snprintf(buf, sizeof(buf), "%llu B", static_cast<unsigned long long>(n));
  }
  return buf;
}

class ImportedAdapter : public solver::ops::ImportedResults {
 public:
  explicit ImportedAdapter(exporter::CacheImporter& importer) : importer_(importer) {}
  llvm::Expected<std::optional<cache::CachedStep>> load(const solver::core::CacheKey& key,
                                                        const std::string& step) override {
    return importer_.load(key, step);
  }

 private:
  exporter::CacheImporter& importer_;
};

}  // namespace

struct BuildCache::Impl {
  Impl(solver::ops::SolveContext& c) : ctx(c), blobs(c.content) {}

  CacheFlags flags;
  CacheProject project;
  Digest project_id;
  solver::ops::SolveContext& ctx;
  BuildEvents* events = nullptr;
  std::vector<CacheTarget> targets;
  ContentBlobStore blobs;
  std::unique_ptr<registry::Client> client;
  std::unique_ptr<exporter::CacheImporter> importer;
  std::unique_ptr<ImportedAdapter> adapter;
  std::unique_ptr<solver::ops::BuildCacheStore> store;
  std::unique_ptr<solver::ops::StepRecorder> recorder;
  const llb::Definition* definition = nullptr;
  /// Set by after_solve().
  std::vector<solver::ops::StepRecord> records;
  std::map<Digest, solver::ops::KeyOutcome> outcomes;
  std::mutex warn_mu;

  void warn(const std::string& msg);
  llvm::Expected<registry::Client*> registry_client();
  llvm::Error add_origin(const CacheOrigin& o, cache::ImageStore& images, std::mutex& images_mu);
  void explain(const std::set<Digest>& missed,
               const std::vector<std::vector<solver::ops::StepRecord>>& previous);
  llvm::Expected<exporter::CacheConfigBuilder> collect(bool max,
                                                       const std::optional<Digest>& final_chain,
                                                       const cache::PackOptions& pack);
  llvm::Error add_mounts(exporter::CacheConfigBuilder& builder, const cache::PackOptions& pack);
  void add_steps(exporter::CacheConfigBuilder& builder);
  llvm::Expected<exporter::CacheExportStats> export_one(const CacheTarget& t,
                                                        const std::optional<Digest>& final_chain);
  exporter::BlobFetcher fetcher() {
    if (!importer) {
      return {};
    }
    return [this](const Digest& d) { return importer->fetch_blob(d); };
  }
};

void BuildCache::Impl::warn(const std::string& msg) {
  std::lock_guard lock(warn_mu);
  events->warning(msg);
}

llvm::Expected<registry::Client*> BuildCache::Impl::registry_client() {
  if (!client) {
    registry::ClientOptions options;
    options.max_retries = 2;  // a cache is an optimization: do not wait long for it
    auto made = make_registry_client(project.registry, std::move(options));
    if (!made) {
      return made.takeError();
    }
    client = std::move(*made);
  }
  return client.get();
}

llvm::Error BuildCache::Impl::add_origin(const CacheOrigin& o, cache::ImageStore& images,
                                         std::mutex& images_mu) {
  std::unique_ptr<exporter::CacheSource> source;
  if (o.type == "local") {
    source = exporter::local_cache_source(o.where, o.tag);
  } else {
    auto ref = oci::parse_reference(o.where);
    if (!ref) {
      return with_context(ref.takeError(), "invalid --cache-from " + quote(o.spec));
    }
    if (o.type == "image") {
      std::lock_guard lock(images_mu);
      auto found = images.resolve(o.where);
      if (found) {
        source = exporter::stored_image_cache_source(ctx.content, found->manifest, o.where);
      } else {
        llvm::consumeError(found.takeError());
      }
    }
    if (!source) {
      auto c = registry_client();
      if (!c) {
        return c.takeError();
      }
      source = exporter::registry_cache_source(**c, blobs, *ref);
    }
  }
  return importer->add(std::move(source), o.ignore_error);
}

llvm::Expected<std::unique_ptr<BuildCache>> BuildCache::open(
    const CacheFlags& flags, const CacheProject& project, solver::ops::SolveContext& ctx,
    cache::ImageStore& images, std::mutex& images_mu, BuildEvents& events) {
  auto impl = std::make_unique<Impl>(ctx);
  impl->flags = flags;
  impl->project = project;
  impl->events = &events;
  impl->project_id = Digest::of(real_path(project.context) + "\n" + real_path(project.dockerfile));
  for (const auto& spec : flags.cache_to) {
    auto t = parse_cache_to(spec);
    if (!t) {
      return t.takeError();
    }
    impl->targets.push_back(std::move(*t));
  }
  std::vector<CacheOrigin> origins;
  for (const auto& spec : flags.cache_from) {
    auto o = parse_cache_from(spec);
    if (!o) {
      return o.takeError();
    }
    origins.push_back(std::move(*o));
  }
  if (!origins.empty()) {
    Impl* raw = impl.get();
    impl->importer = std::make_unique<exporter::CacheImporter>(
        ctx.content, ctx.snapshots, *ctx.db, [raw](const std::string& msg) { raw->warn(msg); });
    for (const auto& o : origins) {
      if (auto err = impl->add_origin(o, images, images_mu)) {
        return err;
      }
    }
    impl->adapter = std::make_unique<ImportedAdapter>(*impl->importer);
  }
  return std::unique_ptr<BuildCache>(new BuildCache(std::move(impl)));
}

BuildCache::BuildCache(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

BuildCache::~BuildCache() = default;

void BuildCache::attach(solver::core::SchedulerOptions& opts,
                        solver::ops::SnapshotCacheStore& local, const llb::Definition& definition,
                        const solver::ops::OpGraph& graph) {
  Impl& s = *impl_;
  s.definition = &definition;
  s.recorder = std::make_unique<solver::ops::StepRecorder>(definition, graph, s.ctx);
  s.store = std::make_unique<solver::ops::BuildCacheStore>(local, s.adapter.get());
  opts.store = s.store.get();
  opts.on_key = s.recorder->observer();
  if (s.importer) {
    exporter::CacheImporter* importer = s.importer.get();
    s.ctx.seed_cache_mount = [importer](const std::string& id, const std::string& dest) {
      return importer->seed_cache_mount(id, dest);
    };
  }
}

void BuildCache::after_solve() {
  Impl& s = *impl_;
  if (!s.recorder) {
    return;
  }
  s.outcomes = s.store->outcomes();
  std::set<Digest> ran, missed;
  for (const auto& [key, o] : s.outcomes) {
    if (o.ran) {
      ran.insert(key);
    }
    if (o.ran && o.missed) {
      missed.insert(key);
    }
  }
  std::vector<solver::ops::StepRecord> all = s.recorder->records();
  for (auto& r : all) {
    auto o = s.outcomes.find(r.key);
    bool failed = o != s.outcomes.end() && o->second.missed && !o->second.ran && !o->second.hit;
    if (!failed) {
      s.records.push_back(std::move(r));
    }
  }
  std::vector<std::vector<solver::ops::StepRecord>> previous;
  previous.push_back(solver::ops::load_step_history(s.ctx.root, s.project_id));
  std::vector<solver::ops::StepRecord> merged = previous.back();
  if (s.importer) {
    for (const auto& json : s.importer->step_records()) {
      previous.push_back(solver::ops::parse_step_records(json));
      merged.insert(merged.end(), previous.back().begin(), previous.back().end());
    }
  }
  s.recorder->add_file_lists(s.records, ran, merged);
  if (s.flags.explain || s.events->wants_explanations()) {
    s.explain(missed, previous);
  }
  if (auto err = solver::ops::save_step_history(s.ctx.root, s.project_id, s.records)) {
    s.warn("saving the step history: " + error_message(std::move(err)));
  }
}

void BuildCache::Impl::explain(const std::set<Digest>& missed,
                               const std::vector<std::vector<solver::ops::StepRecord>>& previous) {
  auto read_blob = [this](const Digest& d) -> llvm::Expected<std::string> {
    if (!ctx.content.exists(d) && importer) {
      if (auto err = importer->fetch_blob(d)) {
        return err;
      }
    }
    return ctx.content.read(d);
  };
  auto explained =
      solver::ops::explain_misses(records, missed, previous, project.build_args, read_blob);
  std::map<Digest, Digest> key_of;
  for (const auto& r : records) {
    key_of[r.vertex] = r.key;
  }
  for (auto& e : explained) {
    if (importer && importer->layers(key_of[e.vertex])) {
      e.reasons = {"an imported cache has its result, but it could not be used (see the warning)"};
    }
  }
  for (const auto& e : explained) {
    events->cache_miss(e.vertex, e.name, e.reasons);
  }
}

llvm::Expected<exporter::CacheConfigBuilder> BuildCache::Impl::collect(
    bool max, const std::optional<Digest>& final_chain, const cache::PackOptions& pack) {
  std::set<Digest> lineage;
  for (std::optional<Digest> cur = final_chain; cur;) {
    lineage.insert(*cur);
    auto parent = ctx.snapshots.parent(*cur);
    if (!parent) {
      return parent.takeError();
    }
    cur = *parent;
  }
  exporter::CacheConfigBuilder builder;
  std::map<Digest, std::vector<exporter::CacheLayer>> by_chain;
  for (const auto& r : records) {
    if (r.kind == "local") {
      continue;
    }
    std::optional<std::optional<Digest>> chain;
    auto o = outcomes.find(r.key);
    if (o != outcomes.end() && (o->second.hit || o->second.ran)) {
      chain = o->second.chain;
    } else {
      auto step = ctx.db->load_key(r.key);
      if (!step) {
        return step.takeError();
      }
      if (*step && (!(*step)->chain || ctx.snapshots.contains(*(*step)->chain))) {
        chain = (*step)->chain;
      }
    }
    if (chain) {
      if (!*chain) {
        if (max) {
          builder.add_record(r.key, {});
        }
        continue;
      }
      const Digest& id = **chain;
      if (!max && !lineage.count(id)) {
        continue;
      }
      auto memo = by_chain.find(id);
      if (memo == by_chain.end()) {
        auto layers = cache::chain_layers(ctx.content, ctx.snapshots, *ctx.db, id, pack);
        if (!layers) {
          return layers.takeError();
        }
        std::vector<exporter::CacheLayer> out;
        for (const auto& l : *layers) {
          exporter::CacheLayer cl;
          cl.blob.media_type = oci::layer_media_type(l.compression).str();
          cl.blob.digest = l.blob;
          cl.blob.size = static_cast<int64_t>(l.size);
          cl.diff_id = l.diff_id;
          out.push_back(std::move(cl));
        }
        memo = by_chain.emplace(id, std::move(out)).first;
      }
      builder.add_record(r.key, memo->second);
      continue;
    }
    if (importer) {
      if (auto layers = importer->layers(r.key)) {
        std::vector<Digest> diff_ids;
        for (const auto& l : *layers) {
          diff_ids.push_back(l.diff_id);
        }
        if (!max && (diff_ids.empty() || !lineage.count(cache::chain_ids(diff_ids).back()))) {
          continue;
        }
        builder.add_record(r.key, *layers);
      }
    }
  }
  return builder;
}

llvm::Error BuildCache::Impl::add_mounts(exporter::CacheConfigBuilder& builder,
                                         const cache::PackOptions& pack) {
  std::set<std::string> ids;
  for (const auto& v : definition->vertices()) {
    if (auto* exec = std::get_if<llb::ExecOp>(&v->op())) {
      for (const auto& m : exec->mounts) {
        if (m.kind == llb::MountKind::cache) {
          ids.insert(m.cache_id);
        }
      }
    }
  }
  for (const auto& id : ids) {
    std::string dir = fs::join(ctx.root, "cache-mounts/" + Digest::of(id).hex());
    if (!fs::exists(dir)) {
      continue;
    }
    auto layer = exporter::pack_cache_mount(ctx.content, dir, pack);
    if (!layer) {
      return with_context(layer.takeError(), "cache mount " + quote(id));
    }
    builder.add_mount(id, *layer);
  }
  return llvm::Error::success();
}

void BuildCache::Impl::add_steps(exporter::CacheConfigBuilder& builder) {
  builder.set_steps(solver::ops::to_json(records));
  std::set<Digest> files;
  for (const auto& r : records) {
    for (const auto& in : r.inputs) {
      if (in.files) {
        files.insert(*in.files);
      }
    }
  }
  for (const auto& d : files) {
    if (!ctx.content.exists(d) && importer) {
      llvm::consumeError(importer->fetch_blob(d));
    }
    auto size = ctx.content.size(d);
    if (!size) {
      llvm::consumeError(size.takeError());
      continue;
    }
    builder.add_blob({solver::ops::kStepFilesMediaType.str(),
                      d,
                      static_cast<int64_t>(*size),
                      {},
                      {},
                      std::nullopt,
                      {}});
  }
}

llvm::Expected<exporter::CacheExportStats> BuildCache::Impl::export_one(
    const CacheTarget& t, const std::optional<Digest>& final_chain) {
  cache::PackOptions pack;
  pack.compression = t.compression;
  pack.source_date_epoch = ctx.options.source_date_epoch;
  auto builder = collect(t.max, final_chain, pack);
  if (!builder) {
    return builder.takeError();
  }
  if (t.cache_mounts) {
    if (auto err = add_mounts(*builder, pack)) {
      return err;
    }
  }
  add_steps(*builder);
  exporter::CacheConfig config = builder->build();
  if (t.type == "local") {
    return exporter::export_cache_local(ctx.content, config, t.dest, t.tag, fetcher(),
                                        importer ? importer->bad_blobs() : std::set<Digest>());
  }
  auto ref = oci::parse_reference(t.dest);
  if (!ref) {
    return ref.takeError();
  }
  auto c = registry_client();
  if (!c) {
    return c.takeError();
  }
  return exporter::export_cache_registry(**c, blobs, ctx.content, config, *ref, fetcher());
}

llvm::Error BuildCache::add_inline(oci::ImageConfig& config,
                                   const std::optional<Digest>& final_chain,
                                   const cache::PackOptions& pack) {
  Impl& s = *impl_;
  bool wanted = false;
  for (const auto& t : s.targets) {
    wanted = wanted || t.type == "inline";
  }
  if (!wanted) {
    return llvm::Error::success();
  }
  auto builder = s.collect(false, final_chain, pack);
  if (!builder) {
    s.warn("inline cache: " + error_message(builder.takeError()));
    return llvm::Error::success();
  }
  exporter::add_inline_cache(config, builder->build());
  return llvm::Error::success();
}

llvm::Error BuildCache::export_all(const std::optional<Digest>& final_chain) {
  Impl& s = *impl_;
  for (const auto& t : s.targets) {
    if (t.type == "inline") {
      continue;
    }
    std::string where = (t.type == "local" ? "local directory " : "registry ") + quote(t.dest);
    auto start = std::chrono::steady_clock::now();
    auto stats = s.export_one(t, final_chain);
    if (!stats) {
      std::string msg = "exporting cache to " + where + ": " + error_message(stats.takeError());
      if (!t.ignore_error) {
        return make_error(msg);
      }
      s.warn(msg);
      continue;
    }
    double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    char took[32];
    std::snprintf(took, sizeof(took), "%.3fs", secs);
    std::string detail = "wrote " + std::to_string(stats->blobs_written) + " blobs (" +
                         human_bytes(stats->bytes_written) + "), " +
                         std::to_string(stats->blobs_present) + " already there";
    if (stats->blobs_removed) {
      detail += ", removed " + std::to_string(stats->blobs_removed) + " old";
    }
    s.events->note("exporting cache to " + where, detail + " in " + took);
  }
  return llvm::Error::success();
}

}  // namespace kiln::builder
