// Compose interpolation: `${VAR}`, `$VAR`, `${VAR:-default}`, `${VAR-default}`,
// `${VAR:?error}`, `${VAR?error}`, `${VAR:+alt}`, `${VAR+alt}` and `$$`, with
// values from an environment map (the shell's over `.env`), and the `.env` file
// format (dotenv) that feeds it.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <vector>

#include <llvm/ADT/StringRef.h>
#include <llvm/Support/Error.h>

#include "compose/node.h"

namespace kiln::compose {

/// Variables for interpolation, by name.
using Environment = std::map<std::string, std::string>;

/// Called with each warning ("The \"X\" variable is not set. Defaulting to a blank
/// string.") for the caller to print.
using WarnFn = std::function<void(const std::string&)>;

/// Expands `text` with `env`. Fails on a bad `${` or a `:?`/`?` variable that is
/// missing, naming `where` (e.g. "services.web.image").
llvm::Expected<std::string> interpolate(llvm::StringRef text, const Environment& env,
                                        llvm::StringRef where, const WarnFn& warn);

/// Interpolates every scalar below `node` (values, not keys); `path` is the
/// dotted path of `node` for messages. Interpolated plain scalars stay plain
/// (so "${N}" may become a number); quoted ones stay strings.
llvm::Error interpolate_tree(Node& node, const Environment& env, const std::string& path,
                             const WarnFn& warn);

/// Parses a dotenv file's `text` (KEY=VALUE, `export`, comments, single quotes
/// literal, double quotes with escapes; unquoted and double-quoted values are
/// interpolated with `env` and the file's earlier keys). `path` names it in errors.
llvm::Expected<std::vector<std::pair<std::string, std::string>>> parse_env_file(
    llvm::StringRef text, llvm::StringRef path, const Environment& env);

/// Reads the dotenv file at `path`.
llvm::Expected<std::vector<std::pair<std::string, std::string>>> read_env_file(
    llvm::StringRef path, const Environment& env);

}  // namespace kiln::compose
