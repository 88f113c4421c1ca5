#include "cache/compress.h"

#include <zstd.h>

#include <thread>

#include "support/error.h"

namespace kiln::cache {
namespace {

class Uncompressed final : public StreamCompressor {
 public:
  explicit Uncompressed(ByteSink sink) : sink_(std::move(sink)) {}
  llvm::Error write(llvm::StringRef bytes) override {
    return bytes.empty() ? llvm::Error::success() : sink_(bytes);
  }
  llvm::Error finish() override { return llvm::Error::success(); }

 private:
  ByteSink sink_;
};

/// zstd with at least one worker thread: zstd's multithreaded format does not
/// depend on the number of workers, so the bytes are the same for any `threads`.
class Zstd final : public StreamCompressor {
 public:
  Zstd(int level, unsigned threads, ByteSink sink) : sink_(std::move(sink)) {
    if (threads == 0) {
      threads = std::max(1u, std::thread::hardware_concurrency());
    }
    ctx_ = ZSTD_createCCtx();
    check(ZSTD_CCtx_setParameter(ctx_, ZSTD_c_compressionLevel, level < 0 ? 3 : level));
    check(ZSTD_CCtx_setParameter(ctx_, ZSTD_c_nbWorkers, static_cast<int>(threads)));
    out_.resize(ZSTD_CStreamOutSize());
  }
  ~Zstd() override { ZSTD_freeCCtx(ctx_); }

  llvm::Error write(llvm::StringRef bytes) override { return drive(bytes, ZSTD_e_continue); }
  llvm::Error finish() override { return drive({}, ZSTD_e_end); }

 private:
  void check(size_t rc) {
    if (ZSTD_isError(rc) && setup_error_.empty()) {
      setup_error_ = ZSTD_getErrorName(rc);
    }
  }

  llvm::Error drive(llvm::StringRef bytes, ZSTD_EndDirective mode) {
    if (!setup_error_.empty()) {
      return make_error("zstd: " + setup_error_);
    }
    ZSTD_inBuffer in{bytes.data(), bytes.size(), 0};
    while (true) {
      ZSTD_outBuffer out{out_.data(), out_.size(), 0};
      size_t rc = ZSTD_compressStream2(ctx_, &out, &in, mode);
      if (ZSTD_isError(rc)) {
        return make_error(llvm::Twine("zstd: ") + ZSTD_getErrorName(rc));
      }
      if (out.pos > 0) {
        if (auto err = sink_(llvm::StringRef(out_.data(), out.pos))) {
          return err;
        }
      }
      bool done = mode == ZSTD_e_end ? rc == 0 : in.pos == in.size;
      if (done) {
        return llvm::Error::success();
      }
    }
  }

  ByteSink sink_;
  ZSTD_CCtx* ctx_ = nullptr;
  std::string setup_error_;
  std::string out_;
};

}  // namespace

std::unique_ptr<StreamCompressor> StreamCompressor::create(Compression compression, int level,
                                                           unsigned threads, ByteSink sink) {
  switch (compression) {
    case Compression::none:
      return std::make_unique<Uncompressed>(std::move(sink));
    case Compression::gzip:
      return make_parallel_gzip(level, threads, std::move(sink));
    case Compression::zstd:
      return std::make_unique<Zstd>(level, threads, std::move(sink));
  }
  llvm_unreachable("bad compression");
}

llvm::StringRef media_type_suffix(Compression compression) {
  switch (compression) {
    case Compression::none:
      return "";
    case Compression::gzip:
      return "+gzip";
    case Compression::zstd:
      return "+zstd";
  }
  llvm_unreachable("bad compression");
}

}  // namespace kiln::cache
