// Git sources as BuildKit's Dockerfile frontend reads them (dfgitutil.ParseGitRef):
// "https://host/repo.git#ref:subdir", "git@host:repo.git", "ssh://…", "git://…",
// and the query form "…/repo.git?ref=…&tag=…&branch=…&commit=…&subdir=…&keep-git-dir".
#pragma once

#include <optional>
#include <string>

#include <llvm/ADT/StringRef.h>
#include <llvm/Support/Error.h>

namespace kiln::frontend {

/// A parsed git source.
struct GitRef {
  /// The remote git is given: the source without its query and fragment.
  std::string remote;
  /// A branch, tag, full ref or commit; "" for the remote's HEAD. `?tag=x` gives
  /// "refs/tags/x", `?branch=x` "refs/heads/x".
  std::string ref;
  std::string subdir;
  /// `?checksum=` / `?commit=`: a hex prefix of the commit.
  std::string checksum;
  std::optional<bool> keep_git_dir;
  std::optional<bool> submodules;
};

/// Parses `source` as a git source. Returns nullopt when it is not one (a local
/// path, or an http(s) URL whose path does not end in ".git"); fails when it is
/// one but its query is wrong (BuildKit's words: "ref conflicts: …", "unexpected
/// query …") or it could carry an option into git (a remote or ref that starts
/// with '-').
llvm::Expected<std::optional<GitRef>> parse_git_ref(llvm::StringRef source);

/// Whether `text` is a hex string (a commit name or a prefix of one).
bool is_hex(llvm::StringRef text);

}  // namespace kiln::frontend
