// The scheduler's cancellation token is support's.
#pragma once

#include "support/cancel.h"

namespace kiln::solver::core {

using kiln::CancelToken;

}  // namespace kiln::solver::core
