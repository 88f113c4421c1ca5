// Media types of the OCI image spec and of Docker's schema 2, with classifiers.
#pragma once

#include <llvm/ADT/StringRef.h>

namespace kiln::oci {

/// Media type strings, both families. Values are exact and stable.
namespace media_type {
inline constexpr llvm::StringLiteral kOciManifest = "application/vnd.oci.image.manifest.v1+json";
inline constexpr llvm::StringLiteral kOciIndex = "application/vnd.oci.image.index.v1+json";
inline constexpr llvm::StringLiteral kOciConfig = "application/vnd.oci.image.config.v1+json";
inline constexpr llvm::StringLiteral kOciLayer = "application/vnd.oci.image.layer.v1.tar";
inline constexpr llvm::StringLiteral kOciLayerGzip = "application/vnd.oci.image.layer.v1.tar+gzip";
inline constexpr llvm::StringLiteral kOciLayerZstd = "application/vnd.oci.image.layer.v1.tar+zstd";
inline constexpr llvm::StringLiteral kOciForeignLayer =
    "application/vnd.oci.image.layer.nondistributable.v1.tar";
inline constexpr llvm::StringLiteral kOciForeignLayerGzip =
    "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip";
inline constexpr llvm::StringLiteral kOciForeignLayerZstd =
    "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd";
inline constexpr llvm::StringLiteral kOciEmpty = "application/vnd.oci.empty.v1+json";

inline constexpr llvm::StringLiteral kDockerManifest =
    "application/vnd.docker.distribution.manifest.v2+json";
inline constexpr llvm::StringLiteral kDockerManifestList =
    "application/vnd.docker.distribution.manifest.list.v2+json";
inline constexpr llvm::StringLiteral kDockerConfig =
    "application/vnd.docker.container.image.v1+json";
inline constexpr llvm::StringLiteral kDockerLayer = "application/vnd.docker.image.rootfs.diff.tar";
inline constexpr llvm::StringLiteral kDockerLayerGzip =
    "application/vnd.docker.image.rootfs.diff.tar.gzip";
inline constexpr llvm::StringLiteral kDockerLayerZstd =
    "application/vnd.docker.image.rootfs.diff.tar.zstd";
inline constexpr llvm::StringLiteral kDockerForeignLayer =
    "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip";
}  // namespace media_type

/// Compression of a layer blob.
enum class Compression { none, gzip, zstd };

/// Which media-type family an image uses.
enum class MediaFamily { oci, docker };

/// True for an image manifest (OCI or Docker schema 2), not an index.
bool is_manifest(llvm::StringRef media_type);
/// True for an OCI index or a Docker manifest list.
bool is_index(llvm::StringRef media_type);
/// True for an image config (OCI or Docker).
bool is_config(llvm::StringRef media_type);
/// True for any layer media type, foreign (non-distributable) ones included.
bool is_layer(llvm::StringRef media_type);
/// True for a foreign / non-distributable layer (may be absent from archives).
bool is_foreign_layer(llvm::StringRef media_type);
/// The compression of layer `media_type`: `none` for plain tar and for anything that
/// is not a layer (check is_layer first).
Compression compression_of(llvm::StringRef media_type);
/// The layer media type for `compression` in `family` (distributable layers).
llvm::StringRef layer_media_type(Compression compression, MediaFamily family = MediaFamily::oci);
/// Detects the compression of a blob from its first bytes (gzip 1f 8b, zstd 28 b5 2f fd;
/// anything else is none).
Compression detect_compression(llvm::StringRef first_bytes);

}  // namespace kiln::oci
