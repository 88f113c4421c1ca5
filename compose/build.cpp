#include "compose/build.h"

#include "builder/build.h"
#include "frontend/dockerignore.h"
#include "frontend/instructions.h"
#include "support/error.h"
#include "support/fs.h"

namespace kiln::compose {
namespace {

/// The request for `job`; `dockerfile` is its parsed Dockerfile (borrowed).
llvm::Expected<builder::BuildRequest> build_request(const std::string& root, const BuildJob& job,
                                                    const BuildFlags& flags,
                                                    const frontend::Dockerfile& dockerfile) {
  builder::BuildRequest request;
  request.name = job.service;
  request.root = root;
  request.dockerfile = &dockerfile;
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
  return request;
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

std::vector<std::vector<size_t>> solve_groups(const std::vector<builder::BuildRequest>& requests) {
  std::vector<std::vector<size_t>> groups;
  for (size_t i = 0; i < requests.size(); ++i) {
    bool placed = false;
    for (auto& g : groups) {
      if (builder::can_share_solve(requests[g.front()], requests[i])) {
        g.push_back(i);
        placed = true;
        break;
      }
    }
    if (!placed) {
      groups.push_back({i});
    }
  }
  return groups;
}

llvm::Error build_services(const std::string& root, const std::vector<BuildJob>& jobs,
                           const BuildFlags& flags, const BuildEventsFactory& make_events,
                           ComposeEvents& events) {
  std::vector<frontend::Dockerfile> dockerfiles;
  dockerfiles.reserve(jobs.size());
  for (const auto& job : jobs) {
    auto text = fs::read_file(job.spec.dockerfile);
    if (!text) {
      return with_context(text.takeError(), "service " + quote(job.service));
    }
    std::string name = llvm::StringRef(job.spec.dockerfile).rsplit('/').second.str();
    auto dockerfile = frontend::parse_dockerfile(*text, name);
    if (!dockerfile) {
      return with_context(dockerfile.takeError(), "service " + quote(job.service));
    }
    dockerfiles.push_back(std::move(*dockerfile));
  }
  std::vector<builder::BuildRequest> requests;
  for (size_t i = 0; i < jobs.size(); ++i) {
    auto request = build_request(root, jobs[i], flags, dockerfiles[i]);
    if (!request) {
      return with_context(request.takeError(), "service " + quote(jobs[i].service));
    }
    requests.push_back(std::move(*request));
  }
  for (const auto& group : solve_groups(requests)) {
    std::vector<builder::BuildRequest> these;
    for (size_t i : group) {
      these.push_back(requests[i]);
    }
    auto build_events = make_events();
    auto built = builder::build_many(these, *build_events);
    build_events.reset();  // prints what it kept back
    if (!built) {
      return built.takeError();
    }
    for (size_t i : group) {
      events.status("Service", jobs[i].service, "Built");
    }
  }
  return llvm::Error::success();
}

}  // namespace kiln::compose
