// Image references, parsed and normalized exactly like docker's
// github.com/distribution/reference (ParseNormalizedNamed, TagNameOnly, Familiar*).
#pragma once

#include <string>
#include <utility>

#include <llvm/ADT/StringRef.h>
#include <llvm/Support/Error.h>

namespace kiln::oci {

/// The default registry of unqualified names.
inline constexpr llvm::StringLiteral kDefaultDomain = "docker.io";

/// A named image reference: domain/path[:tag][@digest]. Value type.
struct Reference {
  std::string domain;  // "docker.io", "localhost:5000", "[::1]:5000"; never empty once normalized
  std::string path;    // "library/alpine", "user/app"
  std::string tag;     // empty when none
  std::string digest;  // "sha256:<hex>" (or another algorithm); empty when none

  /// "domain/path" (docker's Name()).
  std::string name() const;
  /// The full reference "domain/path[:tag][@digest]" (docker's String()).
  std::string str() const;
  /// The short name docker shows: "alpine", "user/app", "localhost:5000/x"
  /// (docker's FamiliarName).
  std::string familiar_name() const;
  /// familiar_name() plus ":tag" and "@digest" (docker's FamiliarString).
  std::string familiar_str() const;
  /// True when there is neither a tag nor a digest.
  bool name_only() const { return tag.empty() && digest.empty(); }

  bool operator==(const Reference&) const = default;
};

/// Parses and normalizes `text` like docker's ParseNormalizedNamed: "alpine" →
/// docker.io/library/alpine, "user/app" → docker.io/user/app, "index.docker.io/x" →
/// docker.io/library/x. Does not add a tag. Errors are docker's texts, e.g.
/// "invalid reference format", "invalid reference format: repository name
/// (library/Alpine) must be lowercase", "invalid tag format" (UsageError).
llvm::Expected<Reference> parse_normalized_named(llvm::StringRef text);

/// Parses `text` without any normalization (docker's reference.Parse): the domain is
/// whatever the first component is when it looks like one, and may stay empty.
llvm::Expected<Reference> parse_unnormalized(llvm::StringRef text);

/// Parses a reference that must already be fully qualified (docker's ParseNamed):
/// "alpine" fails with "repository name must be canonical".
llvm::Expected<Reference> parse_named(llvm::StringRef text);

/// Adds the tag "latest" when `ref` has neither tag nor digest (docker's TagNameOnly).
Reference tag_name_only(Reference ref);

/// parse_normalized_named followed by tag_name_only: what `docker pull NAME` uses.
llvm::Expected<Reference> parse_reference(llvm::StringRef text);

/// The short repository and tag docker shows of a full name: {"alpine", "latest"}
/// for "docker.io/library/alpine:latest"; "<none>" for no tag; a name that does not
/// parse (parse_named) is returned whole with tag "<none>".
std::pair<std::string, std::string> familiar_repo_tag(llvm::StringRef full_name);

/// "alpine:latest" for "docker.io/library/alpine:latest"; a name that does not parse
/// is returned whole.
std::string familiar_name(llvm::StringRef full_name);

/// True for a valid tag: [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}.
bool is_valid_tag(llvm::StringRef tag);

/// True for 64 lowercase hex characters (a full image ID without "sha256:").
bool is_full_hex_id(llvm::StringRef text);

}  // namespace kiln::oci
