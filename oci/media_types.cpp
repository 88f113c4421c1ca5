#include "oci/media_types.h"

namespace kiln::oci {

namespace mt = media_type;

bool is_manifest(llvm::StringRef media_type) {
  return media_type == mt::kOciManifest || media_type == mt::kDockerManifest;
}

bool is_index(llvm::StringRef media_type) {
  return media_type == mt::kOciIndex || media_type == mt::kDockerManifestList;
}

bool is_config(llvm::StringRef media_type) {
  return media_type == mt::kOciConfig || media_type == mt::kDockerConfig;
}

bool is_foreign_layer(llvm::StringRef media_type) {
  return media_type == mt::kOciForeignLayer || media_type == mt::kOciForeignLayerGzip ||
         media_type == mt::kOciForeignLayerZstd || media_type == mt::kDockerForeignLayer;
}

bool is_layer(llvm::StringRef media_type) {
  return media_type == mt::kOciLayer || media_type == mt::kOciLayerGzip ||
         media_type == mt::kOciLayerZstd || media_type == mt::kDockerLayer ||
         media_type == mt::kDockerLayerGzip || media_type == mt::kDockerLayerZstd ||
         is_foreign_layer(media_type);
}

Compression compression_of(llvm::StringRef media_type) {
  if (media_type.endswith("+gzip") || media_type.endswith(".tar.gzip")) {
    return Compression::gzip;
  }
  if (media_type.endswith("+zstd") || media_type.endswith(".tar.zstd")) {
    return Compression::zstd;
  }
  return Compression::none;
}

llvm::StringRef layer_media_type(Compression compression, MediaFamily family) {
  bool oci = family == MediaFamily::oci;
  switch (compression) {
    case Compression::none:
      return oci ? mt::kOciLayer : mt::kDockerLayer;
    case Compression::gzip:
      return oci ? mt::kOciLayerGzip : mt::kDockerLayerGzip;
    case Compression::zstd:
      return oci ? mt::kOciLayerZstd : mt::kDockerLayerZstd;
  }
  return mt::kOciLayer;
}

Compression detect_compression(llvm::StringRef first_bytes) {
  if (first_bytes.startswith("\x1f\x8b")) {
    return Compression::gzip;
  }
  if (first_bytes.startswith("\x28\xb5\x2f\xfd")) {
    return Compression::zstd;
  }
  return Compression::none;
}

}  // namespace kiln::oci
