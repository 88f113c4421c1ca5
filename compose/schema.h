// The Compose Specification's shape, checked on a file's tree after
// interpolation: every key a known one (or an `x-` extension), every value of the
// right type. Errors name the file, the line and the key's dotted path:
//   compose.yaml:7: services.web: additional property 'imag' is not allowed (did you mean 'image'?)
#pragma once

#include <llvm/Support/Error.h>

#include "compose/node.h"

namespace kiln::compose {

/// Checks a whole compose file's top-level mapping.
llvm::Error validate_file(const Node& top);

}  // namespace kiln::compose
