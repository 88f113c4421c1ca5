#include "solver/ops/op_graph.h"

#include <cassert>
#include <mutex>
#include <utility>

#include "solver/ops/op_impl.h"
#include "support/error.h"

namespace kiln::solver::ops {
namespace {

using detail::op_key_digest;

/// The helper of a linkable copy: its link layer, made from the copied input
/// alone, so that it can be made while the base is still being built and be
/// reused over any base.
class LinkLayerVertex : public core::Vertex {
 public:
  LinkLayerVertex(const llb::Vertex& v, const SolveContext& ctx, const core::Vertex* source)
      : v_(v), ctx_(ctx), source_(source) {}

  Digest digest() const override {
    Sha256 h;
    h.field("kiln.link-layer", detail::op_key_digest(v_, ctx_).str());
    h.field("source", source_->digest().str());
    return h.finish();
  }
  std::string name() const override { return v_.metadata().description + " (link layer)"; }
  std::vector<const core::Vertex*> inputs() const override { return {source_}; }
  bool ignore_cache() const override { return detail::ignores_cache(v_, ctx_); }
  llvm::Expected<core::CacheMap> cache_map() const override {
    return detail::link_layer_cache_map(ctx_, v_);
  }
  llvm::Expected<core::ResultPtr> exec(const core::ExecContext& ec,
                                       const std::vector<core::ResultPtr>& inputs) const override {
    return detail::exec_link_layer(ctx_, v_, ec, inputs.at(0));
  }

 private:
  const llb::Vertex& v_;
  const SolveContext& ctx_;
  const core::Vertex* source_;
};

/// One LLB vertex as the scheduler sees it.
class OpVertex : public core::Vertex {
 public:
  OpVertex(const llb::Vertex& v, const SolveContext& ctx, std::vector<const core::Vertex*> in)
      : v_(v), ctx_(ctx), inputs_(std::move(in)) {
    const auto* file = std::get_if<llb::FileOp>(&v.op());
    if (const llb::CopyAction* copy = file ? detail::linkable_copy(*file) : nullptr;
        copy && ctx.db && copy->src_input < inputs_.size()) {
      helper_ = std::make_unique<LinkLayerVertex>(v, ctx, inputs_[copy->src_input]);
    }
  }

  Digest digest() const override { return v_.digest(); }
  std::string name() const override {
    const auto& d = v_.metadata().description;
    return d.empty() ? std::string(llb::op_kind(v_.op())) : d;
  }
  std::vector<const core::Vertex*> inputs() const override { return inputs_; }
  bool ignore_cache() const override { return detail::ignores_cache(v_, ctx_); }
  const core::Vertex* helper() const override { return helper_.get(); }
  core::ResourceClass resource_class() const override {
    return std::holds_alternative<llb::ExecOp>(v_.op()) ? core::ResourceClass::container
                                                        : core::ResourceClass::cpu;
  }

  llvm::Expected<core::CacheMap> cache_map() const override {
    if (std::holds_alternative<llb::ExecOp>(v_.op())) {
      return detail::exec_cache_map(ctx_, v_);
    }
    if (std::holds_alternative<llb::FileOp>(v_.op())) {
      return detail::file_cache_map(ctx_, v_);
    }
    core::CacheMap map;
    if (auto* http = std::get_if<llb::HttpSource>(&v_.op())) {
      return http_cache_map(*http);
    }
    if (auto* git = std::get_if<llb::GitSource>(&v_.op())) {
      auto resolved = detail::resolve_git(*git, ctx_.cancel);
      if (!resolved) {
        return resolved.takeError();
      }
      map.op_digest = detail::git_cache_key(*git, resolved->commit);
      std::lock_guard<std::mutex> lock(http_mu_);
      git_resolved_ = std::move(*resolved);
      return map;
    }
    map.op_digest = op_key_digest(v_, ctx_);
    return map;
  }

  llvm::Expected<core::ResultPtr> exec(const core::ExecContext& ec,
                                       const std::vector<core::ResultPtr>& inputs) const override {
    auto result = run(ec, inputs);
    if (!result) {
      return result.takeError();
    }
    return result;
  }

 private:
  llvm::Expected<core::ResultPtr> run(const core::ExecContext& ec,
                                      const std::vector<core::ResultPtr>& inputs) const {
    const llb::Op& op = v_.op();
    if (auto* image = std::get_if<llb::ImageSource>(&op)) {
      return detail::exec_image(ctx_, *image);
    }
    if (auto* local = std::get_if<llb::LocalSource>(&op)) {
      return detail::exec_local(ctx_, *local);
    }
    if (std::holds_alternative<llb::ScratchSource>(op)) {
      return std::make_shared<const SnapshotResult>(std::nullopt);
    }
    if (auto* http = std::get_if<llb::HttpSource>(&op)) {
      std::shared_ptr<detail::HttpDownload> download;
      {
        std::lock_guard<std::mutex> lock(http_mu_);
        download = std::exchange(http_download_, nullptr);
      }
      if (!download) {
        auto fetched = detail::download_http(ctx_, *http, &ec.cancel());
        if (!fetched) {
          return fetched.takeError();
        }
        download = std::move(*fetched);
      }
      return detail::exec_http(ctx_, *http, *download);
    }
    if (auto* git = std::get_if<llb::GitSource>(&op)) {
      std::optional<detail::GitResolved> resolved;
      {
        std::lock_guard<std::mutex> lock(http_mu_);
        resolved = git_resolved_;
      }
      if (!resolved) {
        auto r = detail::resolve_git(*git, &ec.cancel());
        if (!r) {
          return r.takeError();
        }
        resolved = std::move(*r);
      }
      return detail::exec_git(ctx_, *git, *resolved, &ec.cancel());
    }
    if (std::holds_alternative<llb::ExecOp>(op)) {
      return detail::exec_run(ctx_, v_, ec, inputs);
    }
    return detail::exec_file(ctx_, v_, ec, inputs);
  }

  // As BuildKit does, the key of an http source is its content: without ADD
  // --checksum the file is downloaded here and kept for exec().
  llvm::Expected<core::CacheMap> http_cache_map(const llb::HttpSource& http) const {
    core::CacheMap map;
    if (http.checksum) {
      map.op_digest = detail::http_cache_key(http, *http.checksum, std::nullopt);
      return map;
    }
    auto download = detail::download_http(ctx_, http, nullptr);
    if (!download) {
      return download.takeError();
    }
    map.op_digest = detail::http_cache_key(http, (*download)->digest, (*download)->mtime);
    std::lock_guard<std::mutex> lock(http_mu_);
    http_download_ = std::move(*download);
    return map;
  }

  const llb::Vertex& v_;
  const SolveContext& ctx_;
  std::vector<const core::Vertex*> inputs_;
  std::unique_ptr<LinkLayerVertex> helper_;
  mutable std::mutex http_mu_;  // guards http_download_ and git_resolved_
  mutable std::shared_ptr<detail::HttpDownload> http_download_;
  /// What cache_map() resolved a git source's ref to, for exec() (same mutex).
  mutable std::optional<detail::GitResolved> git_resolved_;
};

}  // namespace

OpGraph::OpGraph(const llb::Definition& definition, const SolveContext& context) {
  // Vertices come inputs first, so every input is wrapped before its users.
  for (const auto& v : definition.vertices()) {
    std::vector<const core::Vertex*> inputs;
    for (const llb::Vertex* in : v->inputs()) {
      inputs.push_back(vertices_.at(in).get());
    }
    vertices_[v.get()] = std::make_unique<OpVertex>(*v, context, std::move(inputs));
  }
}

OpGraph::~OpGraph() = default;

const core::Vertex& OpGraph::vertex(const llb::Vertex* vertex) const {
  auto it = vertices_.find(vertex);
  assert(it != vertices_.end());
  return *it->second;
}

namespace detail {

bool ignores_cache(const llb::Vertex& v, const SolveContext& ctx) {
  const auto& m = v.metadata();
  bool step =
      std::holds_alternative<llb::ExecOp>(v.op()) || std::holds_alternative<llb::FileOp>(v.op());
  return m.ignore_cache || (step && ctx.options.no_cache_stages.count(m.progress_group) != 0);
}

Digest op_key_digest(const llb::Vertex& vertex, const SolveContext& ctx) {
  Sha256 h;
  h.field("op", llb::encode_op(vertex.op()));
  bool makes_layer = std::holds_alternative<llb::ExecOp>(vertex.op()) ||
                     std::holds_alternative<llb::FileOp>(vertex.op());
  if (makes_layer && ctx.options.source_date_epoch) {
    h.field("source-date-epoch", static_cast<uint64_t>(*ctx.options.source_date_epoch));
  }
  return h.finish();
}

}  // namespace detail
}  // namespace kiln::solver::ops
