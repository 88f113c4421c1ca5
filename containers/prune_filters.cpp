// The prunes' flags and filters (containers/system_prune.h), parsed as docker does.
#include "cache/gc_config.h"
#include "containers/system_prune.h"
#include "support/error.h"
#include "support/fs.h"

namespace kiln::containers {

llvm::Expected<cache::GcPolicy> builder_prune_policy(llvm::StringRef root,
                                                     const BuilderPruneFlags& flags) {
  cache::GcPolicy policy;
  policy.all = flags.all;
  for (const auto& text : flags.filters) {
    if (auto err = cache::add_gc_filter(text, policy.filters)) {
      return llvm::make_error<UsageError>(error_message(std::move(err)));
    }
  }
  if (auto err = fs::make_dirs(root, 0700)) {
    return err;
  }
  auto space = cache::fs_space(root);
  if (!space) {
    return space.takeError();
  }
  const std::string& max_used = flags.max_used.empty() ? flags.keep_storage : flags.max_used;
  for (auto [text, field, flag] :
       {std::tuple{&max_used, &policy.max_used_space, "--max-used-space"},
        std::tuple{&flags.reserved, &policy.reserved_space, "--reserved-space"},
        std::tuple{&flags.min_free, &policy.min_free_space, "--min-free-space"}}) {
    if (text->empty()) {
      continue;
    }
    auto v = cache::parse_space(*text, space->second);
    if (!v) {
      return llvm::make_error<UsageError>(std::string(flag) + ": " + error_message(v.takeError()));
    }
    *field = *v;
  }
  return policy;
}

llvm::Expected<cache::ImagePruneOptions> image_prune_options(
    bool all, const std::vector<std::string>& filters) {
  cache::ImagePruneOptions options;
  options.all = all;
  for (const auto& text : filters) {
    auto [key, value] = llvm::StringRef(text).split('=');
    bool negate = key.consume_back("!");
    if (key == "until" && !negate) {
      auto d = cache::parse_duration(value);
      if (!d) {
        return llvm::make_error<UsageError>(error_message(d.takeError()));
      }
      options.until = *d;
    } else if (key == "label") {
      auto [k, v] = value.split('=');
      cache::ImagePruneOptions::Label label{k.str(), std::nullopt, negate};
      if (value.contains('=')) {
        label.value = v.str();
      }
      options.labels.push_back(label);
    } else {
      return llvm::make_error<UsageError>("invalid filter " + quote(key) +
                                          " (choose from until, label, label!)");
    }
  }
  return options;
}

llvm::Expected<std::optional<int64_t>> container_prune_until(
    const std::vector<std::string>& filters) {
  std::optional<int64_t> until;
  for (const auto& text : filters) {
    auto [key, value] = llvm::StringRef(text).split('=');
    if (key != "until") {
      return llvm::make_error<UsageError>("invalid filter " + quote(key) + " (choose from until)");
    }
    auto d = cache::parse_duration(value);
    if (!d) {
      return llvm::make_error<UsageError>(error_message(d.takeError()));
    }
    until = *d;
  }
  return until;
}

}  // namespace kiln::containers
