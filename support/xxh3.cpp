#include "support/xxh3.h"

#include <xxhash.h>

namespace kiln {

uint64_t xxh3_64(llvm::StringRef bytes) { return XXH3_64bits(bytes.data(), bytes.size()); }

struct Xxh3::State {
  XXH3_state_t* st = nullptr;
};

Xxh3::Xxh3() : state_(std::make_unique<State>()) {
  state_->st = XXH3_createState();
  XXH3_64bits_reset(state_->st);
}

Xxh3::~Xxh3() {
  if (state_ && state_->st) {
    XXH3_freeState(state_->st);
  }
}

Xxh3::Xxh3(Xxh3&&) noexcept = default;
Xxh3& Xxh3::operator=(Xxh3&&) noexcept = default;

void Xxh3::update(const void* data, size_t size) { XXH3_64bits_update(state_->st, data, size); }

uint64_t Xxh3::digest() const { return XXH3_64bits_digest(state_->st); }

}  // namespace kiln
