// The size `kiln images` shows: the uncompressed size of an image's layers (their
// tars), the same for built, pulled, loaded and imported images.
#pragma once

#include <cstdint>

#include <llvm/Support/Error.h>

#include "cache/image_store.h"

namespace kiln::cache {

/// The sum of the uncompressed sizes of `record`'s layers (of every platform's
/// image for an image index): an uncompressed
/// blob's own size, else the size remembered in kiln.db (`layer_sizes`, or an
/// uncompressed blob recorded for the DiffID), else the blob inflated once and
/// counted (and remembered unless the store is read-only).
llvm::Expected<int64_t> uncompressed_size(ImageStore& images, const ImageRecord& record);

}  // namespace kiln::cache
