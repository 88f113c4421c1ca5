// OCI image-spec descriptors, manifests and indexes, with deterministic JSON.
//
// parse_X reads JSON (both the OCI and the Docker schema 2 media types) and fails with
// a message naming the bad field; to_json writes Go encoding/json's struct field order
// with omitempty, the way docker and BuildKit write these documents, so equal values
// give equal bytes. Never re-serialize a stored blob: its digest is of its bytes.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <llvm/ADT/StringRef.h>
#include <llvm/Support/Error.h>

#include "support/digest.h"

namespace kiln::oci {

/// A platform ("linux/amd64", "linux/arm64/v8").
struct Platform {
  std::string architecture;  // GOARCH: "amd64", "arm64", ...
  std::string os;            // GOOS: "linux", ...
  std::string os_version;    // "os.version", usually empty
  std::vector<std::string> os_features;
  std::string variant;  // "v8", "v7", or empty

  /// "os/architecture[/variant]".
  std::string str() const;
  bool operator==(const Platform&) const = default;
};

/// Parses "os/arch[/variant]" (e.g. "linux/arm64/v8"); fails on anything else.
llvm::Expected<Platform> parse_platform(llvm::StringRef text);
/// The platform kiln runs on (linux/amd64 on x86-64, linux/arm64/v8 on aarch64).
Platform host_platform();
/// containerd's normalization: lowercase, "x86_64"/"x86-64" -> "amd64", "aarch64" ->
/// "arm64" (variant "v8" dropped), "arm" with no variant -> "v7", "armhf" -> arm/v7,
/// "armel" -> arm/v6, "i386"/"386" -> "386".
Platform normalize_platform(Platform p);
/// Parses and normalizes `text` ("linux/arm64", "linux/arm/v7"); fails as parse_platform.
llvm::Expected<Platform> parse_normalized_platform(llvm::StringRef text);
/// True when an index entry for `candidate` can run on `wanted`: same os and
/// architecture, and the same variant when `wanted` names one (arm64's empty variant
/// matches "v8").
bool platform_matches(const Platform& wanted, const Platform& candidate);

/// A content descriptor: what a manifest, index or archive points at.
struct Descriptor {
  std::string media_type;
  Digest digest;
  int64_t size = 0;
  std::vector<std::string> urls;
  std::map<std::string, std::string> annotations;
  std::optional<Platform> platform;
  std::string artifact_type;  // "artifactType", usually empty

  bool operator==(const Descriptor&) const = default;
};

/// An image manifest (schemaVersion 2), OCI or Docker schema 2.
struct Manifest {
  int schema_version = 2;
  std::string media_type;  // may be empty in OCI documents
  std::string artifact_type;
  Descriptor config;
  std::vector<Descriptor> layers;
  std::optional<Descriptor> subject;
  std::map<std::string, std::string> annotations;

  bool operator==(const Manifest&) const = default;
};

/// An OCI index or a Docker manifest list.
struct Index {
  int schema_version = 2;
  std::string media_type;  // may be empty in OCI documents (index.json of a layout)
  std::string artifact_type;
  std::vector<Descriptor> manifests;
  std::optional<Descriptor> subject;
  std::map<std::string, std::string> annotations;

  bool operator==(const Index&) const = default;
};

/// Annotation keys used by image layouts and archives.
namespace annotation {
inline constexpr llvm::StringLiteral kRefName = "org.opencontainers.image.ref.name";
inline constexpr llvm::StringLiteral kContainerdImageName = "io.containerd.image.name";
inline constexpr llvm::StringLiteral kCreated = "org.opencontainers.image.created";
}  // namespace annotation

/// Parses a descriptor object. Fails on a missing/invalid digest, negative size, or
/// wrongly typed fields: "invalid descriptor: ...".
llvm::Expected<Descriptor> parse_descriptor(llvm::StringRef json);
/// Parses a manifest. Fails when schemaVersion is not 2, the media type is an index,
/// or config/layers are invalid: "invalid manifest: ...".
llvm::Expected<Manifest> parse_manifest(llvm::StringRef json);
/// Parses an index / manifest list: "invalid index: ...".
llvm::Expected<Index> parse_index(llvm::StringRef json);

/// Compact JSON in Go struct order with omitempty (no trailing newline).
std::string to_json(const Descriptor& descriptor);
std::string to_json(const Manifest& manifest);
std::string to_json(const Index& index);

/// A descriptor for `bytes` with `media_type`: digest and size of the bytes.
Descriptor describe(llvm::StringRef media_type, llvm::StringRef bytes);

}  // namespace kiln::oci
