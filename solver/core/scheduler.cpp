#include "solver/core/scheduler.h"

#include <algorithm>
#include <atomic>
#include <future>

#include "solver/core/scheduler_impl.h"
#include "support/error.h"

namespace kiln::solver::core {

Node::Node(const Vertex& v, std::vector<std::shared_ptr<Node>> in, std::shared_ptr<Node> help,
           bool is_helper)
    : digest(v.digest()),
      name(v.name()),
      resource(v.resource_class()),
      inputs(std::move(in)),
      helper(std::move(help)),
      quiet(is_helper) {}

void Request::emit(const ProgressEvent& event) {
  if (!progress) {
    return;
  }
  std::lock_guard lock(progress_mu_);
  progress(event);
}

void Request::record_error(const SharedError& err) {
  if (is_cancelled(err)) {
    return;
  }
  {
    std::lock_guard lock(mu);
    if (!first_error) {
      first_error = err;
    }
  }
  cancel.cancel();
}

void Request::add_hold() {
  std::lock_guard lock(mu);
  ++holds;
}

void Request::drop_hold() {
  std::lock_guard lock(mu);
  if (--holds == 0) {
    cv.notify_all();
  }
}

void Request::wait_holds() {
  std::unique_lock lock(mu);
  cv.wait(lock, [&] { return holds == 0; });
}

void gather(size_t n, const std::function<void(size_t, std::function<void(SharedError)>)>& start,
            std::function<void(SharedError)> all) {
  if (n == 0) {
    all(nullptr);
    return;
  }
  struct State {
    std::atomic<size_t> remaining;
    std::atomic<bool> fired{false};
    std::function<void(SharedError)> all;
  };
  auto state = std::make_shared<State>();
  state->remaining = n;
  state->all = std::move(all);
  for (size_t i = 0; i < n; ++i) {
    start(i, [state](SharedError err) {
      if (err) {
        if (!state->fired.exchange(true)) {
          state->all(std::move(err));
        }
        return;
      }
      if (state->remaining.fetch_sub(1) == 1 && !state->fired.exchange(true)) {
        state->all(nullptr);
      }
    });
  }
}

WorkerPool::WorkerPool(unsigned threads, std::function<void()> done) : done_(std::move(done)) {
  for (unsigned i = 0; i < threads; ++i) {
    threads_.emplace_back([this] { loop(); });
  }
}

WorkerPool::~WorkerPool() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  for (auto& t : threads_) {
    t.join();
  }
}

void WorkerPool::push(std::function<void()> fn) {
  {
    std::lock_guard lock(mu_);
    queue_.push_back(std::move(fn));
  }
  cv_.notify_one();
}

void WorkerPool::loop() {
  while (true) {
    std::function<void()> fn;
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) {
        return;
      }
      fn = std::move(queue_.front());
      queue_.pop_front();
    }
    fn();
    done_();
  }
}

Scheduler::Impl::Impl(SchedulerOptions opts) : options(opts), arena(tbb::task_arena::automatic, 1) {
  unsigned cpus = std::max(1u, std::thread::hardware_concurrency());
  cpu_pool = std::make_unique<WorkerPool>(cpus, [this] { task_done(); });
  container_pool =
      std::make_unique<WorkerPool>(options.jobs ? options.jobs : cpus, [this] { task_done(); });
}

Scheduler::Impl::~Impl() {
  std::unique_lock lock(tasks_mu);
  tasks_cv.wait(lock, [&] { return outstanding == 0; });
}

void Scheduler::Impl::task_done() {
  std::lock_guard lock(tasks_mu);
  if (--outstanding == 0) {
    tasks_cv.notify_all();
  }
}

void Scheduler::Impl::run_step(std::function<void()> fn) {
  {
    std::lock_guard lock(tasks_mu);
    ++outstanding;
  }
  arena.enqueue([this, fn = std::move(fn)] {
    fn();
    task_done();
  });
}

void Scheduler::Impl::run_blocking(ResourceClass resource, std::function<void()> fn) {
  {
    std::lock_guard lock(tasks_mu);
    ++outstanding;
  }
  (resource == ResourceClass::container ? container_pool : cpu_pool)->push(std::move(fn));
}

NodePtr Scheduler::Impl::node_for(const Vertex& v, Request& req,
                                  std::unordered_map<const Vertex*, NodePtr>& memo,
                                  bool is_helper) {
  if (auto it = memo.find(&v); it != memo.end()) {
    return it->second;
  }
  std::vector<NodePtr> inputs;
  for (const Vertex* in : v.inputs()) {
    inputs.push_back(node_for(*in, req, memo, false));
  }
  NodePtr helper = v.helper() ? node_for(*v.helper(), req, memo, true) : nullptr;
  NodePtr& slot = nodes[v.digest()];
  if (slot) {
    bool reuse = false;
    {
      std::lock_guard lock(slot->mu);
      bool failed = slot->key_state == State::failed || slot->result_state == State::failed;
      reuse = !failed && slot->inputs == inputs && slot->helper == helper;
    }
    if (!reuse) {
      slot = nullptr;  // may free the old node: not under its lock
    }
  }
  if (!slot) {
    slot = std::make_shared<Node>(v, std::move(inputs), std::move(helper), is_helper);
  }
  NodePtr node = slot;
  memo.emplace(&v, node);
  std::lock_guard lock(node->mu);
  bool owned = std::any_of(node->owners.begin(), node->owners.end(),
                           [&](const Owner& o) { return o.request == &req; });
  if (!owned) {
    node->owners.push_back({&req, &v});
    req.nodes.push_back(node);
    if (node->result_state == State::done && !node->quiet) {
      req.emit(
          {ProgressKind::cached, node->digest, node->name, std::chrono::system_clock::now(), {}});
    }
  }
  return node;
}

void Scheduler::Impl::propagate_cancel(Request& req) {
  std::vector<CancelToken> to_cancel;
  for (const NodePtr& n : req.nodes) {
    std::lock_guard lock(n->mu);
    bool all = std::all_of(n->owners.begin(), n->owners.end(),
                           [](const Owner& o) { return o.request->cancel.cancelled(); });
    if (all) {
      to_cancel.push_back(n->exec_cancel);
    }
  }
  for (const CancelToken& t : to_cancel) {
    t.cancel();
  }
}

void Scheduler::Impl::finish_request(Request& req) {
  for (const NodePtr& n : req.nodes) {
    std::lock_guard lock(n->mu);
    std::erase_if(n->owners, [&](const Owner& o) { return o.request == &req; });
  }
  req.wait_holds();
}

Scheduler::Scheduler(SchedulerOptions options) : impl_(std::make_unique<Impl>(options)) {}

Scheduler::~Scheduler() = default;

llvm::Expected<Solved> Scheduler::solve(const Vertex& root, const SolveOptions& options) {
  Request req;
  req.progress = options.progress;
  NodePtr node;
  {
    std::lock_guard lock(impl_->nodes_mu);
    std::unordered_map<const Vertex*, NodePtr> memo;
    node = impl_->node_for(root, req, memo, false);
  }
  Impl* impl = impl_.get();
  uint64_t propagate_id = req.cancel.on_cancel([impl, &req] {
    req.add_hold();
    impl->run_step([impl, &req] {
      impl->propagate_cancel(req);
      req.drop_hold();
    });
  });
  uint64_t external_id = 0;
  if (options.cancel) {
    external_id = options.cancel->on_cancel([t = req.cancel] { t.cancel(); });
  }
  auto settled = std::make_shared<std::promise<void>>();
  std::future<void> done = settled->get_future();
  impl_->want_result(node, [settled] { settled->set_value(); });
  done.wait();
  if (options.cancel) {
    options.cancel->remove_callback(external_id);
  }
  req.cancel.remove_callback(propagate_id);
  impl_->finish_request(req);

  if (req.first_error) {
    return copy_error(req.first_error);
  }
  std::lock_guard lock(node->mu);
  if (node->result_state != State::done) {
    return copy_error(node->error ? node->error : cancelled_error());
  }
  return Solved{node->result, node->key};
}

}  // namespace kiln::solver::core
