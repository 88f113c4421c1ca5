// `save` and `load` between the image store and docker-archive / OCI layout tars.
#pragma once

#include <string>
#include <vector>

#include <llvm/ADT/ArrayRef.h>
#include <llvm/ADT/StringRef.h>
#include <llvm/Support/Error.h>

#include "cache/image_store.h"
#include "oci/archive_writer.h"

namespace kiln::cache {

/// One image that `load_archive` stored.
struct LoadedRecord {
  /// Full normalized names the archive gave it (may be empty).
  std::vector<std::string> names;
  /// Names whose previous image was replaced, with that image's ID (docker prints
  /// "renaming the old one").
  std::vector<std::pair<std::string, Digest>> replaced;
  ImageRecord image;
};

/// Reads an archive (docker-archive or OCI layout tar, plain/gzip/zstd) from `fd`
/// into `store`, holding a shared blob lease from the first blob to the last name.
/// When the archive is rejected nothing is stored; the error has no command prefix.
llvm::Expected<std::vector<LoadedRecord>> load_archive(ImageStore& store, int fd);

/// docker's report of a load, one line each without newlines: "The image NAME
/// already exists, renaming the old one with ID ID to empty string" (not when
/// `quiet`), "Loaded image: NAME" for each name, "Loaded image ID: ID" for an
/// image without one. Names in their familiar form.
std::vector<std::string> load_report_lines(const std::vector<LoadedRecord>& loaded, bool quiet);

/// What to save: user texts resolved in the store. A name keeps that name in the
/// archive; a repository without a tag ("alpine") saves every tag of it, like
/// docker; an ID or digest saves the image without names.
llvm::Expected<std::vector<oci::ArchiveImage>> resolve_for_save(ImageStore& store,
                                                                llvm::ArrayRef<std::string> texts);

/// Writes `images` to `fd` in `format`, blobs streamed from the content store.
/// The entries' mtime is SOURCE_DATE_EPOCH when set, else 0.
llvm::Error save_archive(ImageStore& store, llvm::ArrayRef<oci::ArchiveImage> images,
                         oci::ArchiveFormat format, int fd);

/// `kiln save`: resolve_for_save() of `texts`, written in `format` to the file
/// `path` (created with mode 0644 or truncated; removed again when the save
/// fails) or, when `path` is empty, to standard output, under a shared blob
/// lease (so that no rmi or collection deletes the blobs being read). Errors are
/// in the context "save".
llvm::Error save_images(ImageStore& store, llvm::ArrayRef<std::string> texts,
                        oci::ArchiveFormat format, llvm::StringRef path);

/// `kiln load`: load_archive() of the file `path`, or of standard input when
/// `path` is empty. Errors are in the context "load".
llvm::Expected<std::vector<LoadedRecord>> load_archive_file(ImageStore& store,
                                                            llvm::StringRef path);

}  // namespace kiln::cache
