#include "cache/deflate_scan.h"

#include <array>
#include <cstring>
#include <vector>

#include "support/error.h"

namespace kiln::cache {
namespace {

constexpr unsigned kMaxBits = 15;
constexpr size_t kTableSize = size_t{1} << kMaxBits;

/// A bit reader over a buffer padded by 8 readable bytes.
class BitReader {
 public:
  BitReader(const uint8_t* data, size_t size) : data_(data), limit_(uint64_t{size} * 8) {}
  uint64_t peek() const {
    uint64_t word;
    std::memcpy(&word, data_ + (pos_ >> 3), sizeof(word));
    return word >> (pos_ & 7);
  }
  uint32_t bits(unsigned n) {
    uint32_t v = n == 0 ? 0 : static_cast<uint32_t>(peek() & ((uint64_t{1} << n) - 1));
    pos_ += n;
    return v;
  }
  void skip(uint64_t n) { pos_ += n; }
  void align() { pos_ = (pos_ + 7) & ~uint64_t{7}; }
  uint64_t pos() const { return pos_; }
  bool overrun() const { return pos_ > limit_; }

 private:
  const uint8_t* data_;
  uint64_t limit_;
  uint64_t pos_ = 0;
};

/// A full-width decoding table: entry = symbol << 4 | code length (0: invalid).
using Table = std::vector<uint16_t>;

bool build_table(const uint8_t* lengths, unsigned count, Table& table) {
  std::array<unsigned, kMaxBits + 1> bl_count{};
  for (unsigned i = 0; i < count; ++i) {
    bl_count[lengths[i]]++;
  }
  bl_count[0] = 0;
  std::array<unsigned, kMaxBits + 1> next{};
  unsigned code = 0;
  for (unsigned bits = 1; bits <= kMaxBits; ++bits) {
    code = (code + bl_count[bits - 1]) << 1;
    next[bits] = code;
  }
  table.assign(kTableSize, 0);
  for (unsigned sym = 0; sym < count; ++sym) {
    unsigned len = lengths[sym];
    if (len == 0) {
      continue;
    }
    unsigned c = next[len]++;
    if (c >= (1u << len)) {
      return false;  // over-subscribed
    }
    unsigned rev = 0;
    for (unsigned i = 0; i < len; ++i) {
      rev |= ((c >> i) & 1) << (len - 1 - i);
    }
    for (size_t i = rev; i < kTableSize; i += size_t{1} << len) {
      table[i] = static_cast<uint16_t>(sym << 4 | len);
    }
  }
  return true;
}

bool decode(BitReader& in, const Table& table, unsigned& sym) {
  uint16_t entry = table[in.peek() & (kTableSize - 1)];
  unsigned len = entry & 15;
  if (len == 0) {
    return false;
  }
  in.skip(len);
  sym = entry >> 4;
  return true;
}

constexpr std::array<uint8_t, 29> kLengthExtra = {0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2,
                                                  2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0};

unsigned dist_extra(unsigned d) { return d < 4 ? 0 : d / 2 - 1; }

llvm::Error malformed(llvm::StringRef what) {
  return make_error("malformed deflate stream: " + what);
}

/// Reads a dynamic block's code lengths into `litlen` and `dist` tables.
llvm::Error read_dynamic_tables(BitReader& in, Table& litlen, Table& dist, Table& scratch) {
  unsigned hlit = in.bits(5) + 257;
  unsigned hdist = in.bits(5) + 1;
  unsigned hclen = in.bits(4) + 4;
  static constexpr std::array<uint8_t, 19> kOrder = {16, 17, 18, 0, 8,  7, 9,  6, 10, 5,
                                                     11, 4,  12, 3, 13, 2, 14, 1, 15};
  std::array<uint8_t, 19> cl_lengths{};
  for (unsigned i = 0; i < hclen; ++i) {
    cl_lengths[kOrder[i]] = static_cast<uint8_t>(in.bits(3));
  }
  if (!build_table(cl_lengths.data(), 19, scratch)) {
    return malformed("bad code length code");
  }
  std::array<uint8_t, 320> lengths{};
  unsigned n = 0;
  while (n < hlit + hdist) {
    if (in.overrun()) {
      return malformed("truncated");
    }
    unsigned sym;
    if (!decode(in, scratch, sym)) {
      return malformed("bad code length");
    }
    if (sym < 16) {
      lengths[n++] = static_cast<uint8_t>(sym);
      continue;
    }
    unsigned repeat;
    uint8_t value = 0;
    if (sym == 16) {
      if (n == 0) {
        return malformed("repeat without a previous length");
      }
      value = lengths[n - 1];
      repeat = 3 + in.bits(2);
    } else if (sym == 17) {
      repeat = 3 + in.bits(3);
    } else {
      repeat = 11 + in.bits(7);
    }
    if (n + repeat > hlit + hdist) {
      return malformed("too many code lengths");
    }
    for (unsigned i = 0; i < repeat; ++i) {
      lengths[n++] = value;
    }
  }
  if (!build_table(lengths.data(), hlit, litlen) ||
      !build_table(lengths.data() + hlit, hdist, dist)) {
    return malformed("over-subscribed code");
  }
  return llvm::Error::success();
}

/// Skips the symbols of one Huffman-coded block up to and including end-of-block.
llvm::Error skip_symbols(BitReader& in, const Table& litlen, const Table& dist) {
  while (true) {
    if (in.overrun()) {
      return malformed("truncated");
    }
    unsigned sym;
    if (!decode(in, litlen, sym)) {
      return malformed("bad literal/length code");
    }
    if (sym < 256) {
      continue;
    }
    if (sym == 256) {
      return llvm::Error::success();
    }
    if (sym > 285) {
      return malformed("bad length symbol");
    }
    in.skip(kLengthExtra[sym - 257]);
    unsigned d;
    if (!decode(in, dist, d) || d >= 30) {
      return malformed("bad distance code");
    }
    in.skip(dist_extra(d));
  }
}

void fixed_tables(Table& litlen, Table& dist) {
  std::array<uint8_t, 288> l{};
  for (unsigned i = 0; i < 288; ++i) {
    l[i] = i < 144 ? 8 : i < 256 ? 9 : i < 280 ? 7 : 8;
  }
  build_table(l.data(), 288, litlen);
  std::array<uint8_t, 30> d{};
  d.fill(5);
  build_table(d.data(), 30, dist);
}

}  // namespace

llvm::Expected<DeflateEnd> scan_deflate(const uint8_t* data, size_t size) {
  BitReader in(data, size);
  Table litlen, dist, scratch;
  Table fixed_litlen, fixed_dist;
  while (true) {
    uint64_t start = in.pos();
    unsigned final = in.bits(1);
    unsigned type = in.bits(2);
    if (type == 0) {
      in.align();
      unsigned len = in.bits(16);
      unsigned nlen = in.bits(16);
      if ((len ^ 0xffff) != nlen) {
        return malformed("bad stored block length");
      }
      in.skip(uint64_t{len} * 8);
    } else if (type == 1) {
      if (fixed_litlen.empty()) {
        fixed_tables(fixed_litlen, fixed_dist);
      }
      if (auto err = skip_symbols(in, fixed_litlen, fixed_dist)) {
        return err;
      }
    } else if (type == 2) {
      if (auto err = read_dynamic_tables(in, litlen, dist, scratch)) {
        return err;
      }
      if (auto err = skip_symbols(in, litlen, dist)) {
        return err;
      }
    } else {
      return malformed("reserved block type");
    }
    if (in.overrun()) {
      return malformed("truncated");
    }
    if (final) {
      return DeflateEnd{start, in.pos()};
    }
  }
}

}  // namespace kiln::cache
