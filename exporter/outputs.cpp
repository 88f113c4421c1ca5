#include "exporter/outputs.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

#include <llvm/ADT/SmallVector.h>

#include "cache/image_archive.h"
#include "cache/layer_tar.h"
#include "oci/reference.h"
#include "support/error.h"
#include "support/fs.h"

namespace kiln::exporter {

std::map<std::string, std::string> parse_csv_kv(llvm::StringRef text) {
  std::map<std::string, std::string> out;
  llvm::SmallVector<llvm::StringRef, 8> parts;
  text.split(parts, ',');
  for (size_t i = 0; i < parts.size(); ++i) {
    auto [k, v] = parts[i].split('=');
    if (!parts[i].contains('=')) {
      out[i == 0 ? "type" : k.str()] = i == 0 ? k.str() : "";
    } else {
      out[k.trim().str()] = v.trim().str();
    }
  }
  return out;
}

namespace {

llvm::Error write_local(const cache::SnapshotStore& snapshots, const std::optional<Digest>& chain,
                        const std::string& dest) {
  if (auto err = fs::make_dirs(dest)) {
    return err;
  }
  if (!chain) {
    return llvm::Error::success();
  }
  auto lowers = snapshots.lower_dirs(*chain);
  if (!lowers) {
    return lowers.takeError();
  }
  // Into an existing directory, files of the same names are replaced (BuildKit's local
  // exporter); a fresh export directory has none.
  return cache::copy_merged(*lowers, dest, Overwrite::yes);
}

/// Writes the tree at `dir` as a tar to `dest` ("-" is stdout).
llvm::Error write_tree_tar(const std::string& dir, const std::string& dest) {
  int fd = dest == "-" ? 1 : ::open(dest.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    return make_io_error("create", dest, errno);
  }
  llvm::Error err =
      cache::write_layer_tar(dir, {}, [fd, &dest](llvm::StringRef bytes) -> llvm::Error {
        size_t done = 0;
        while (done < bytes.size()) {
          ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
          if (n < 0) {
            return make_io_error("write", dest, errno);
          }
          done += static_cast<size_t>(n);
        }
        return llvm::Error::success();
      });
  if (fd != 1) {
    ::close(fd);
  }
  return err;
}

/// Copies each tree to TMP/fs/DIR (or TMP/fs itself for a tree of dir ""), then
/// tars TMP/fs to `dest`.
llvm::Error write_trees_tar(const cache::SnapshotStore& snapshots, const std::string& root,
                            const std::vector<PlatformTree>& trees, const std::string& dest) {
  auto tmp = fs::make_temp_dir(fs::join(root, "tmp"), "export-");
  if (!tmp) {
    return tmp.takeError();
  }
  llvm::Error err = fs::make_dirs(*tmp + "/fs");
  for (size_t i = 0; i < trees.size() && !err; ++i) {
    const std::string& dir = trees[i].dir;
    err = write_local(snapshots, trees[i].chain, dir.empty() ? *tmp + "/fs" : *tmp + "/fs/" + dir);
  }
  if (!err) {
    err = write_tree_tar(*tmp + "/fs", dest);
  }
  llvm::consumeError(fs::remove_all(*tmp));
  return err;
}

}  // namespace

llvm::Error write_output(const std::string& spec, cache::ImageStore& images, std::mutex& images_mu,
                         const cache::SnapshotStore& snapshots, const std::string& root,
                         const AssembledImage& image, const std::optional<Digest>& chain,
                         const std::vector<std::string>& names) {
  auto kv = parse_csv_kv(spec);
  if (!llvm::StringRef(spec).contains('=') && !llvm::StringRef(spec).contains(',')) {
    kv = {{"type", "local"}, {"dest", spec}};  // `-o dir`
  }
  std::string type = kv["type"];
  std::string dest = kv["dest"];
  if (type == "image" || type == "moby" || type == "registry") {
    return llvm::Error::success();  // stored anyway; pushes happen in push_outputs()
  }
  if (dest.empty()) {
    return llvm::make_error<UsageError>("output " + quote(spec) + ": dest= is required");
  }
  if (type == "local") {
    return write_local(snapshots, chain, dest);
  }
  if (type == "tar") {
    return write_trees_tar(snapshots, root, {{"", chain}}, dest);
  }
  if (type == "docker" || type == "oci") {
    oci::ArchiveImage ai;
    for (const auto& n : names) {
      auto ref = oci::parse_reference(n);
      if (ref) {
        ai.names.push_back(*ref);
      } else {
        llvm::consumeError(ref.takeError());
      }
    }
    ai.manifest = oci::describe(image.manifest.media_type, image.manifest_json);
    auto format = type == "docker" ? oci::ArchiveFormat::docker : oci::ArchiveFormat::oci;
    std::lock_guard lock(images_mu);
    if (kv.count("tar") && kv["tar"] == "false") {
      return make_error("output " + quote(spec) + ": tar=false is not supported yet");
    }
    int fd = dest == "-" ? 1 : ::open(dest.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
      return make_io_error("create", dest, errno);
    }
    llvm::Error err = cache::save_archive(images, {ai}, format, fd);
    if (fd != 1) {
      ::close(fd);
    }
    return err;
  }
  return llvm::make_error<UsageError>("unsupported output type " + quote(type) +
                                      " (choose from image, registry, docker, oci, local, tar)");
}

llvm::Error write_platforms_tar(const cache::SnapshotStore& snapshots, const std::string& root,
                                const std::vector<PlatformTree>& trees, const std::string& dest) {
  for (const PlatformTree& t : trees) {
    if (t.dir.empty() || t.dir.find('/') != std::string::npos || t.dir == "." || t.dir == "..") {
      return make_error("invalid platform directory " + quote(t.dir));
    }
  }
  return write_trees_tar(snapshots, root, trees, dest);
}

}  // namespace kiln::exporter
