// Finds the block structure of a raw deflate stream without inflating it.
#pragma once

#include <cstddef>
#include <cstdint>

#include <llvm/Support/Error.h>

namespace kiln::cache {

/// Where the final block of a raw deflate stream starts and where the stream ends,
/// both as bit offsets from the start (bits are numbered LSB first within a byte).
struct DeflateEnd {
  uint64_t final_block_bit = 0;  ///< the BFINAL bit of the last block
  uint64_t end_bit = 0;          ///< the bit after the last block's end-of-block code
};

/// Walks the blocks and Huffman symbols of the raw deflate stream `data[0..size)`
/// (no output is produced) and returns where its final block starts and ends.
/// `data` must be readable for 16 bytes past `size` (the reader loads 64-bit words
/// and checks for the end once per symbol).
/// Fails on a malformed or truncated stream. Thread-safe (no shared state).
llvm::Expected<DeflateEnd> scan_deflate(const uint8_t* data, size_t size);

}  // namespace kiln::cache
