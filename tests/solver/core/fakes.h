// Fake vertices, cache store and step locks for the scheduler tests.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "solver/core/scheduler.h"
#include "support/error.h"

namespace kiln::solver::core::testing {

/// A result holding a string.
struct TextResult : Result {
  explicit TextResult(std::string v) : value(std::move(v)) {}
  std::string value;
};

inline const std::string& text(const ResultPtr& r) {
  return static_cast<const TextResult&>(*r).value;
}

/// Counts executions per vertex name, shared by all fakes of one test.
struct ExecCounter {
  std::mutex mu;
  std::map<std::string, int> counts;
  int get(const std::string& name) {
    std::lock_guard lock(mu);
    return counts[name];
  }
  void bump(const std::string& name) {
    std::lock_guard lock(mu);
    ++counts[name];
  }
};

/// A vertex whose digest is derived from `op` and its inputs' digests; its
/// result is "op(input results, ...)".
class FakeVertex : public Vertex {
 public:
  FakeVertex(ExecCounter& counter, std::string name, std::string op,
             std::vector<const Vertex*> inputs = {})
      : counter_(counter), name_(std::move(name)), op_(std::move(op)), inputs_(std::move(inputs)) {}

  /// Settings; set before solving.
  ResourceClass resource = ResourceClass::cpu;
  std::chrono::milliseconds sleep{0};
  /// Fails with an ExecError after `sleep`.
  bool fail = false;
  /// Waits (up to 10 s) for the cancel token instead of sleeping.
  bool wait_for_cancel = false;
  std::vector<std::string> log_lines;
  std::vector<CacheDep> deps;
  /// When set, the result value instead of the computed one.
  std::string value;
  std::atomic<bool> saw_cancel{false};
  /// Runs first in exec (to order steps in a test).
  std::function<void()> before;
  /// Vertex::helper().
  const Vertex* helper_vertex = nullptr;

  Digest digest() const override {
    Sha256 h;
    h.field("op", op_);
    for (const Vertex* in : inputs_) {
      h.field("input", in->digest().str());
    }
    return h.finish();
  }
  std::string name() const override { return name_; }
  std::vector<const Vertex*> inputs() const override { return inputs_; }
  const Vertex* helper() const override { return helper_vertex; }
  ResourceClass resource_class() const override { return resource; }
  llvm::Expected<CacheMap> cache_map() const override { return CacheMap{Digest::of(op_), deps}; }
  llvm::Expected<ResultPtr> exec(const ExecContext& ctx,
                                 const std::vector<ResultPtr>& inputs) const override {
    counter_.bump(name_);
    if (before) {
      before();
    }
    for (const auto& line : log_lines) {
      ctx.log(line);
    }
    if (wait_for_cancel) {
      auto until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
      while (!ctx.cancel().cancelled() && std::chrono::steady_clock::now() < until) {
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
      }
    } else {
      std::this_thread::sleep_for(sleep);
    }
    if (ctx.cancel().cancelled()) {
      const_cast<FakeVertex*>(this)->saw_cancel = true;
      return llvm::make_error<CancelledError>();
    }
    if (fail) {
      return llvm::make_error<ExecError>(
          "process \"" + op_ + "\" did not complete successfully: exit code: 2", name_, 2);
    }
    if (!value.empty()) {
      return std::make_shared<TextResult>(value);
    }
    std::string out = op_ + "(";
    for (size_t i = 0; i < inputs.size(); ++i) {
      out += (i ? "," : "") + (inputs[i] ? text(inputs[i]) : std::string("null"));
    }
    return std::make_shared<TextResult>(out + ")");
  }

 private:
  ExecCounter& counter_;
  std::string name_;
  std::string op_;
  std::vector<const Vertex*> inputs_;
};

/// An in-memory cache store.
class FakeStore : public CacheStore {
 public:
  llvm::Expected<ResultPtr> load(const Vertex&, const CacheKey& key) override {
    std::lock_guard lock(mu_);
    ++loads;
    auto it = results_.find(key);
    return it == results_.end() ? nullptr : it->second;
  }
  llvm::Error save(const Vertex&, const CacheKey& key, const ResultPtr& result) override {
    std::lock_guard lock(mu_);
    results_[key] = result;
    return llvm::Error::success();
  }
  size_t size() {
    std::lock_guard lock(mu_);
    return results_.size();
  }
  int loads = 0;

 private:
  std::mutex mu_;
  std::map<CacheKey, ResultPtr> results_;
};

/// In-process step locks standing in for a lock file shared by processes.
class FakeLocks : public StepLocks {
 public:
  class Lock : public StepLock {
   public:
    Lock(FakeLocks& owner, CacheKey key) : owner_(owner), key_(key) {}
    ~Lock() override {
      std::lock_guard lock(owner_.mu_);
      owner_.held_.erase(key_);
      owner_.cv_.notify_all();
    }

   private:
    FakeLocks& owner_;
    CacheKey key_;
  };

  llvm::Expected<std::unique_ptr<StepLock>> acquire(const CacheKey& key,
                                                    const CancelToken& cancel) override {
    std::unique_lock lock(mu_);
    while (held_.count(key)) {
      ++waits;
      if (cancel.cancelled()) {
        return llvm::make_error<CancelledError>();
      }
      cv_.wait_for(lock, std::chrono::milliseconds(5));
    }
    held_.insert(key);
    return std::make_unique<Lock>(*this, key);
  }
  int waits = 0;

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::set<CacheKey> held_;
};

/// Collects progress events.
struct EventLog {
  std::mutex mu;
  std::vector<ProgressEvent> events;
  ProgressCallback callback() {
    return [this](const ProgressEvent& e) {
      std::lock_guard lock(mu);
      events.push_back(e);
    };
  }
  /// "kind name[ text]" lines in arrival order.
  std::vector<std::string> lines(bool with_text = true);
  /// The first event of `kind` for `name`; fails the test when missing.
  ProgressEvent find(ProgressKind kind, const std::string& name);
};

inline const char* kind_name(ProgressKind k) { return progress_kind_name(k); }

inline std::vector<std::string> EventLog::lines(bool with_text) {
  std::lock_guard lock(mu);
  std::vector<std::string> out;
  for (const auto& e : events) {
    std::string s = std::string(kind_name(e.kind)) + " " + e.name;
    if (with_text && !e.text.empty()) {
      s += " " + e.text;
    }
    out.push_back(s);
  }
  return out;
}

inline ProgressEvent EventLog::find(ProgressKind kind, const std::string& name) {
  std::lock_guard lock(mu);
  for (const auto& e : events) {
    if (e.kind == kind && e.name == name) {
      return e;
    }
  }
  throw std::runtime_error("no event " + std::string(kind_name(kind)) + " " + name);
}

}  // namespace kiln::solver::core::testing
