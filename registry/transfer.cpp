#include "registry/transfer.h"

#include <atomic>
#include <mutex>
#include <thread>

#include <nlohmann/json.hpp>

#include "oci/media_types.h"
#include "registry/client_impl.h"
#include "support/error.h"

namespace kiln::registry {

llvm::Error parallel_for(size_t count, int jobs, const std::function<llvm::Error(size_t)>& body) {
  std::atomic<size_t> next{0};
  std::atomic<bool> failed{false};
  std::mutex mutex;
  llvm::Error first = llvm::Error::success();
  auto worker = [&] {
    for (size_t i; !failed && (i = next++) < count;) {
      if (llvm::Error err = body(i)) {
        std::lock_guard<std::mutex> guard(mutex);
        if (!failed.exchange(true)) {
          first = std::move(err);
        } else {
          llvm::consumeError(std::move(err));
        }
      }
    }
  };
  size_t threads = std::min<size_t>(std::max(jobs, 1), count);
  std::vector<std::thread> pool;
  for (size_t t = 1; t < threads; ++t) {
    pool.emplace_back(worker);
  }
  worker();
  for (std::thread& t : pool) {
    t.join();
  }
  return first;
}

namespace {

/// Stores `bytes` (whose digest is `digest`) unless the store has them.
llvm::Error store_bytes(BlobStore& store, llvm::StringRef bytes, const Digest& digest) {
  if (store.has(digest)) {
    return llvm::Error::success();
  }
  llvm::Expected<std::unique_ptr<BlobWriter>> writer = store.begin_write();
  if (!writer) {
    return writer.takeError();
  }
  if (llvm::Error err = (*writer)->write(bytes)) {
    return err;
  }
  return (*writer)->commit(digest, bytes.size());
}

/// Wraps a parse error of a fetched document as a RegistryError naming it.
llvm::Error invalid_document(llvm::Error err, const oci::Reference& ref, llvm::StringRef what) {
  return registry_error(ref.domain, what, error_message(std::move(err)), 200);
}

/// Picks the manifest for `platform` from index `bytes`.
llvm::Expected<oci::Descriptor> choose_platform(llvm::StringRef bytes, const oci::Reference& ref,
                                                llvm::StringRef what,
                                                const oci::Platform& platform) {
  llvm::Expected<oci::Index> index = oci::parse_index(bytes);
  if (!index) {
    return invalid_document(index.takeError(), ref, what);
  }
  for (const oci::Descriptor& entry : index->manifests) {
    if (entry.platform && oci::is_manifest(entry.media_type) &&
        oci::platform_matches(platform, *entry.platform)) {
      return entry;
    }
  }
  return registry_error(
      ref.domain, what,
      "no matching manifest for " + platform.str() + " in the manifest list entries", 200);
}

}  // namespace

llvm::Expected<PullResult> pull_image(Client& client, const oci::Reference& ref, BlobStore& store,
                                      const PullOptions& options) {
  std::string reference = ref.digest.empty() ? ref.tag : ref.digest;
  if (reference.empty()) {
    reference = "latest";
  }
  llvm::Expected<FetchedManifest> top = client.get_manifest(ref, reference);
  if (!top) {
    return top.takeError();
  }
  PullResult result;
  result.digest = top->digest;
  FetchedManifest chosen = *top;
  std::string what = "manifest " + quote(reference);
  if (oci::is_index(top->media_type)) {
    llvm::Expected<oci::Descriptor> entry =
        choose_platform(top->bytes, ref, what, options.platform);
    if (!entry) {
      return entry.takeError();
    }
    what = "manifest " + quote(entry->digest.str());
    llvm::Expected<FetchedManifest> child = client.get_manifest(ref, entry->digest.str());
    if (!child) {
      return child.takeError();
    }
    chosen = std::move(*child);
  }
  llvm::Expected<oci::Manifest> manifest = oci::parse_manifest(chosen.bytes);
  if (!manifest) {
    return invalid_document(manifest.takeError(), ref, what);
  }
  result.manifest = chosen.digest;
  result.parsed = *manifest;

  std::vector<oci::Descriptor> blobs{manifest->config};
  for (const oci::Descriptor& layer : manifest->layers) {
    if (oci::is_foreign_layer(layer.media_type) && !layer.urls.empty()) {
      continue;  // foreign layers come from their URLs, not from the registry
    }
    blobs.push_back(layer);
  }
  // What the store has is said first, in layer order (as docker lists it);
  // the rest is fetched in parallel.
  std::vector<char> have(blobs.size(), 0);
  for (size_t i = 0; i < blobs.size(); ++i) {
    have[i] = store.has(blobs[i].digest);
    // Progress is shown for layers only (blobs[0] is the config), as docker does.
    if (have[i] && i != 0 && options.progress) {
      options.progress({BlobProgress::Phase::exists, blobs[i].digest, 0, uint64_t(blobs[i].size)});
    }
  }
  std::atomic<int> downloaded{0};
  llvm::Error err = parallel_for(blobs.size(), options.jobs, [&](size_t i) -> llvm::Error {
    const oci::Descriptor& blob = blobs[i];
    const ProgressFn& progress = i == 0 ? ProgressFn() : options.progress;
    if (have[i]) {
      return llvm::Error::success();
    }
    ++downloaded;
    return client.fetch_blob(ref, blob, store, progress);
  });
  if (err) {
    return err;
  }
  result.downloaded = downloaded;
  if (llvm::Error err = store_bytes(store, chosen.bytes, chosen.digest)) {
    return err;
  }
  if (top->digest != chosen.digest) {
    if (llvm::Error err = store_bytes(store, top->bytes, top->digest)) {
      return err;
    }
  }
  return result;
}

namespace {

/// Pushes the blobs of the manifest `bytes` in parallel.
llvm::Error push_blobs(Client& client, const oci::Reference& ref, const BlobStore& store,
                       llvm::StringRef bytes, const PushOptions& options, PushResult& result) {
  llvm::Expected<oci::Manifest> manifest = oci::parse_manifest(bytes);
  if (!manifest) {
    return manifest.takeError();
  }
  std::vector<oci::Descriptor> blobs = manifest->layers;
  blobs.push_back(manifest->config);
  std::atomic<int> uploaded{0}, existed{0}, mounted{0};
  llvm::Error err = parallel_for(blobs.size(), options.jobs, [&](size_t i) -> llvm::Error {
    const oci::Descriptor& blob = blobs[i];
    // Progress is shown for layers only (the config is last), as docker does.
    const ProgressFn& progress = i + 1 == blobs.size() ? ProgressFn() : options.progress;
    if (oci::is_foreign_layer(blob.media_type) && !store.has(blob.digest)) {
      return llvm::Error::success();
    }
    llvm::Expected<bool> has = client.has_blob(ref, blob.digest);
    if (!has) {
      return has.takeError();
    }
    if (*has) {
      ++existed;
      if (progress) {
        progress({BlobProgress::Phase::exists, blob.digest, 0, uint64_t(blob.size)});
      }
      return llvm::Error::success();
    }
    llvm::Expected<bool> was_mounted =
        client.push_blob(ref, blob, store, options.mount_from, progress);
    if (!was_mounted) {
      return was_mounted.takeError();
    }
    ++(*was_mounted ? mounted : uploaded);
    return llvm::Error::success();
  });
  result.uploaded += uploaded;
  result.existed += existed;
  result.mounted += mounted;
  return err;
}

llvm::Expected<Digest> push_document(Client& client, const oci::Reference& ref,
                                     const BlobStore& store, const Digest& digest,
                                     llvm::StringRef tag, const PushOptions& options,
                                     PushResult& result) {
  llvm::Expected<std::string> bytes = store.read(digest);
  if (!bytes) {
    return bytes.takeError();
  }
  std::string media_type;
  try {
    media_type = nlohmann::json::parse(*bytes).value("mediaType", "");
  } catch (const nlohmann::json::exception& e) {
    return make_error("manifest " + quote(digest.str()) + ": invalid JSON: " + e.what());
  }
  if (oci::is_index(media_type)) {
    llvm::Expected<oci::Index> index = oci::parse_index(*bytes);
    if (!index) {
      return index.takeError();
    }
    for (const oci::Descriptor& child : index->manifests) {
      if (!store.has(child.digest)) {
        continue;  // a platform that was not pulled: the registry must already have it
      }
      llvm::Expected<Digest> pushed =
          push_document(client, ref, store, child.digest, child.digest.str(), options, result);
      if (!pushed) {
        return pushed.takeError();
      }
    }
  } else {
    if (media_type.empty()) {
      media_type = oci::media_type::kOciManifest.str();
    }
    if (llvm::Error err = push_blobs(client, ref, store, *bytes, options, result)) {
      return err;
    }
  }
  result.size = bytes->size();
  return client.put_manifest(ref, tag, media_type, *bytes);
}

}  // namespace

llvm::Expected<PushResult> push_image(Client& client, const oci::Reference& ref,
                                      const BlobStore& store, const Digest& manifest,
                                      const PushOptions& options) {
  PushResult result;
  std::string tag = ref.tag.empty() ? manifest.str() : ref.tag;
  llvm::Expected<Digest> digest = push_document(client, ref, store, manifest, tag, options, result);
  if (!digest) {
    return digest.takeError();
  }
  result.digest = *digest;
  return result;
}

}  // namespace kiln::registry
