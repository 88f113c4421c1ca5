// Internals of Scheduler shared by scheduler.cpp (requests, pools) and
// scheduler_steps.cpp (key, lookup and exec steps). Not a public header.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_map>
#include <vector>

#include <oneapi/tbb/task_arena.h>

#include "solver/core/cache_key.h"
#include "solver/core/scheduler.h"
#include "solver/core/shared_error.h"

namespace kiln::solver::core {

struct Request;

/// A request that wants a node, with that request's vertex for it.
struct Owner {
  Request* request;
  const Vertex* vertex;
};

enum class State { idle, running, done, failed };

/// One deduplicated step: all vertices with one digest (and the same input
/// nodes). Fields after `mu` are guarded by it.
struct Node {
  Node(const Vertex& v, std::vector<std::shared_ptr<Node>> in, std::shared_ptr<Node> help,
       bool is_helper);

  const Digest digest;
  const std::string name;
  const ResourceClass resource;
  const std::vector<std::shared_ptr<Node>> inputs;
  /// The node of Vertex::helper(), or null.
  const std::shared_ptr<Node> helper;
  /// A helper node: no progress events, and its errors fail no request.
  const bool quiet;
  /// Fired when every owner's request is cancelled.
  const CancelToken exec_cancel;

  std::mutex mu;
  std::vector<Owner> owners;
  State key_state = State::idle;
  CacheKey key;
  State result_state = State::idle;
  ResultPtr result;
  SharedError error;
  std::vector<std::function<void()>> key_waiters;
  std::vector<std::function<void()>> result_waiters;
};

using NodePtr = std::shared_ptr<Node>;

/// One solve() call.
struct Request {
  ProgressCallback progress;
  /// Cancelled on the request's first error or by the caller's token.
  CancelToken cancel;

  std::mutex mu;
  std::condition_variable cv;
  int holds = 0;
  SharedError first_error;
  std::vector<NodePtr> nodes;  // written only during setup

  /// Delivers `event` to the callback, serialized.
  void emit(const ProgressEvent& event);
  /// Keeps the first non-cancel error and cancels the request.
  void record_error(const SharedError& err);
  void add_hold();
  void drop_hold();
  void wait_holds();

 private:
  std::mutex progress_mu_;
};

/// A fixed set of threads running queued functions, for work that blocks
/// (execs, content digests) and so must not occupy TBB's few workers.
class WorkerPool {
 public:
  /// Starts `threads` threads; `done` runs after each function.
  WorkerPool(unsigned threads, std::function<void()> done);
  /// Runs what is queued, then joins the threads.
  ~WorkerPool();
  void push(std::function<void()> fn);

 private:
  void loop();
  std::function<void()> done_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> queue_;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

/// A borrowed vertex of a node, pinned: its request cannot finish (and free
/// its graph) until the hold is dropped.
class Hold {
 public:
  Hold() = default;
  Hold(Request* r, const Vertex* v) : request_(r), vertex_(v) {}
  Hold(Hold&& o) noexcept : request_(o.request_), vertex_(o.vertex_) { o.request_ = nullptr; }
  Hold& operator=(Hold&&) = delete;
  ~Hold() { reset(); }
  explicit operator bool() const { return request_ != nullptr; }
  const Vertex& vertex() const { return *vertex_; }
  void reset() {
    if (request_) {
      request_->drop_hold();
      request_ = nullptr;
    }
  }

 private:
  Request* request_ = nullptr;
  const Vertex* vertex_ = nullptr;
};

struct Scheduler::Impl {
  explicit Impl(SchedulerOptions options);
  ~Impl();

  // Task pools (scheduler.cpp). run_step: short non-blocking steps on TBB;
  // run_blocking: execs and content digests on the pool of their class.
  void run_step(std::function<void()> fn);
  void run_blocking(ResourceClass resource, std::function<void()> fn);
  void task_done();

  // Requests (scheduler.cpp).
  NodePtr node_for(const Vertex& v, Request& req, std::unordered_map<const Vertex*, NodePtr>& memo,
                   bool is_helper);
  void propagate_cancel(Request& req);
  void finish_request(Request& req);

  // Steps (scheduler_steps.cpp).
  Hold acquire(Node& n);
  void emit(Node& n, ProgressKind kind, std::string text = {});
  void report_failure(Node& n, const SharedError& err);
  void want_key(const NodePtr& n, std::function<void()> cb);
  void want_result(const NodePtr& n, std::function<void()> cb);
  void start_key(const NodePtr& n);
  // Fills (*keys)[i] from input i: its cache key, or the content digest of its
  // result when the cache map says so.
  void key_input(const NodePtr& n, const std::shared_ptr<const CacheMap>& cmap,
                 const std::shared_ptr<std::vector<KeyInput>>& keys, size_t i,
                 std::function<void(SharedError)> done);
  void settle_key(const NodePtr& n, SharedError err, const CacheKey& key = {});
  void settle_result(const NodePtr& n, SharedError err, ResultPtr result = nullptr);
  void lookup(const NodePtr& n);
  void build(const NodePtr& n);
  void exec(const NodePtr& n, std::vector<ResultPtr> inputs);

  SchedulerOptions options;
  tbb::task_arena arena;

  std::mutex tasks_mu;
  std::condition_variable tasks_cv;
  size_t outstanding = 0;

  std::mutex nodes_mu;
  std::unordered_map<Digest, NodePtr> nodes;

  // Declared last: destroyed (joined) first.
  std::unique_ptr<WorkerPool> cpu_pool;
  std::unique_ptr<WorkerPool> container_pool;
};

/// Calls `start(i, done)` for each i in [0, n); each item calls `done` once with
/// its error or nullptr. Calls `all` exactly once: with the first error as soon
/// as it comes, or with nullptr when every item succeeded.
void gather(size_t n, const std::function<void(size_t, std::function<void(SharedError)>)>& start,
            std::function<void(SharedError)> all);

}  // namespace kiln::solver::core
