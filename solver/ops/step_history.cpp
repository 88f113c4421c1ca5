// Step records: made from the LLB vertex and its key inputs, kept as JSON.
#include "solver/ops/step_history.h"

#include <algorithm>

#include <llvm/ADT/StringExtras.h>
#include <nlohmann/json.hpp>

#include "support/atomic_file.h"
#include "support/error.h"
#include "support/fs.h"

namespace kiln::solver::ops {

namespace {

using Json = nlohmann::ordered_json;

std::optional<Digest> digest_of(const Json& j, const char* name) {
  if (!j.contains(name) || !j[name].is_string()) {
    return std::nullopt;
  }
  auto d = Digest::parse(j[name].get<std::string>());
  if (!d) {
    llvm::consumeError(d.takeError());
    return std::nullopt;
  }
  return *d;
}

/// Splits "[builder 2/3] RUN make" into stage "builder", index 2, text "RUN make".
void split_name(const std::string& name, const std::string& group, StepRecord& r) {
  r.text = name;
  llvm::StringRef n(name);
  if (!n.startswith("[")) {
    return;
  }
  auto [prefix, rest] = n.drop_front().split("] ");
  r.text = rest.str();
  if (prefix == "internal") {
    return;
  }
  r.stage = group;
  auto slash = prefix.rsplit('/').first;
  auto pos = slash.contains(' ') ? slash.rsplit(' ').second : slash;
  pos.getAsInteger(10, r.index);
}

/// The paths vertex `v` reads from its input `input` (COPY sources, bind mount
/// selectors).
std::vector<std::string> paths_read(const llb::Vertex& v, uint32_t input) {
  std::vector<std::string> out;
  if (auto* file = std::get_if<llb::FileOp>(&v.op())) {
    for (const auto& a : file->actions) {
      if (auto* copy = std::get_if<llb::CopyAction>(&a); copy && copy->src_input == input) {
        out.insert(out.end(), copy->src_paths.begin(), copy->src_paths.end());
      }
    }
  } else if (auto* exec = std::get_if<llb::ExecOp>(&v.op())) {
    for (const auto& m : exec->mounts) {
      if (m.kind == llb::MountKind::bind && m.input && *m.input == input) {
        out.push_back(m.selector);
      }
    }
  }
  return out;
}

void add_detail(const llb::Vertex& v, const SolveContext& ctx, StepRecord& r) {
  const llb::Op& op = v.op();
  if (auto* image = std::get_if<llb::ImageSource>(&op)) {
    r.detail["image"] = image->ref;
    r.detail["image config"] = image->config_digest ? image->config_digest->str() : "";
    r.detail["platform"] = image->platform;
  } else if (auto* local = std::get_if<llb::LocalSource>(&op)) {
    r.detail["local"] = local->name;
  } else if (auto* exec = std::get_if<llb::ExecOp>(&op)) {
    r.detail["command"] = llvm::join(exec->args, " ");
    for (const auto& e : exec->env) {
      auto [k, val] = llvm::StringRef(e).split('=');
      r.detail["env " + k.str()] = val.str();
    }
    r.detail["workdir"] = exec->cwd;
    r.detail["user"] = exec->user;
    for (const auto& m : exec->mounts) {
      if (m.kind == llb::MountKind::cache) {
        r.detail["cache mount " + m.target] = m.cache_id;
      } else if (m.kind == llb::MountKind::secret) {
        r.detail["secret mount " + m.target] = m.secret_id;
      }
    }
  }
  bool makes_layer =
      std::holds_alternative<llb::ExecOp>(op) || std::holds_alternative<llb::FileOp>(op);
  if (makes_layer && ctx.options.source_date_epoch) {
    r.detail["SOURCE_DATE_EPOCH"] = std::to_string(*ctx.options.source_date_epoch);
  }
}

Json input_json(const StepInput& in) {
  Json j;
  j["kind"] = in.kind;
  j["digest"] = in.digest.str();
  j["from"] = in.from;
  j["role"] = in.role;
  if (!in.paths.empty()) {
    j["paths"] = in.paths;
  }
  if (in.files) {
    j["files"] = in.files->str();
  }
  return j;
}

StepInput parse_input(const Json& j) {
  StepInput in;
  in.kind = j.value("kind", "");
  in.digest = digest_of(j, "digest").value_or(Digest());
  in.from = j.value("from", "");
  in.role = j.value("role", "");
  if (j.contains("paths") && j["paths"].is_array()) {
    for (const auto& p : j["paths"]) {
      if (p.is_string()) {
        in.paths.push_back(p.get<std::string>());
      }
    }
  }
  in.files = digest_of(j, "files");
  return in;
}

std::string history_path(const std::string& root, const Digest& project) {
  return fs::join(root, "history/" + project.hex() + ".json");
}

}  // namespace

std::string to_json(const std::vector<StepRecord>& records) {
  Json arr = Json::array();
  for (const auto& r : records) {
    Json j;
    j["name"] = r.name;
    j["stage"] = r.stage;
    j["index"] = r.index;
    j["text"] = r.text;
    j["kind"] = r.kind;
    j["vertex"] = r.vertex.str();
    j["key"] = r.key.str();
    j["op"] = r.op.str();
    j["detail"] = Json::object();
    for (const auto& [k, v] : r.detail) {
      j["detail"][k] = v;
    }
    j["inputs"] = Json::array();
    for (const auto& in : r.inputs) {
      j["inputs"].push_back(input_json(in));
    }
    arr.push_back(std::move(j));
  }
  return arr.dump(-1, ' ', false, Json::error_handler_t::replace);
}

std::vector<StepRecord> parse_step_records(llvm::StringRef json) {
  Json arr = Json::parse(json.begin(), json.end(), nullptr, false);
  std::vector<StepRecord> out;
  if (arr.is_discarded() || !arr.is_array()) {
    return out;
  }
  try {
    for (const Json& j : arr) {
      StepRecord r;
      r.name = j.value("name", "");
      r.stage = j.value("stage", "");
      r.index = j.value("index", 0);
      r.text = j.value("text", "");
      r.kind = j.value("kind", "");
      r.vertex = digest_of(j, "vertex").value_or(Digest());
      r.key = digest_of(j, "key").value_or(Digest());
      r.op = digest_of(j, "op").value_or(Digest());
      if (j.contains("detail") && j["detail"].is_object()) {
        for (const auto& [k, v] : j["detail"].items()) {
          if (v.is_string()) {
            r.detail[k] = v.get<std::string>();
          }
        }
      }
      if (j.contains("inputs") && j["inputs"].is_array()) {
        for (const auto& in : j["inputs"]) {
          r.inputs.push_back(parse_input(in));
        }
      }
      out.push_back(std::move(r));
    }
  } catch (const std::exception&) {
    return {};
  }
  return out;
}

std::vector<StepRecord> load_step_history(const std::string& root, const Digest& project) {
  auto text = fs::read_file(history_path(root, project));
  if (!text) {
    llvm::consumeError(text.takeError());
    return {};
  }
  return parse_step_records(*text);
}

llvm::Error save_step_history(const std::string& root, const Digest& project,
                              const std::vector<StepRecord>& records) {
  std::string path = history_path(root, project);
  std::string json = to_json(records);
  auto old = fs::read_file(path);
  if (old && *old == json) {
    return llvm::Error::success();
  }
  if (!old) {
    llvm::consumeError(old.takeError());
  }
  if (auto err = fs::make_dirs(fs::join(root, "history"), 0700)) {
    return err;
  }
  return write_file_atomic(path, json);
}

StepRecorder::StepRecorder(const llb::Definition& definition, const OpGraph& graph,
                           const SolveContext& ctx)
    : ctx_(ctx) {
  for (const auto& v : definition.vertices()) {
    llb_of_[&graph.vertex(v.get())] = v.get();
    by_digest_[v->digest()] = v.get();
  }
}

core::KeyObserver StepRecorder::observer() {
  return [this](const core::Vertex& vertex, const core::KeyInfo& info) {
    auto it = llb_of_.find(&vertex);
    if (it == llb_of_.end()) {
      return;
    }
    StepRecord r = record(*it->second, info);
    std::lock_guard lock(mu_);
    records_[r.vertex] = std::move(r);
  };
}

StepRecord StepRecorder::record(const llb::Vertex& v, const core::KeyInfo& info) const {
  StepRecord r;
  r.vertex = v.digest();
  const auto& desc = v.metadata().description;
  r.name = desc.empty() ? std::string(llb::op_kind(v.op())) : desc;
  split_name(r.name, v.metadata().progress_group, r);
  r.kind = llb::op_kind(v.op());
  r.key = info.key;
  r.op = info.op_digest;
  add_detail(v, ctx_, r);
  for (size_t i = 0; i < info.inputs.size() && i < v.inputs().size(); ++i) {
    const core::KeyInput& k = info.inputs[i];
    const llb::Vertex& in = *v.inputs()[i];
    StepInput si;
    si.kind = k.kind == core::KeyInput::Kind::content ? "content" : "key";
    si.digest = k.digest;
    const auto& in_desc = in.metadata().description;
    si.from = in_desc.empty() ? std::string(llb::op_kind(in.op())) : in_desc;
    si.role = std::holds_alternative<llb::ImageSource>(in.op())   ? "image"
              : std::holds_alternative<llb::LocalSource>(in.op()) ? "context"
                                                                  : "step";
    if (k.kind == core::KeyInput::Kind::content) {
      si.paths = paths_read(v, static_cast<uint32_t>(i));
    }
    r.inputs.push_back(std::move(si));
  }
  return r;
}

std::vector<StepRecord> StepRecorder::records() const {
  std::vector<StepRecord> out;
  {
    std::lock_guard lock(mu_);
    for (const auto& [d, r] : records_) {
      out.push_back(r);
    }
  }
  std::sort(out.begin(), out.end(), [](const StepRecord& a, const StepRecord& b) {
    return std::tie(a.stage, a.index, a.name, a.vertex) <
           std::tie(b.stage, b.index, b.name, b.vertex);
  });
  return out;
}

namespace {

/// The files of `paths` in the local directory `name`, as a file-list blob.
llvm::Expected<Digest> list_files(const SolveContext& ctx, const std::string& name,
                                  const std::vector<std::string>& paths) {
  auto it = ctx.locals.find(name);
  if (it == ctx.locals.end()) {
    return make_error("no local directory " + quote(name));
  }
  LocalDir& dir = *it->second;
  std::vector<cache::ContextEntry> entries;
  {
    std::lock_guard lock(dir.mu);
    auto got = dir.hasher.entries(paths);
    if (!got) {
      return got.takeError();
    }
    entries = std::move(*got);
  }
  Json files = Json::array();
  for (const auto& e : entries) {
    if (!e.is_dir) {
      files.push_back({e.path, e.checksum.hex().substr(0, 16)});
    }
  }
  Json doc;
  doc["files"] = std::move(files);
  return ctx.content.put(doc.dump());
}

}  // namespace

void StepRecorder::add_file_lists(std::vector<StepRecord>& records, const std::set<Digest>& ran,
                                  const std::vector<StepRecord>& previous) const {
  std::map<Digest, Digest> known;  // content checksum -> file list
  for (const auto& p : previous) {
    for (const auto& in : p.inputs) {
      if (in.role == "context" && in.files) {
        known.emplace(in.digest, *in.files);
      }
    }
  }
  for (auto& r : records) {
    for (size_t i = 0; i < r.inputs.size(); ++i) {
      StepInput& in = r.inputs[i];
      if (in.kind != "content" || in.role != "context" || in.files) {
        continue;
      }
      auto k = known.find(in.digest);
      if (k != known.end()) {
        in.files = k->second;
        continue;
      }
      if (!ran.count(r.key)) {
        continue;
      }
      // The local directory's name: the input vertex is a LocalSource.
      std::string name;
      auto v = by_digest_.find(r.vertex);
      if (v != by_digest_.end() && i < v->second->inputs().size()) {
        if (auto* local = std::get_if<llb::LocalSource>(&v->second->inputs()[i]->op())) {
          name = local->name;
        }
      }
      auto listed = list_files(ctx_, name, in.paths);
      if (!listed) {
        llvm::consumeError(listed.takeError());
        continue;
      }
      in.files = *listed;
      known.emplace(in.digest, *listed);
    }
  }
}

}  // namespace kiln::solver::ops
