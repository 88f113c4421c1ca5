// Resolution of the images in an archive's entry table, and the final commit.

#include <set>

#include "oci/archive_entries.h"
#include "oci/image_config.h"
#include "oci/json_io.h"
#include "oci/media_types.h"
#include "support/error.h"

namespace kiln::oci::detail {

llvm::Expected<ArchiveEntry*> EntryTable::file(const std::string& name) {
  std::string current = name;
  for (int hops = 0; hops <= 8; ++hops) {
    auto it = entries.find(current);
    if (it == entries.end()) {
      return make_error("entry " + quote(name) + ": missing from the archive");
    }
    ArchiveEntry& e = it->second;
    if (e.kind == ArchiveEntry::Kind::file) {
      return &e;
    }
    if (e.kind == ArchiveEntry::Kind::dir) {
      return make_error("entry " + quote(name) + ": not a regular file");
    }
    current = e.link_target;
  }
  return make_error("entry " + quote(name) + ": too many levels of links");
}

ArchiveEntry* EntryTable::blob(const Digest& digest) {
  auto it = by_digest.find(digest);
  if (it == by_digest.end()) {
    return nullptr;
  }
  return &entries.at(it->second);
}

namespace {

// One image found, before anything is committed.
struct FoundImage {
  std::vector<Reference> names;
  Descriptor manifest;
  std::string manifest_bytes;
  std::string config_bytes;
  bool synthesized = false;
  LoadedKind kind = LoadedKind::image;
  std::vector<Digest> blobs;  // archive blobs to commit, in order
};

class Resolver {
 public:
  Resolver(EntryTable& table, const ReadOptions& options) : table_(table), options_(options) {}

  llvm::Error from_index(const ArchiveEntry& index_json);
  llvm::Error from_docker_manifest(const ArchiveEntry& manifest_json);
  std::vector<FoundImage>& images() { return images_; }

 private:
  llvm::Expected<ArchiveEntry*> need_blob(const Descriptor& d, llvm::StringRef what);
  llvm::Expected<std::string> json_blob(const Descriptor& d, llvm::StringRef what);
  llvm::Expected<Descriptor> choose_platform(const Descriptor& index, int depth);
  llvm::Error add_manifest(const Descriptor& d, std::vector<Reference> names,
                           LoadedKind kind = LoadedKind::image);
  llvm::Expected<bool> add_whole_index(const Descriptor& d, std::vector<Reference>& names);
  llvm::Error add_docker_image(const Json& item);
  void merge_names(FoundImage& image, const std::vector<Reference>& names);

  EntryTable& table_;
  const ReadOptions& options_;
  std::vector<FoundImage> images_;
};

llvm::Expected<ArchiveEntry*> Resolver::need_blob(const Descriptor& d, llvm::StringRef what) {
  std::string label = what.str() + " " + quote(d.digest.str());
  ArchiveEntry* e = table_.blob(d.digest);
  if (!e) {
    return make_error(label + ": missing from the archive");
  }
  if (e->size != d.size) {
    return make_error(label + ": size is " + llvm::Twine(e->size) + ", descriptor says " +
                      llvm::Twine(d.size));
  }
  return e;
}

llvm::Expected<std::string> Resolver::json_blob(const Descriptor& d, llvm::StringRef what) {
  auto e = need_blob(d, what);
  if (!e) {
    return e.takeError();
  }
  if (!(*e)->bytes) {
    return make_error(what + " " + quote(d.digest.str()) + ": not a JSON document");
  }
  return *(*e)->bytes;
}

llvm::Expected<Descriptor> Resolver::choose_platform(const Descriptor& d, int depth) {
  if (depth > 4) {
    return make_error("index " + quote(d.digest.str()) + ": nested too deeply");
  }
  auto bytes = json_blob(d, "index");
  if (!bytes) {
    return bytes.takeError();
  }
  auto index = parse_index(*bytes);
  if (!index) {
    return with_context(index.takeError(), "index " + quote(d.digest.str()));
  }
  for (const auto& child : index->manifests) {
    if (child.platform && platform_matches(options_.platform, *child.platform)) {
      if (is_index(child.media_type)) {
        return choose_platform(child, depth + 1);
      }
      return child;
    }
  }
  return make_error("index " + quote(d.digest.str()) + ": no manifest for platform " +
                    quote(options_.platform.str()));
}

void Resolver::merge_names(FoundImage& image, const std::vector<Reference>& names) {
  for (const auto& name : names) {
    if (std::find(image.names.begin(), image.names.end(), name) == image.names.end()) {
      image.names.push_back(name);
    }
  }
}

// With all_platforms: an index whose platforms' manifests are all in the archive
// becomes its images (index_member) and then itself; false when one is missing.
llvm::Expected<bool> Resolver::add_whole_index(const Descriptor& d, std::vector<Reference>& names) {
  auto bytes = json_blob(d, "index");
  if (!bytes) {
    return bytes.takeError();
  }
  auto index = parse_index(*bytes);
  if (!index) {
    return with_context(index.takeError(), "index " + quote(d.digest.str()));
  }
  for (const auto& child : index->manifests) {
    if (!is_manifest(child.media_type) || !table_.blob(child.digest)) {
      return false;  // a nested index or a platform not saved: take one platform
    }
  }
  for (const auto& child : index->manifests) {
    if (auto err = add_manifest(child, {}, LoadedKind::index_member)) {
      return std::move(err);
    }
  }
  for (auto& image : images_) {
    if (image.manifest.digest == d.digest) {
      merge_names(image, names);
      return true;
    }
  }
  FoundImage image;
  image.manifest = d;
  image.manifest.annotations.clear();
  image.manifest.platform.reset();
  image.manifest_bytes = std::move(*bytes);
  image.kind = LoadedKind::index;
  image.blobs.push_back(d.digest);
  merge_names(image, names);
  images_.push_back(std::move(image));
  return true;
}

llvm::Error Resolver::add_manifest(const Descriptor& d, std::vector<Reference> names,
                                   LoadedKind kind) {
  for (auto& image : images_) {
    if (image.manifest.digest == d.digest) {
      merge_names(image, names);
      return llvm::Error::success();
    }
  }
  auto bytes = json_blob(d, "manifest");
  if (!bytes) {
    return bytes.takeError();
  }
  std::string label = "manifest " + quote(d.digest.str());
  auto m = parse_manifest(*bytes);
  if (!m) {
    return with_context(m.takeError(), label);
  }
  FoundImage image;
  image.manifest = d;
  image.manifest.annotations.clear();
  image.manifest.platform.reset();
  image.manifest_bytes = std::move(*bytes);
  image.kind = kind;
  image.blobs.push_back(d.digest);
  auto config = json_blob(m->config, "config");
  if (!config) {
    return with_context(config.takeError(), label);
  }
  if (auto c = parse_image_config(*config); !c) {
    return with_context(c.takeError(), label + ": config " + quote(m->config.digest.str()));
  }
  image.config_bytes = std::move(*config);
  image.blobs.push_back(m->config.digest);
  for (const auto& layer : m->layers) {
    auto e = need_blob(layer, "layer");
    if (!e) {
      if (is_foreign_layer(layer.media_type) && !table_.blob(layer.digest)) {
        llvm::consumeError(e.takeError());
        continue;
      }
      return with_context(e.takeError(), label);
    }
    image.blobs.push_back(layer.digest);
  }
  merge_names(image, names);
  images_.push_back(std::move(image));
  return llvm::Error::success();
}

// The name an index.json entry carries: containerd's full name, else an OCI ref
// name that is a whole reference: with a repository path, tag or digest ("app:1" as
// skopeo writes it, "reg/app"); a bare tag like "latest" names no repository.
llvm::Expected<std::vector<Reference>> index_names(const Descriptor& d) {
  std::vector<Reference> out;
  std::string name;
  auto full = d.annotations.find(annotation::kContainerdImageName.str());
  auto ref = d.annotations.find(annotation::kRefName.str());
  if (full != d.annotations.end()) {
    name = full->second;
  } else if (ref != d.annotations.end() &&
             llvm::StringRef(ref->second).find_first_of("/:@") != llvm::StringRef::npos) {
    name = ref->second;
  }
  if (name.empty()) {
    return out;
  }
  auto parsed = parse_normalized_named(name);
  if (!parsed && full == d.annotations.end()) {
    llvm::consumeError(parsed.takeError());  // a ref name that is no reference names nothing
    return out;
  }
  if (!parsed) {
    return with_context(parsed.takeError(), "image name " + quote(name));
  }
  if (!parsed->tag.empty() || parsed->digest.empty()) {
    out.push_back(tag_name_only(std::move(*parsed)));
  }
  return out;
}

llvm::Error Resolver::from_index(const ArchiveEntry& index_json) {
  auto index = parse_index(*index_json.bytes);
  if (!index) {
    return index.takeError();
  }
  for (const auto& d : index->manifests) {
    auto names = index_names(d);
    if (!names) {
      return names.takeError();
    }
    Descriptor target = d;
    if (is_index(d.media_type) && options_.all_platforms) {
      auto whole = add_whole_index(d, *names);
      if (!whole) {
        return whole.takeError();
      }
      if (*whole) {
        continue;
      }
    }
    if (is_index(d.media_type)) {
      auto chosen = choose_platform(d, 0);
      if (!chosen) {
        return chosen.takeError();
      }
      target = std::move(*chosen);
    } else if (!is_manifest(d.media_type)) {
      return make_error("manifest " + quote(d.digest.str()) + ": unsupported media type " +
                        quote(d.media_type));
    }
    if (auto err = add_manifest(target, std::move(*names))) {
      return err;
    }
  }
  return llvm::Error::success();
}

struct DockerItem {
  std::string config;
  std::vector<std::string> repo_tags;
  std::vector<std::string> layers;
};

llvm::Expected<DockerItem> docker_item(const Json& item) {
  if (!item.is_object()) {
    return make_error("expected an object");
  }
  ObjectReader r(item, "");
  DockerItem out;
  llvm::Error err = r.string("Config", out.config);
  err = llvm::joinErrors(std::move(err), r.strings("RepoTags", out.repo_tags));
  err = llvm::joinErrors(std::move(err), r.strings("Layers", out.layers));
  if (err) {
    return err;
  }
  if (out.config.empty()) {
    return r.fail("Config", "missing");
  }
  return out;
}

llvm::Expected<std::vector<Reference>> repo_tag_names(const DockerItem& item) {
  std::vector<Reference> out;
  for (const auto& tag : item.repo_tags) {
    auto ref = parse_normalized_named(tag);
    if (!ref) {
      return with_context(ref.takeError(), "repo tag " + quote(tag));
    }
    if (ref->tag.empty()) {
      return make_error("invalid tag " + quote(tag));
    }
    out.push_back(std::move(*ref));
  }
  return out;
}

// A legacy docker-archive image: config and layers by path; the manifest is made here.
llvm::Error Resolver::add_docker_image(const Json& json) {
  auto item = docker_item(json);
  if (!item) {
    return item.takeError();
  }
  auto names = repo_tag_names(*item);
  if (!names) {
    return names.takeError();
  }
  auto config = table_.file(item->config);
  if (!config) {
    return config.takeError();
  }
  for (auto& image : images_) {
    if (image.kind == LoadedKind::index_member &&
        Digest::of(image.config_bytes) == (*config)->digest) {
      return llvm::Error::success();  // a platform of an index that index.json names
    }
    if (Digest::of(image.config_bytes) == (*config)->digest) {
      merge_names(image, *names);  // index.json found it already (docker 25)
      return llvm::Error::success();
    }
  }
  if (!(*config)->bytes) {
    return make_error("entry " + quote(item->config) + ": not a JSON document");
  }
  auto parsed = parse_image_config(*(*config)->bytes);
  if (!parsed) {
    return with_context(parsed.takeError(), "entry " + quote(item->config));
  }
  if (parsed->diff_ids.size() != item->layers.size()) {
    return make_error("config has " + llvm::Twine(parsed->diff_ids.size()) + " diff_ids for " +
                      llvm::Twine(item->layers.size()) + " layers");
  }
  FoundImage image;
  Manifest m;
  m.media_type = media_type::kDockerManifest.str();
  m.config.media_type = media_type::kDockerConfig.str();
  m.config.digest = (*config)->digest;
  m.config.size = (*config)->size;
  image.config_bytes = *(*config)->bytes;
  image.blobs.push_back(m.config.digest);
  for (const auto& path : item->layers) {
    auto layer = table_.file(path);
    if (!layer) {
      return layer.takeError();
    }
    Descriptor d;
    d.media_type = layer_media_type(detect_compression((*layer)->head), MediaFamily::docker).str();
    d.digest = (*layer)->digest;
    d.size = (*layer)->size;
    m.layers.push_back(d);
    image.blobs.push_back(d.digest);
  }
  image.manifest_bytes = to_json(m);
  image.manifest = describe(media_type::kDockerManifest, image.manifest_bytes);
  image.synthesized = true;
  image.names = std::move(*names);
  images_.push_back(std::move(image));
  return llvm::Error::success();
}

llvm::Error Resolver::from_docker_manifest(const ArchiveEntry& manifest_json) {
  auto list = parse_json(*manifest_json.bytes, "malformed JSON");
  if (!list) {
    return list.takeError();
  }
  if (!list->is_array()) {
    return make_error("expected a JSON array");
  }
  for (size_t i = 0; i < list->size(); ++i) {
    std::string where = "image " + std::to_string(i);
    if (auto err = add_docker_image((*list)[i])) {
      return with_context(std::move(err), where);
    }
  }
  return llvm::Error::success();
}

// Only entries with a writer are in `by_digest`, and each digest is committed once.
llvm::Error commit_blob(EntryTable& table, const Digest& digest) {
  ArchiveEntry* e = table.blob(digest);
  llvm::Error err = e->writer->commit(digest, e->size);
  e->writer.reset();
  return err;
}

llvm::Error commit_bytes(BlobSink& sink, const Descriptor& d, llvm::StringRef bytes) {
  auto writer = sink.begin();
  if (!writer) {
    return writer.takeError();
  }
  if (auto err = (*writer)->write(bytes)) {
    return err;
  }
  return (*writer)->commit(d.digest, d.size);
}

}  // namespace

llvm::Expected<std::vector<LoadedImage>> resolve_images(EntryTable& table, BlobSink& sink,
                                                        const ReadOptions& options) {
  Resolver resolver(table, options);
  auto index_json = table.entries.find("index.json");
  auto manifest_json = table.entries.find("manifest.json");
  bool has_index = index_json != table.entries.end() && index_json->second.bytes;
  bool has_manifest = manifest_json != table.entries.end() && manifest_json->second.bytes;
  if (!has_index && !has_manifest) {
    return make_error("no manifest.json or index.json in the archive");
  }
  if (has_index) {
    if (auto err = resolver.from_index(index_json->second)) {
      return with_context(std::move(err), "index.json");
    }
  }
  if (has_manifest) {
    if (auto err = resolver.from_docker_manifest(manifest_json->second)) {
      return with_context(std::move(err), "manifest.json");
    }
  }
  std::vector<FoundImage>& images = resolver.images();
  if (images.empty()) {
    return make_error("the archive holds no images");
  }
  std::set<Digest> done;
  std::vector<LoadedImage> out;
  for (auto& image : images) {
    for (const auto& digest : image.blobs) {
      if (done.insert(digest).second) {
        if (auto err = commit_blob(table, digest)) {
          return with_context(std::move(err), "store blob " + quote(digest.str()));
        }
      }
    }
    if (image.synthesized && done.insert(image.manifest.digest).second) {
      if (auto err = commit_bytes(sink, image.manifest, image.manifest_bytes)) {
        return with_context(std::move(err), "store manifest");
      }
    }
    out.push_back(LoadedImage{std::move(image.names), std::move(image.manifest),
                              std::move(image.manifest_bytes), std::move(image.config_bytes),
                              image.kind});
  }
  return out;
}

}  // namespace kiln::oci::detail
