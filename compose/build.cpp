#include "compose/build.h"

#include <thread>

#include "builder/build.h"
#include "frontend/dockerignore.h"
#include "frontend/instructions.h"
#include "support/error.h"
#include "support/fs.h"

namespace kiln::compose {
namespace {

llvm::Error build_one(const std::string& root, const BuildJob& job, const BuildFlags& flags,
                      builder::BuildEvents& events) {
  auto text = fs::read_file(job.spec.dockerfile);
  if (!text) {
    return text.takeError();
  }
  std::string name = llvm::StringRef(job.spec.dockerfile).rsplit('/').second.str();
  auto dockerfile = frontend::parse_dockerfile(*text, name);
  if (!dockerfile) {
    return dockerfile.takeError();
  }
  builder::BuildRequest request;
  request.root = root;
  request.dockerfile = &*dockerfile;
  request.lower.target = job.spec.target;
  request.lower.build_args = job.spec.args;
  auto ignore = frontend::load_dockerignore(job.spec.context, job.spec.dockerfile);
  if (!ignore) {
    return ignore.takeError();
  }
  request.lower.context_excludes = std::move(*ignore);
  builder::BuildOptions& o = request.options;
  o.context = job.spec.context;
  o.dockerfile_path = job.spec.dockerfile;
  o.tags = {job.image};
  for (const auto& [k, v] : job.spec.labels) {
    o.labels.push_back(k + "=" + v);
  }
  o.no_cache = flags.no_cache || job.spec.no_cache;
  o.pull = flags.pull || job.spec.pull;
  o.cache.cache_from = job.spec.cache_from;
  o.cache.cache_to = job.spec.cache_to;
  auto built = builder::build(request, events);
  return built ? llvm::Error::success() : built.takeError();
}

}  // namespace

llvm::Expected<std::vector<BuildJob>> build_jobs(Engine& engine,
                                                 const std::vector<ServiceConfig>& services,
                                                 bool missing_only) {
  std::vector<BuildJob> jobs;
  for (const auto& s : services) {
    if (!s.build) {
      continue;
    }
    if (missing_only) {
      auto id = engine.image_id(s.image);
      if (!id) {
        return id.takeError();
      }
      if (!id->empty()) {
        continue;
      }
    }
    jobs.push_back({s.name, s.image, *s.build});
  }
  return jobs;
}

llvm::Error build_services(const std::string& root, const std::vector<BuildJob>& jobs,
                           const BuildFlags& flags, const BuildEventsFactory& make_events,
                           ComposeEvents& events) {
  std::vector<std::unique_ptr<builder::BuildEvents>> sinks;
  for (const auto& job : jobs) {
    sinks.push_back(make_events(job.service));
  }
  std::vector<llvm::Error> errors;
  for (size_t i = 0; i < jobs.size(); ++i) {
    errors.push_back(llvm::Error::success());
  }
  std::vector<std::thread> threads;
  for (size_t i = 0; i < jobs.size(); ++i) {
    threads.emplace_back([&, i] { errors[i] = build_one(root, jobs[i], flags, *sinks[i]); });
  }
  for (auto& t : threads) {
    t.join();
  }
  llvm::Error first = llvm::Error::success();
  for (size_t i = 0; i < jobs.size(); ++i) {
    if (errors[i]) {
      events.status("Service", jobs[i].service, "Error");
      if (!first) {
        first = with_context(std::move(errors[i]),
                             "service " + quote(jobs[i].service) + " failed to build");
      } else {
        llvm::consumeError(std::move(errors[i]));
      }
    } else {
      events.status("Service", jobs[i].service, "Built");
    }
  }
  return first;
}

}  // namespace kiln::compose
