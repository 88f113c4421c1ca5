// Explaining cache misses: a missed step's record against the same step's
// record from an earlier build.
#include <cstdlib>

#include <llvm/ADT/StringExtras.h>
#include <nlohmann/json.hpp>

#include "solver/ops/step_history.h"
#include "support/error.h"

namespace kiln::solver::ops {

namespace {

/// How many changed files an explanation names before "and N more".
constexpr size_t kMaxFilesNamed = 10;

const StepRecord* match(const StepRecord& c, const std::vector<StepRecord>& history) {
  const StepRecord* best = nullptr;
  for (const auto& p : history) {
    if (p.stage == c.stage && p.text == c.text &&
        (!best || std::abs(p.index - c.index) < std::abs(best->index - c.index))) {
      best = &p;
    }
  }
  if (best || c.index == 0) {
    return best;
  }
  for (const auto& p : history) {
    if (p.stage == c.stage && p.index == c.index) {
      return &p;
    }
  }
  return nullptr;
}

std::string short_digest(llvm::StringRef d) {
  return d.size() > 19 ? d.substr(0, 19).str() + "…" : d.str();
}

std::string clip(const std::string& s) { return s.size() > 80 ? s.substr(0, 77) + "..." : s; }

void diff_detail(const StepRecord& p, const StepRecord& c, const std::set<std::string>& build_args,
                 bool text_changed, std::vector<std::string>& out) {
  std::set<std::string> keys;
  for (const auto& [k, v] : p.detail) {
    keys.insert(k);
  }
  for (const auto& [k, v] : c.detail) {
    keys.insert(k);
  }
  for (const auto& k : keys) {
    auto pi = p.detail.find(k);
    auto ci = c.detail.find(k);
    bool had = pi != p.detail.end();
    bool has = ci != c.detail.end();
    if (had && has && pi->second == ci->second) {
      continue;
    }
    std::string was = had ? pi->second : "";
    std::string now = has ? ci->second : "";
    if (k == "command" && text_changed) {
      continue;
    }
    llvm::StringRef key(k);
    if (key.startswith("env ")) {
      std::string name = key.drop_front(4).str();
      std::string what = build_args.count(name) ? "build arg " + quote(name)
                                                : "variable " + quote(name) + " (ARG or ENV)";
      if (!had) {
        out.push_back(what + " is now set to " + quote(clip(now)));
      } else if (!has) {
        out.push_back(what + " is no longer set (was " + quote(clip(was)) + ")");
      } else {
        out.push_back(what + " changed: " + quote(clip(was)) + " → " + quote(clip(now)));
      }
    } else if (k == "image config") {
      std::string image = c.detail.count("image") ? c.detail.at("image") : "";
      out.push_back("base image " + quote(llvm::StringRef(image).split('@').first) +
                    " changed: config " + quote(short_digest(was)) + " → " +
                    quote(short_digest(now)));
    } else if (k == "image") {
      // A new digest of the same name shows as the config change.
      if (llvm::StringRef(was).split('@').first != llvm::StringRef(now).split('@').first) {
        out.push_back("base image changed: " + quote(was) + " → " + quote(now));
      }
    } else {
      out.push_back(k + " changed: " + quote(clip(was)) + " → " + quote(clip(now)));
    }
  }
}

/// path -> checksum of a file-list blob.
std::optional<std::map<std::string, std::string>> read_files(const StepBlobReader& read,
                                                             const Digest& blob) {
  auto bytes = read(blob);
  if (!bytes) {
    llvm::consumeError(bytes.takeError());
    return std::nullopt;
  }
  auto j = nlohmann::json::parse(*bytes, nullptr, false);
  if (j.is_discarded() || !j.is_object() || !j.contains("files") || !j["files"].is_array()) {
    return std::nullopt;
  }
  std::map<std::string, std::string> out;
  for (const auto& f : j["files"]) {
    if (f.is_array() && f.size() == 2 && f[0].is_string() && f[1].is_string()) {
      out[f[0].get<std::string>()] = f[1].get<std::string>();
    }
  }
  return out;
}

void diff_files(const StepInput& p, const StepInput& c, const StepBlobReader& read,
                std::vector<std::string>& out) {
  std::string paths;
  for (const auto& s : c.paths) {
    paths += (paths.empty() ? "" : ", ") + quote(s);
  }
  std::optional<std::map<std::string, std::string>> before, after;
  if (p.files && c.files) {
    before = read_files(read, *p.files);
    after = read_files(read, *c.files);
  }
  if (!before || !after) {
    out.push_back("files read from the context changed (" + paths + ")");
    return;
  }
  std::vector<std::string> changes;
  for (const auto& [path, sum] : *after) {
    auto it = before->find(path);
    if (it == before->end()) {
      changes.push_back(quote(path) + " (added)");
    } else if (it->second != sum) {
      changes.push_back(quote(path) + " (modified)");
    }
  }
  for (const auto& [path, sum] : *before) {
    if (!after->count(path)) {
      changes.push_back(quote(path) + " (removed)");
    }
  }
  if (changes.empty()) {
    out.push_back("directories read from the context changed (" + paths +
                  "): permissions, owners or empty directories");
    return;
  }
  size_t named = std::min(changes.size(), kMaxFilesNamed);
  std::string text = "context files changed: ";
  for (size_t i = 0; i < named; ++i) {
    text += (i ? ", " : "") + changes[i];
  }
  if (changes.size() > named) {
    text += " and " + std::to_string(changes.size() - named) + " more";
  }
  out.push_back(text);
}

void diff_inputs(const StepRecord& p, const StepRecord& c, const StepBlobReader& read,
                 std::vector<std::string>& out) {
  if (p.inputs.size() != c.inputs.size()) {
    out.push_back("its inputs changed (" + std::to_string(p.inputs.size()) + " before, " +
                  std::to_string(c.inputs.size()) + " now)");
    return;
  }
  for (size_t i = 0; i < c.inputs.size(); ++i) {
    const StepInput& pin = p.inputs[i];
    const StepInput& in = c.inputs[i];
    if (pin.digest == in.digest && pin.kind == in.kind) {
      continue;
    }
    if (in.kind == "content" && pin.kind == "content" && in.role == "context") {
      diff_files(pin, in, read, out);
    } else if (in.kind == "content" && pin.kind == "content") {
      out.push_back("files copied from " + quote(in.from) + " changed");
    } else if (pin.from != in.from) {
      out.push_back("its input is now " + quote(in.from) + " (was " + quote(pin.from) + ")");
    } else {
      out.push_back("its input " + quote(in.from) + " changed");
    }
  }
}

}  // namespace

std::vector<MissExplanation> explain_misses(const std::vector<StepRecord>& current,
                                            const std::set<Digest>& missed,
                                            const std::vector<std::vector<StepRecord>>& previous,
                                            const std::set<std::string>& build_args,
                                            const StepBlobReader& read_blob) {
  bool any_history = false;
  for (const auto& h : previous) {
    any_history = any_history || !h.empty();
  }
  std::vector<MissExplanation> out;
  for (const auto& c : current) {
    if (!missed.count(c.key) || c.kind == "local") {
      continue;
    }
    MissExplanation e{c.vertex, c.name, {}};
    const StepRecord* p = nullptr;
    for (const auto& h : previous) {
      if ((p = match(c, h))) {
        break;
      }
    }
    if (!p) {
      e.reasons.push_back(any_history ? "no earlier build of this step is recorded (a new step)"
                                      : "no earlier build is known (no history in this store "
                                        "and no imported cache)");
    } else if (p->key == c.key) {
      e.reasons.push_back(
          "its cache key is unchanged, but no result is stored for it (pruned, or not exported: "
          "steps outside the final stage need --cache-to mode=max)");
    } else {
      bool text_changed = p->text != c.text;
      if (text_changed) {
        e.reasons.push_back("instruction changed: " + quote(clip(p->text)) + " → " +
                            quote(clip(c.text)));
      }
      if (p->op != c.op) {
        size_t before = e.reasons.size();
        diff_detail(*p, c, build_args, text_changed, e.reasons);
        if (e.reasons.size() == before && !text_changed) {
          e.reasons.push_back("the instruction's options changed");
        }
      }
      diff_inputs(*p, c, read_blob, e.reasons);
      if (e.reasons.empty()) {
        e.reasons.push_back("its cache key changed (a different kiln cache key version?)");
      }
    }
    out.push_back(std::move(e));
  }
  return out;
}

}  // namespace kiln::solver::ops
