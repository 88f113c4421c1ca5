#include "containers/image_remove.h"

#include "containers/container_store.h"
#include "oci/reference.h"
#include "support/error.h"
#include "support/fs.h"

namespace kiln::containers {
namespace {

/// A container created from image `config`: its ID, and whether it runs.
struct User {
  std::string id;
  bool running = false;
};

llvm::Expected<std::optional<User>> user_of(llvm::StringRef root, const Digest& config) {
  auto store = ContainerStore::open(root);
  if (!store) {
    return store.takeError();
  }
  auto ids = store->ids();
  if (!ids) {
    return ids.takeError();
  }
  std::optional<User> found;
  for (const std::string& id : *ids) {
    auto json = fs::read_file(store->paths(id).image_config());
    if (!json) {
      llvm::consumeError(json.takeError());
      continue;
    }
    if (Digest::of(*json) != config) {
      continue;
    }
    auto state = store->load_state(id);
    bool running = state && state->running() && store->has_runner(id);
    llvm::consumeError(state ? llvm::Error::success() : state.takeError());
    if (!found || (running && !found->running)) {
      found = User{id, running};
    }
  }
  return found;
}

}  // namespace

llvm::Expected<cache::RemoveResult> remove_image(cache::ImageStore& images, llvm::StringRef root,
                                                 llvm::StringRef text, cache::Force force) {
  auto ref = oci::parse_reference(text);
  if (ref && !ref->digest.empty() && ref->tag.empty()) {
    // NAME@DIGEST: the names of NAME's repository on that manifest.
    auto digest = Digest::parse(ref->digest);
    if (!digest) {
      return digest.takeError();
    }
    auto tags = images.tags_of_repository(ref->name());
    if (!tags) {
      return tags.takeError();
    }
    auto image = images.get(*digest);
    if (!image) {
      llvm::consumeError(image.takeError());
      return make_error("no such image: " + quote(text));
    }
    std::vector<std::string> names;
    for (const auto& [name, manifest] : *tags) {
      if (manifest == *digest) {
        names.push_back(name);
      }
    }
    if (force == cache::Force::no && names.size() == image->names.size()) {
      auto user = user_of(root, image->config);
      if (!user) {
        return user.takeError();
      }
      if (*user) {
        return make_error("conflict: unable to remove repository reference \"" + text.str() +
                          "\" (must force) - container " + (*user)->id.substr(0, 12) +
                          " is using its referenced image " + image->config.short_hex());
      }
    }
    cache::RemoveResult result;
    for (const std::string& name : names) {
      auto removed = images.remove(name, cache::Force::yes);
      if (!removed) {
        return removed.takeError();
      }
      result.deleted.insert(result.deleted.end(), removed->deleted.begin(), removed->deleted.end());
    }
    if (names.empty()) {
      if (!image->names.empty()) {
        return make_error("no such image: " + quote(text));
      }
      auto removed = images.remove(digest->str(), cache::Force::yes);  // a dangling image
      if (!removed) {
        return removed.takeError();
      }
      result.deleted = removed->deleted;
    }
    result.untagged.push_back(ref->str());
    return result;
  }
  llvm::consumeError(ref ? llvm::Error::success() : ref.takeError());
  auto image = images.resolve(text);
  if (!image) {
    return image.takeError();
  }
  std::string name;
  bool by_name = false;
  if (auto normalized = cache::normalize_image_name(text)) {
    by_name =
        std::find(image->names.begin(), image->names.end(), *normalized) != image->names.end();
    name = *normalized;
  } else {
    llvm::consumeError(normalized.takeError());
  }
  bool deletes = !by_name || image->names.size() <= 1;
  if (deletes) {
    auto user = user_of(root, image->config);
    if (!user) {
      return user.takeError();
    }
    if (*user && by_name && force == cache::Force::no) {
      return make_error("conflict: unable to remove repository reference \"" + text.str() +
                        "\" (must force) - container " + (*user)->id.substr(0, 12) +
                        " is using its referenced image " + image->config.short_hex());
    }
    if (*user && !by_name && ((*user)->running || force == cache::Force::no)) {
      return make_error("conflict: unable to delete " + image->config.short_hex() + " (" +
                        ((*user)->running ? "cannot be forced" : "must be forced") +
                        ") - image is being used by " + ((*user)->running ? "running" : "stopped") +
                        " container " + (*user)->id.substr(0, 12));
    }
  }
  return images.remove(text, force);
}

}  // namespace kiln::containers
