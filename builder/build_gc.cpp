// build(): one build under the store's shared lease (so that no collection
// removes what it uses), its retry after evicting unused cache when a step
// runs out of space, and the automatic collection after it (cache/gc_config.h).
#include <llvm/ADT/StringExtras.h>

#include "builder/build_attempt.h"
#include "cache/gc_config.h"
#include "cache/gc_lock.h"
#include "support/error.h"
#include "support/fs.h"
#include "support/trace.h"

namespace kiln::builder {
namespace {

/// Everything unused goes, least recently used first, whatever the policies
/// say; what this process's build has made so far stays (chains_in_use()).
llvm::Expected<cache::GcReport> evict_unused(const std::string& root) {
  auto lease = cache::StoreLease::acquire_exclusive(root);
  if (!lease) {
    return lease.takeError();
  }
  auto images = cache::ImageStore::open(root);
  if (!images) {
    return images.takeError();
  }
  cache::GcPolicy policy;
  policy.all = true;
  return cache::collect_garbage(**images, policy);
}

/// The automatic collection after a build (throttled: cheap when nothing is due).
/// While other builds run, a collection would wait for them all: it is left to
/// the last build to end, unless the store is above its hard cap.
void collect_after_build(const std::string& root, BuildEvents& events) {
  auto images = cache::ImageStore::open(root);
  if (!images) {
    events.warning("garbage collection: " + error_message(images.takeError()));
    return;
  }
  auto free = cache::StoreLease::try_exclusive(root);
  if (!free) {
    events.warning("garbage collection: " + error_message(free.takeError()));
    return;
  }
  std::optional<cache::StoreLease> lease = std::move(*free);
  if (!lease) {
    auto over = cache::over_hard_cap(**images);
    if (!over || !*over) {
      llvm::consumeError(over ? llvm::Error::success() : over.takeError());
      return;
    }
    auto wait = cache::StoreLease::acquire_exclusive(root);
    if (!wait) {
      events.warning("garbage collection: " + error_message(wait.takeError()));
      return;
    }
    lease.emplace(std::move(*wait));
  }
  auto report = cache::run_auto_gc(**images);
  if (!report) {
    events.warning("garbage collection: " + error_message(report.takeError()));
    return;
  }
  if (report->over_cap) {
    events.warning("the store at " + quote(root) + " uses " +
                   std::to_string(report->report.total_after) + " bytes, above its maxUsedSpace (" +
                   std::to_string(report->hard_cap) +
                   " bytes): images, containers and running builds use the rest");
  }
}

}  // namespace

bool mentions_enospc(const std::string& message, const std::vector<std::string>& lines) {
  auto says = [](llvm::StringRef text) {
    return text.contains_insensitive("no space left on device");
  };
  return says(message) || std::any_of(lines.begin(), lines.end(), says);
}

llvm::Expected<std::vector<BuildResult>> build_many(const std::vector<BuildRequest>& requests,
                                                    BuildEvents& events) {
  if (requests.empty()) {
    return std::vector<BuildResult>{};
  }
  const std::string& root = requests.front().root;
  if (auto err = fs::make_dirs(root, 0700)) {
    return err;
  }
  std::optional<llvm::Expected<std::vector<BuildResult>>> result;
  {
    auto lease = cache::StoreLease::acquire_shared(root);
    if (!lease) {
      return lease.takeError();
    }
    trace("store lease taken");
    BuildAttempt attempt;
    attempt.last_try = false;
    result.emplace(build_many_in_store(requests, events, attempt));
    if (!*result && attempt.out_of_space) {
      llvm::consumeError(result->takeError());
      lease->release();
      auto evicted = evict_unused(root);
      if (!evicted) {
        cache::forget_chains_in_use();
        return evicted.takeError();
      }
      events.warning("a step ran out of space in the store at " + quote(root) + ": evicted " +
                     std::to_string(evicted->removed.size()) + " unused build cache records (" +
                     std::to_string(evicted->reclaimed()) + " bytes) and ran the build again");
      auto again = cache::StoreLease::acquire_shared(root);
      if (!again) {
        cache::forget_chains_in_use();
        return again.takeError();
      }
      *lease = std::move(*again);
      attempt = BuildAttempt{};
      result.emplace(build_many_in_store(requests, events, attempt));
    }
    cache::forget_chains_in_use();
  }
  if (*result) {
    collect_after_build(root, events);
  }
  return std::move(*result);
}

llvm::Expected<BuildResult> build(const BuildRequest& request, BuildEvents& events) {
  auto built = build_many({request}, events);
  if (!built) {
    return built.takeError();
  }
  return built->front();
}

}  // namespace kiln::builder
