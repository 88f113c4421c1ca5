// The steps of one node: its cache key, the cache lookup, and exec.

#include <algorithm>

#include "solver/core/cache_key.h"
#include "solver/core/scheduler_impl.h"
#include "support/error.h"

namespace kiln::solver::core {

namespace {

std::vector<std::function<void()>> take(std::vector<std::function<void()>>& waiters) {
  std::vector<std::function<void()>> out;
  out.swap(waiters);
  return out;
}

SharedError result_error(Node& n) {
  std::lock_guard lock(n.mu);
  return n.result_state == State::done ? nullptr : n.error;
}

}  // namespace

Hold Scheduler::Impl::acquire(Node& n) {
  std::lock_guard lock(n.mu);
  for (const Owner& o : n.owners) {
    if (!o.request->cancel.cancelled()) {
      o.request->add_hold();
      return Hold(o.request, o.vertex);
    }
  }
  return Hold();
}

void Scheduler::Impl::emit(Node& n, ProgressKind kind, std::string text) {
  if (n.quiet) {
    return;
  }
  ProgressEvent event{kind, n.digest, n.name, std::chrono::system_clock::now(), std::move(text)};
  std::lock_guard lock(n.mu);
  for (const Owner& o : n.owners) {
    o.request->emit(event);
  }
}

void Scheduler::Impl::report_failure(Node& n, const SharedError& err) {
  if (n.quiet) {
    return;  // a helper's failure only means its user does without it
  }
  if (is_cancelled(err)) {
    emit(n, ProgressKind::canceled);
    return;
  }
  emit(n, ProgressKind::error, err->message());
  std::vector<Request*> owners;
  {
    std::lock_guard lock(n.mu);
    for (const Owner& o : n.owners) {
      owners.push_back(o.request);
      o.request->add_hold();
    }
  }
  for (Request* r : owners) {
    r->record_error(err);
    r->drop_hold();
  }
}

void Scheduler::Impl::want_key(const NodePtr& n, std::function<void()> cb) {
  bool start = false;
  {
    std::lock_guard lock(n->mu);
    if (n->key_state != State::done && n->key_state != State::failed) {
      n->key_waiters.push_back(std::move(cb));
      start = n->key_state == State::idle;
      n->key_state = State::running;
      cb = nullptr;
    }
  }
  if (cb) {
    cb();
  }
  if (start && n->helper && options.speculate) {
    want_result(n->helper, [] {});  // its key does not wait for n's inputs
  }
  if (start) {
    start_key(n);
  }
}

void Scheduler::Impl::want_result(const NodePtr& n, std::function<void()> cb) {
  bool start = false;
  {
    std::lock_guard lock(n->mu);
    if (n->result_state != State::done && n->result_state != State::failed) {
      n->result_waiters.push_back(std::move(cb));
      start = n->result_state == State::idle;
      n->result_state = State::running;
      cb = nullptr;
    }
  }
  if (cb) {
    cb();
  }
  if (start) {
    want_key(n, [this, n] {
      std::unique_lock lock(n->mu);
      if (n->key_state == State::failed) {
        SharedError err = n->error;
        lock.unlock();
        settle_result(n, err);
        return;
      }
      lock.unlock();
      run_step([this, n] { lookup(n); });
    });
  }
}

void Scheduler::Impl::settle_key(const NodePtr& n, SharedError err, const CacheKey& key) {
  std::vector<std::function<void()>> waiters;
  {
    std::lock_guard lock(n->mu);
    if (err) {
      n->key_state = State::failed;
      n->error = std::move(err);
    } else {
      n->key_state = State::done;
      n->key = key;
    }
    waiters = take(n->key_waiters);
  }
  for (auto& w : waiters) {
    w();
  }
}

void Scheduler::Impl::settle_result(const NodePtr& n, SharedError err, ResultPtr result) {
  std::vector<std::function<void()>> waiters;
  {
    std::lock_guard lock(n->mu);
    if (err) {
      n->result_state = State::failed;
      n->error = std::move(err);
    } else {
      n->result_state = State::done;
      n->result = std::move(result);
    }
    waiters = take(n->result_waiters);
  }
  for (auto& w : waiters) {
    w();
  }
}

void Scheduler::Impl::start_key(const NodePtr& n) {
  llvm::Expected<CacheMap> map = [&]() -> llvm::Expected<CacheMap> {
    Hold hold = acquire(*n);
    if (!hold) {
      return llvm::make_error<CancelledError>();
    }
    return hold.vertex().cache_map();
  }();
  if (map && !map->deps.empty() && map->deps.size() != n->inputs.size()) {
    map =
        make_error("vertex " + quote(n->name) + ": cache map has " + llvm::Twine(map->deps.size()) +
                   " deps for " + llvm::Twine(n->inputs.size()) + " inputs");
  }
  if (!map) {
    SharedError err = share_error(map.takeError());
    report_failure(*n, err);
    settle_key(n, err);
    return;
  }
  auto cmap = std::make_shared<const CacheMap>(std::move(*map));
  auto keys = std::make_shared<std::vector<KeyInput>>(n->inputs.size());
  gather(
      n->inputs.size(),
      [this, n, cmap, keys](size_t i, std::function<void(SharedError)> done) {
        key_input(n, cmap, keys, i, std::move(done));
      },
      [this, n, cmap, keys](SharedError err) {
        if (err) {
          settle_key(n, err);
          return;
        }
        CacheKey key = compute_cache_key(cmap->op_digest, *keys);
        if (options.on_key) {
          if (Hold hold = acquire(*n)) {
            options.on_key(hold.vertex(), KeyInfo{key, cmap->op_digest, *keys});
          }
        }
        settle_key(n, nullptr, key);
      });
}

void Scheduler::Impl::key_input(const NodePtr& n, const std::shared_ptr<const CacheMap>& cmap,
                                const std::shared_ptr<std::vector<KeyInput>>& keys, size_t i,
                                std::function<void(SharedError)> done) {
  const CacheDep* dep = cmap->deps.empty() ? nullptr : &cmap->deps[i];
  NodePtr in = n->inputs[i];
  if (dep) {
    (*keys)[i].selector = dep->selector;
  }
  if (dep && dep->content) {
    want_result(in, [this, n, in, dep, cmap, keys, i, done] {
      if (SharedError err = result_error(*in)) {
        done(err);
        return;
      }
      run_blocking(ResourceClass::cpu, [this, n, in, dep, cmap, keys, i, done] {
        llvm::Expected<Digest> d = dep->content(in->result);
        if (!d) {
          SharedError err = share_error(d.takeError());
          report_failure(*n, err);
          done(err);
          return;
        }
        (*keys)[i] = {KeyInput::Kind::content, *d, dep->selector};
        done(nullptr);
      });
    });
    return;
  }
  want_key(in, [in, keys, i, done] {
    std::unique_lock lock(in->mu);
    if (in->key_state == State::failed) {
      SharedError err = in->error;
      lock.unlock();
      done(err);
      return;
    }
    (*keys)[i].digest = in->key;
    lock.unlock();
    done(nullptr);
  });
}

void Scheduler::Impl::lookup(const NodePtr& n) {
  if (!options.store || options.lookup == CacheLookup::no) {
    build(n);
    return;
  }
  Hold hold = acquire(*n);
  if (!hold) {
    settle_result(n, cancelled_error());
    return;
  }
  if (hold.vertex().ignore_cache()) {
    hold.reset();
    build(n);
    return;
  }
  llvm::Expected<ResultPtr> found = options.store->load(hold.vertex(), n->key);
  hold.reset();
  if (!found) {
    SharedError err = share_error(found.takeError());
    report_failure(*n, err);
    settle_result(n, err);
    return;
  }
  if (*found) {
    emit(*n, ProgressKind::cached);
    settle_result(n, nullptr, *found);
    return;
  }
  build(n);
}

void Scheduler::Impl::build(const NodePtr& n) {
  gather(
      n->inputs.size() + (n->helper ? 1 : 0),
      [this, n](size_t i, std::function<void(SharedError)> done) {
        if (i == n->inputs.size()) {  // the helper: its failure fails nothing
          want_result(n->helper, [done] { done(nullptr); });
          return;
        }
        NodePtr in = n->inputs[i];
        want_result(in, [in, done] { done(result_error(*in)); });
      },
      [this, n](SharedError err) {
        if (err) {
          settle_result(n, err);
          return;
        }
        std::vector<ResultPtr> results;
        for (const NodePtr& in : n->inputs) {
          std::lock_guard lock(in->mu);
          results.push_back(in->result);
        }
        if (n->helper) {
          std::lock_guard lock(n->helper->mu);
          results.push_back(n->helper->result_state == State::done ? n->helper->result : nullptr);
        }
        run_blocking(n->resource, [this, n, results = std::move(results)]() mutable {
          exec(n, std::move(results));
        });
      });
}

void Scheduler::Impl::exec(const NodePtr& n, std::vector<ResultPtr> inputs) {
  Hold hold = acquire(*n);
  if (!hold) {
    settle_result(n, cancelled_error());
    return;
  }
  auto fail = [&](llvm::Error e) {
    SharedError err = share_error(std::move(e));
    hold.reset();
    report_failure(*n, err);
    settle_result(n, err);
  };
  std::unique_ptr<StepLock> step_lock;
  if (options.locks) {
    auto locked = options.locks->acquire(n->key, n->exec_cancel);
    if (!locked) {
      return fail(locked.takeError());
    }
    step_lock = std::move(*locked);
    // Another process may have made the result while this one waited for the
    // lock; look again unless the cache is not to be used.
    if (options.store && options.lookup == CacheLookup::yes && !hold.vertex().ignore_cache()) {
      llvm::Expected<ResultPtr> found = options.store->load(hold.vertex(), n->key);
      if (!found) {
        return fail(found.takeError());
      }
      if (*found) {
        hold.reset();
        emit(*n, ProgressKind::cached);
        settle_result(n, nullptr, *found);
        return;
      }
    }
  }
  emit(*n, ProgressKind::started);
  ExecContext ctx(n->exec_cancel,
                  [this, n](llvm::StringRef line) { emit(*n, ProgressKind::log, line.str()); });
  llvm::Expected<ResultPtr> result = hold.vertex().exec(ctx, inputs);
  if (!result) {
    llvm::Error e = result.takeError();
    if (n->exec_cancel.cancelled()) {
      llvm::consumeError(std::move(e));
      e = llvm::make_error<CancelledError>();
    }
    return fail(std::move(e));
  }
  if (options.store) {
    if (llvm::Error e = options.store->save(hold.vertex(), n->key, *result)) {
      return fail(std::move(e));
    }
  }
  hold.reset();
  emit(*n, ProgressKind::done);
  settle_result(n, nullptr, std::move(*result));
}

}  // namespace kiln::solver::core
