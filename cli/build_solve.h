// printed_build_events() (cli/progress.h) under its former header.
#pragma once

#include "cli/progress.h"
