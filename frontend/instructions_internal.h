// Shared pieces of the instruction parsers (instructions*.cpp). Internal.
#pragma once

#include "frontend/ast.h"
#include "frontend/build_flags.h"
#include "frontend/instructions.h"

namespace kiln::frontend {

/// What one instruction parser gets: the node, its flags, its source.
struct ParseRequest {
  const Node& node;
  BuildFlags flags;
  CommandSource source;
};

/// The source fields of `node` (keyword as written, range, original text).
CommandSource source_of(const Node& node);

llvm::Expected<Command> parse_run(ParseRequest& req);
llvm::Expected<Command> parse_copy(ParseRequest& req);
llvm::Expected<Command> parse_add(ParseRequest& req);
llvm::Expected<Command> parse_healthcheck(ParseRequest& req);

/// "X requires at least one argument" and friends, with BuildKit's wording.
llvm::Error err_at_least_one(llvm::StringRef command);
llvm::Error err_exactly_one(llvm::StringRef command);

}  // namespace kiln::frontend
