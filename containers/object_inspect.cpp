#include "containers/object_inspect.h"

#include "cache/image_inspect.h"
#include "cache/image_size.h"
#include "containers/container_view.h"

namespace kiln::containers {

llvm::Expected<nlohmann::ordered_json> inspect_object(cache::ImageStore& store,
                                                      llvm::StringRef root, llvm::StringRef text,
                                                      llvm::StringRef platform) {
  auto container = inspect_container(root, text);
  if (!container) {
    return container.takeError();
  }
  if (*container) {
    return std::move(**container);
  }
  auto image = store.resolve(text);
  if (!image) {
    return image.takeError();
  }
  // Size: the layers uncompressed, as `kiln images` shows it.
  auto size = cache::uncompressed_size(store, *image);
  if (!size) {
    return size.takeError();
  }
  image->size = *size;
  return cache::inspect_image(store, *image, platform);
}

}  // namespace kiln::containers
