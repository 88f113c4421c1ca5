// Parallel gzip: independent libdeflate blocks joined into one deflate stream.
//
// Each 1 MiB input block is compressed alone (no shared dictionary), so blocks can
// be compressed in any order on any thread. libdeflate ends every block's stream
// with a final block; scan_deflate() finds that block's BFINAL bit, which is
// cleared, and its end, where an empty non-final stored block (the sync marker
// 00 00 ff ff that pigz and zlib's Z_SYNC_FLUSH emit) realigns to a byte boundary.
// The concatenation is one deflate stream; finish() closes it with an empty final
// fixed block (03 00) and the gzip trailer.
#include <libdeflate.h>

#include <condition_variable>
#include <cstring>
#include <deque>
#include <map>
#include <mutex>
#include <thread>
#include <vector>

#include "cache/compress.h"
#include "cache/deflate_scan.h"
#include "support/error.h"

namespace kiln::cache {
namespace {

constexpr size_t kBlockSize = size_t{1} << 20;

/// Compresses `input` into a byte-aligned, non-final run of deflate blocks.
llvm::Expected<std::string> compress_block(libdeflate_compressor* c, const std::string& input) {
  if (c == nullptr) {
    return make_error("gzip: no libdeflate compressor for this level (valid: 1 to 12)");
  }
  size_t bound = libdeflate_deflate_compress_bound(c, input.size());
  std::string out(bound + 16, '\0');
  auto* buf = reinterpret_cast<uint8_t*>(out.data());
  size_t n = libdeflate_deflate_compress(c, input.data(), input.size(), buf, bound);
  if (n == 0) {
    return make_error("gzip: libdeflate could not compress a block");
  }
  auto end = scan_deflate(buf, n);
  if (!end) {
    return with_context(end.takeError(), "gzip: libdeflate output");
  }
  buf[end->final_block_bit >> 3] &= static_cast<uint8_t>(~(1u << (end->final_block_bit & 7)));
  // A stored block header (BFINAL=0, BTYPE=00) is three zero bits, then padding.
  uint64_t bytes = (end->end_bit + 3 + 7) / 8;
  for (uint64_t bit = end->end_bit; bit < bytes * 8; ++bit) {
    buf[bit >> 3] &= static_cast<uint8_t>(~(1u << (bit & 7)));
  }
  out.resize(bytes);
  out.append("\x00\x00\xff\xff", 4);
  return out;
}

class ParallelGzip final : public StreamCompressor {
 public:
  ParallelGzip(int level, unsigned threads, ByteSink sink)
      : level_(level < 0 ? 6 : level), sink_(std::move(sink)) {
    if (threads == 0) {
      threads = std::max(1u, std::thread::hardware_concurrency());
    }
    max_in_flight_ = threads * 2;
    if (threads > 1) {
      for (unsigned i = 0; i < threads; ++i) {
        workers_.emplace_back([this] { work(); });
      }
    } else {
      inline_compressor_ = libdeflate_alloc_compressor(level_);
    }
    pending_.reserve(kBlockSize);
  }

  ~ParallelGzip() override {
    {
      std::lock_guard lock(mu_);
      stopping_ = true;
    }
    cv_.notify_all();
    for (auto& t : workers_) {
      t.join();
    }
    if (inline_compressor_ != nullptr) {
      libdeflate_free_compressor(inline_compressor_);
    }
  }

  llvm::Error write(llvm::StringRef bytes) override {
    if (!header_written_) {
      header_written_ = true;
      // ID1 ID2 CM=deflate FLG=0 MTIME=0 XFL=0 OS=255 (unknown), as Go writes it.
      if (auto err = sink_(llvm::StringRef("\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff", 10))) {
        return err;
      }
    }
    if (bytes.empty()) {
      return llvm::Error::success();  // libdeflate_crc32(crc, NULL, 0) resets the crc
    }
    crc_ = libdeflate_crc32(crc_, bytes.data(), bytes.size());
    total_ += bytes.size();
    while (!bytes.empty()) {
      size_t take = std::min(bytes.size(), kBlockSize - pending_.size());
      pending_.append(bytes.data(), take);
      bytes = bytes.drop_front(take);
      if (pending_.size() == kBlockSize) {
        if (auto err = submit()) {
          return err;
        }
      }
    }
    return llvm::Error::success();
  }

  llvm::Error finish() override {
    if (auto err = write({})) {
      return err;
    }
    if (!pending_.empty()) {
      if (auto err = submit()) {
        return err;
      }
    }
    while (next_out_ < next_in_) {
      if (auto err = flush_one()) {
        return err;
      }
    }
    uint8_t trailer[10] = {0x03, 0x00};
    for (int i = 0; i < 4; ++i) {
      trailer[2 + i] = static_cast<uint8_t>(crc_ >> (8 * i));
      trailer[6 + i] = static_cast<uint8_t>(total_ >> (8 * i));
    }
    return sink_(llvm::StringRef(reinterpret_cast<const char*>(trailer), sizeof(trailer)));
  }

 private:
  struct Result {
    bool done = false;
    std::string bytes;
    std::string error;  // empty on success
  };

  llvm::Error submit() {
    std::string block;
    block.swap(pending_);
    pending_.reserve(kBlockSize);
    if (workers_.empty()) {
      auto out = compress_block(inline_compressor_, block);
      if (!out) {
        return out.takeError();
      }
      return sink_(*out);
    }
    {
      std::lock_guard lock(mu_);
      results_[next_in_];
      jobs_.emplace_back(next_in_++, std::move(block));
    }
    cv_.notify_all();
    while (next_in_ - next_out_ > max_in_flight_) {
      if (auto err = flush_one()) {
        return err;
      }
    }
    return llvm::Error::success();
  }

  /// Waits for the oldest block and writes it to the sink.
  llvm::Error flush_one() {
    Result result;
    {
      std::unique_lock lock(mu_);
      done_cv_.wait(lock, [&] { return results_[next_out_].done; });
      result = std::move(results_[next_out_]);
      results_.erase(next_out_++);
    }
    if (!result.error.empty()) {
      return make_error(result.error);
    }
    return sink_(result.bytes);
  }

  void work() {
    libdeflate_compressor* c = libdeflate_alloc_compressor(level_);
    while (true) {
      std::pair<uint64_t, std::string> job;
      {
        std::unique_lock lock(mu_);
        cv_.wait(lock, [&] { return stopping_ || !jobs_.empty(); });
        if (jobs_.empty()) {
          break;
        }
        job = std::move(jobs_.front());
        jobs_.pop_front();
      }
      Result r;
      r.done = true;
      if (auto out = compress_block(c, job.second)) {
        r.bytes = std::move(*out);
      } else {
        r.error = error_message(out.takeError());
      }
      {
        std::lock_guard lock(mu_);
        results_[job.first] = std::move(r);
      }
      done_cv_.notify_all();
    }
    if (c != nullptr) {
      libdeflate_free_compressor(c);
    }
  }

  int level_;
  ByteSink sink_;
  unsigned max_in_flight_ = 2;
  bool header_written_ = false;
  uint32_t crc_ = 0;
  uint64_t total_ = 0;
  std::string pending_;
  libdeflate_compressor* inline_compressor_ = nullptr;

  std::mutex mu_;
  std::condition_variable cv_;       // jobs_ or stopping_ changed
  std::condition_variable done_cv_;  // a result is done
  std::deque<std::pair<uint64_t, std::string>> jobs_;
  std::map<uint64_t, Result> results_;
  uint64_t next_in_ = 0;   // index of the next block submitted
  uint64_t next_out_ = 0;  // index of the next block written
  bool stopping_ = false;
  std::vector<std::thread> workers_;
};

}  // namespace

std::unique_ptr<StreamCompressor> make_parallel_gzip(int level, unsigned threads, ByteSink sink) {
  return std::make_unique<ParallelGzip>(level, threads, std::move(sink));
}

}  // namespace kiln::cache
