#include "containers/object_inspect.h"

#include "cache/image_inspect.h"
#include "cache/image_size.h"
#include "containers/container_view.h"
#include "support/error.h"
#include "support/go_template.h"

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

llvm::Expected<InspectOutput> inspect_text(cache::ImageStore& store, llvm::StringRef root,
                                           const std::vector<std::string>& names,
                                           llvm::StringRef platform, llvm::StringRef format) {
  std::optional<support::GoTemplate> tmpl;
  if (!format.empty() && format != "json") {
    // As docker's inspect: the template as given (list commands expand `\t` first).
    auto parsed = support::GoTemplate::parse(format);
    if (!parsed) {
      return with_context(parsed.takeError(), "template parsing error");
    }
    tmpl = std::move(*parsed);
  }
  InspectOutput out;
  nlohmann::ordered_json all = nlohmann::ordered_json::array();
  for (const std::string& name : names) {
    auto json = inspect_object(store, root, name, platform);
    if (!json) {
      out.errors.push_back(json.takeError());
      continue;
    }
    all.push_back(std::move(*json));
  }
  if (!tmpl) {
    out.text = all.dump(4) + "\n";
  }
  for (size_t i = 0; tmpl && i < all.size(); ++i) {
    auto line = tmpl->execute(all[i]);
    if (!line) {
      out.errors.push_back(with_context(line.takeError(), "template parsing error"));
      continue;
    }
    out.text += *line + "\n";
  }
  return out;
}

}  // namespace kiln::containers
