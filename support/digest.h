// sha256 content digests in the OCI form "sha256:<64 lowercase hex>".
#pragma once

#include <array>
#include <cstring>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include <llvm/ADT/StringRef.h>
#include <llvm/Support/Error.h>

namespace kiln {

/// A sha256 digest. Value type; thread-safe to copy and compare.
class Digest {
 public:
  Digest() = default;
  explicit Digest(const std::array<uint8_t, 32>& bytes) : bytes_(bytes) {}

  /// Parses "sha256:<64 lowercase hex>". Anything else (another algorithm, upper
  /// case, wrong length) is an error naming the input.
  static llvm::Expected<Digest> parse(llvm::StringRef text);
  /// Parses 64 lowercase hex characters without the algorithm prefix.
  static llvm::Expected<Digest> from_hex(llvm::StringRef hex);
  /// The digest of `bytes`.
  static Digest of(llvm::StringRef bytes);

  /// "sha256:<hex>".
  std::string str() const;
  /// The 64 hex characters.
  std::string hex() const;
  /// The first 12 hex characters, as docker shows image IDs.
  std::string short_hex() const { return hex().substr(0, 12); }
  const std::array<uint8_t, 32>& bytes() const { return bytes_; }
  bool empty() const;

  auto operator<=>(const Digest&) const = default;
  bool operator==(const Digest&) const = default;

 private:
  std::array<uint8_t, 32> bytes_{};
};

/// Streaming sha256. Not thread-safe; one per stream.
class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(Sha256&&) noexcept;
  Sha256& operator=(Sha256&&) noexcept;

  void update(const void* data, size_t size);
  void update(llvm::StringRef bytes) { update(bytes.data(), bytes.size()); }
  /// Feeds a tagged field: the tag, its length and the value, so that two
  /// different field lists can never give the same byte stream.
  void field(llvm::StringRef tag, llvm::StringRef value);
  void field(llvm::StringRef tag, uint64_t value);
  /// Finishes the stream; the hasher may not be used afterwards.
  Digest finish();

 private:
  struct State;
  std::unique_ptr<State> state_;
};

/// Computes the digest of the file at `path`, streaming.
llvm::Expected<Digest> digest_file(llvm::StringRef path);

}  // namespace kiln

template <>
struct std::hash<kiln::Digest> {
  size_t operator()(const kiln::Digest& d) const noexcept {
    size_t h;
    static_assert(sizeof(h) <= 32);
    std::memcpy(&h, d.bytes().data(), sizeof(h));
    return h;
  }
};
