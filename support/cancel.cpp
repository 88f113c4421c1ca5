#include "support/cancel.h"

#include <atomic>
#include <map>
#include <mutex>

namespace kiln {

struct CancelToken::State {
  std::atomic<bool> cancelled{false};
  std::atomic<int> forwarded{0};
  std::mutex mu;
  uint64_t next_id = 1;
  std::map<uint64_t, std::function<void()>> callbacks;
};

CancelToken::CancelToken() : state_(std::make_shared<State>()) {}

bool CancelToken::cancelled() const { return state_->cancelled.load(std::memory_order_acquire); }

void CancelToken::cancel() const {
  std::lock_guard lock(state_->mu);
  if (state_->cancelled.exchange(true, std::memory_order_acq_rel)) {
    return;
  }
  for (auto& [id, fn] : state_->callbacks) {
    fn();
  }
  state_->callbacks.clear();
}

uint64_t CancelToken::on_cancel(std::function<void()> fn) const {
  std::lock_guard lock(state_->mu);
  uint64_t id = state_->next_id++;
  if (state_->cancelled.load(std::memory_order_acquire)) {
    fn();
    return id;
  }
  state_->callbacks.emplace(id, std::move(fn));
  return id;
}

void CancelToken::remove_callback(uint64_t id) const {
  std::lock_guard lock(state_->mu);
  state_->callbacks.erase(id);
}

void CancelToken::forward(int signal) const {
  state_->forwarded.store(signal, std::memory_order_relaxed);
}

int CancelToken::take_forwarded() const {
  return state_->forwarded.exchange(0, std::memory_order_relaxed);
}

}  // namespace kiln
