// How messages show text that may be huge (a hostile 10 MB Dockerfile line).
#pragma once

#include <string>

#include <llvm/ADT/StringRef.h>

namespace kiln {

/// At most the first 1 KB of `text`, with "..." when more was cut: how messages
/// and source excerpts show a line that may be megabytes long.
std::string shown_start(llvm::StringRef text);

}  // namespace kiln
