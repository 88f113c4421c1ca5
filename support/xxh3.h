// xxh3 for in-memory tables and quick "did this change?" checks. Nothing stored
// or exported relies on it (DESIGN.md).
#pragma once

#include <cstdint>
#include <memory>

#include <llvm/ADT/StringRef.h>

namespace kiln {

/// The 64-bit xxh3 hash of `bytes`.
uint64_t xxh3_64(llvm::StringRef bytes);

/// Streaming 64-bit xxh3. Not thread-safe.
class Xxh3 {
 public:
  Xxh3();
  ~Xxh3();
  Xxh3(Xxh3&&) noexcept;
  Xxh3& operator=(Xxh3&&) noexcept;
  void update(const void* data, size_t size);
  void update(llvm::StringRef bytes) { update(bytes.data(), bytes.size()); }
  /// The hash of everything fed so far; the hasher stays usable.
  uint64_t digest() const;

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace kiln
