// What each step's cache key was made of, in people's terms, kept from build to
// build (ROOT/history/) and exported with the cache, so that a miss can be
// explained: which input of its key changed — the instruction, a build arg,
// which files of the context, the base image, or an input step.
#pragma once

#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include <llvm/ADT/StringRef.h>
#include <llvm/Support/Error.h>

#include "llb/definition.h"
#include "solver/core/scheduler.h"
#include "solver/ops/op_graph.h"
#include "solver/ops/solve_context.h"

namespace kiln::solver::ops {

/// One input of a step's cache key.
struct StepInput {
  /// "key": the input step's cache key; "content": a checksum of files it reads.
  std::string kind;
  Digest digest;
  /// The input step's name ("[builder 2/3] RUN make").
  std::string from;
  /// "image", "context" (a local directory) or "step".
  std::string role;
  /// The paths a content input reads.
  std::vector<std::string> paths;
  /// A blob (in the content store or an imported cache) listing the files a
  /// context input read, with their checksums (kStepFilesMediaType).
  std::optional<Digest> files;
};

/// One step of a build.
struct StepRecord {
  /// The vertex digest (as in progress events).
  Digest vertex;
  /// "[builder 2/3] RUN make", "[internal] load build context".
  std::string name;
  /// The stage ("stage-0", "builder"); empty for internal steps.
  std::string stage;
  /// Position in the stage (the 2 of "2/3"); 0 for internal steps.
  int index = 0;
  /// The name without its "[…] " prefix.
  std::string text;
  /// The op kind: "image", "local", "exec", "file", "scratch", "http".
  std::string kind;
  Digest key;
  /// The op digest of the key.
  Digest op;
  /// Readable parts of the op that enter the key ("env NAME", "command",
  /// "workdir", "image config", "SOURCE_DATE_EPOCH", …).
  std::map<std::string, std::string> detail;
  std::vector<StepInput> inputs;
};

/// The media type of a step's list of context files.
inline constexpr llvm::StringLiteral kStepFilesMediaType =
    "application/vnd.kiln.cache.files.v1+json";

/// JSON array of `records` (deterministic).
std::string to_json(const std::vector<StepRecord>& records);
/// Parses what to_json wrote; anything unreadable gives no records (the
/// history only serves explanations).
std::vector<StepRecord> parse_step_records(llvm::StringRef json);

/// Reads ROOT/history/<project>.json (none when missing or unreadable).
std::vector<StepRecord> load_step_history(const std::string& root, const Digest& project);
/// Replaces ROOT/history/<project>.json with `records`.
llvm::Error save_step_history(const std::string& root, const Digest& project,
                              const std::vector<StepRecord>& records);

/// Collects the records of a build's steps as the scheduler computes their
/// keys. Borrows the definition, graph and context: they must outlive it.
/// Thread-safe.
class StepRecorder {
 public:
  StepRecorder(const llb::Definition& definition, const OpGraph& graph, const SolveContext& ctx);

  /// The scheduler hook (SchedulerOptions::on_key).
  core::KeyObserver observer();

  /// The records so far, sorted by stage, index and name.
  std::vector<StepRecord> records() const;

  /// Fills `files` of the context inputs of `records`: carried over from a
  /// `previous` record with the same checksum, else, for the steps whose keys
  /// are in `ran`, listed now and stored in the content store. Best effort: a
  /// list that cannot be made is left out.
  void add_file_lists(std::vector<StepRecord>& records, const std::set<Digest>& ran,
                      const std::vector<StepRecord>& previous) const;

 private:
  StepRecord record(const llb::Vertex& v, const core::KeyInfo& info) const;

  const SolveContext& ctx_;
  std::unordered_map<const core::Vertex*, const llb::Vertex*> llb_of_;
  std::unordered_map<Digest, const llb::Vertex*> by_digest_;
  mutable std::mutex mu_;
  std::map<Digest, StepRecord> records_;
};

/// Why one step missed the cache.
struct MissExplanation {
  Digest vertex;
  std::string name;
  std::vector<std::string> reasons;
};

/// Reads a blob by digest (the content store, then imported caches).
using StepBlobReader = std::function<llvm::Expected<std::string>(const Digest&)>;

/// Explains each record of `current` whose key is in `missed` against the
/// same step in `previous` (histories in order of preference: the first that
/// has the step is used). A step is the same when its stage and text match,
/// else its stage and position. `build_args` are the `--build-arg` names, so
/// that a changed variable is called a build arg.
std::vector<MissExplanation> explain_misses(const std::vector<StepRecord>& current,
                                            const std::set<Digest>& missed,
                                            const std::vector<std::vector<StepRecord>>& previous,
                                            const std::set<std::string>& build_args,
                                            const StepBlobReader& read_blob);

}  // namespace kiln::solver::ops
