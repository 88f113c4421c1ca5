#include "containers/container_filter.h"

#include <algorithm>

#include "support/error.h"

namespace kiln::containers {
namespace {

bool any_of(const std::vector<std::string>& values,
            const std::function<bool(llvm::StringRef)>& match) {
  return std::any_of(values.begin(), values.end(), [&](const std::string& v) { return match(v); });
}

// docker normalizes "busybox" to "busybox:latest" when it compares image names.
std::string with_tag(llvm::StringRef image) {
  llvm::StringRef last = image.rsplit('/').second.empty() ? image : image.rsplit('/').second;
  return last.contains(':') || image.contains('@') ? image.str() : image.str() + ":latest";
}

}  // namespace

llvm::Expected<ContainerFilter> parse_container_filters(const std::vector<std::string>& filters) {
  static const char* const kKeys[] = {"name", "id", "status", "label", "ancestor", "network"};
  ContainerFilter out;
  for (llvm::StringRef text : filters) {
    auto [key, value] = text.split('=');
    if (!text.contains('=')) {
      return llvm::make_error<UsageError>("bad format of filter (expected name=value)");
    }
    if (std::find(std::begin(kKeys), std::end(kKeys), key) == std::end(kKeys)) {
      return llvm::make_error<UsageError>("invalid filter '" + key.str() + "'");
    }
    if (key == "status") {
      static const char* const kStates[] = {"created", "restarting", "running", "removing",
                                            "paused",  "exited",     "dead"};
      if (std::find(std::begin(kStates), std::end(kStates), value) == std::end(kStates)) {
        return llvm::make_error<UsageError>(
            "invalid filter 'status=" + value.str() +
            "' (expected created, restarting, running, removing, paused, exited or dead)");
      }
    }
    out.values[key.str()].push_back(value.str());
  }
  return out;
}

bool filter_matches(const ContainerFilter& filter, const ContainerSpec& spec,
                    const ContainerState& state) {
  for (const auto& [key, values] : filter.values) {
    bool ok = false;
    if (key == "name") {
      ok =
          any_of(values, [&](llvm::StringRef v) { return llvm::StringRef(spec.name).contains(v); });
    } else if (key == "id") {
      ok =
          any_of(values, [&](llvm::StringRef v) { return llvm::StringRef(spec.id).startswith(v); });
    } else if (key == "status") {
      ok = any_of(values, [&](llvm::StringRef v) { return v == state_name(state); });
    } else if (key == "label") {
      ok = any_of(values, [&](llvm::StringRef v) {
        auto [k, wanted] = v.split('=');
        auto it = spec.labels.find(k.str());
        return it != spec.labels.end() && (!v.contains('=') || it->second == wanted);
      });
    } else if (key == "ancestor") {
      ok = any_of(values, [&](llvm::StringRef v) {
        return with_tag(v) == with_tag(spec.image) ||
               (v.size() >= 12 && (llvm::StringRef(spec.image_id).startswith(v) ||
                                   llvm::StringRef(spec.image_id).drop_front(7).startswith(v)));
      });
    } else if (key == "network") {
      ok = any_of(values, [&](llvm::StringRef v) {
        return std::any_of(spec.networks.begin(), spec.networks.end(),
                           [&](const NetworkAttachment& n) { return n.name == v; }) ||
               spec.network_mode == v;
      });
    }
    if (!ok) {
      return false;
    }
  }
  return true;
}

}  // namespace kiln::containers
