#include "support/digest.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

#include <openssl/evp.h>

#include "support/error.h"

namespace kiln {

namespace {

constexpr char kHex[] = "0123456789abcdef";

int hex_value(char c) {
  if (c >= '0' && c <= '9') {
    return c - '0';
  }
  if (c >= 'a' && c <= 'f') {
    return c - 'a' + 10;
  }
  return -1;
}

}  // namespace

llvm::Expected<Digest> Digest::from_hex(llvm::StringRef hex) {
  if (hex.size() != 64) {
    return make_error("invalid digest " + quote(hex) + ": expected 64 hex characters, got " +
                      llvm::Twine(hex.size()));
  }
  std::array<uint8_t, 32> bytes{};
  for (size_t i = 0; i < 32; ++i) {
    int hi = hex_value(hex[2 * i]);
    int lo = hex_value(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) {
      return make_error("invalid digest " + quote(hex) + ": not lowercase hex");
    }
    bytes[i] = static_cast<uint8_t>(hi << 4 | lo);
  }
  return Digest(bytes);
}

llvm::Expected<Digest> Digest::parse(llvm::StringRef text) {
  auto [algo, hex] = text.split(':');
  if (hex.empty() && !text.contains(':')) {
    return make_error("invalid digest " + quote(text) + ": missing algorithm prefix 'sha256:'");
  }
  if (algo != "sha256") {
    return make_error("invalid digest " + quote(text) + ": unsupported algorithm " + quote(algo));
  }
  if (hex.size() != 64) {
    return make_error("invalid digest " + quote(text) + ": expected 64 hex characters, got " +
                      llvm::Twine(hex.size()));
  }
  auto d = from_hex(hex);
  if (!d) {
    llvm::consumeError(d.takeError());
    return make_error("invalid digest " + quote(text) + ": not lowercase hex");
  }
  return d;
}

namespace {

/// SHA-256 fetched from OpenSSL's provider once: EVP_sha256() makes every
/// EVP_DigestInit_ex() fetch it again, which costs more than hashing the few
/// hundred bytes of a context entry's fields.
const EVP_MD* sha256_md() {
  static const EVP_MD* md = [] {
    const EVP_MD* fetched = EVP_MD_fetch(nullptr, "SHA256", nullptr);
    return fetched ? fetched : EVP_sha256();
  }();
  return md;
}

}  // namespace

Digest Digest::of(llvm::StringRef bytes) {
  std::array<uint8_t, 32> out{};
  unsigned int len = 0;
  EVP_Digest(bytes.data(), bytes.size(), out.data(), &len, sha256_md(), nullptr);
  return Digest(out);
}

std::string Digest::hex() const {
  std::string out(64, '0');
  for (size_t i = 0; i < 32; ++i) {
    out[2 * i] = kHex[bytes_[i] >> 4];
    out[2 * i + 1] = kHex[bytes_[i] & 15];
  }
  return out;
}

std::string Digest::str() const { return "sha256:" + hex(); }

bool Digest::empty() const {
  for (auto b : bytes_) {
    if (b != 0) {
      return false;
    }
  }
  return true;
}

struct Sha256::State {
  EVP_MD_CTX* ctx = nullptr;
};

Sha256::Sha256() : state_(std::make_unique<State>()) {
  state_->ctx = EVP_MD_CTX_new();
  EVP_DigestInit_ex(state_->ctx, sha256_md(), nullptr);
}

Sha256::~Sha256() {
  if (state_ && state_->ctx) {
    EVP_MD_CTX_free(state_->ctx);
  }
}

Sha256::Sha256(Sha256&&) noexcept = default;
Sha256& Sha256::operator=(Sha256&&) noexcept = default;

void Sha256::update(const void* data, size_t size) { EVP_DigestUpdate(state_->ctx, data, size); }

void Sha256::field(llvm::StringRef tag, llvm::StringRef value) {
  uint64_t sizes[2] = {tag.size(), value.size()};
  update(sizes, sizeof(sizes[0]));
  update(tag);
  update(sizes + 1, sizeof(sizes[1]));
  update(value);
}

void Sha256::field(llvm::StringRef tag, uint64_t value) {
  field(tag, llvm::StringRef(reinterpret_cast<const char*>(&value), sizeof(value)));
}

Digest Sha256::finish() {
  std::array<uint8_t, 32> out{};
  unsigned int len = 0;
  EVP_DigestFinal_ex(state_->ctx, out.data(), &len);
  return Digest(out);
}

llvm::Expected<Digest> digest_file(llvm::StringRef path) {
  int fd = ::open(path.str().c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return make_io_error("open", path, errno);
  }
  Sha256 h;
  std::vector<char> buf(1 << 20);
  while (true) {
    ssize_t n = ::read(fd, buf.data(), buf.size());
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      int e = errno;
      ::close(fd);
      return make_io_error("read", path, e);
    }
    if (n == 0) {
      break;
    }
    h.update(buf.data(), static_cast<size_t>(n));
  }
  ::close(fd);
  return h.finish();
}

}  // namespace kiln
