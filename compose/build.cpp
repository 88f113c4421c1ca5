#include "compose/build.h"

#include <thread>

#include "builder/build.h"
#include "frontend/dockerignore.h"
#include "frontend/instructions.h"
#include "support/error.h"
#include "support/fs.h"

namespace kiln::compose {
llvm::Error build_image(const std::string& root, const BuildJob& job, const BuildFlags& flags,
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

std::vector<std::string> build_arguments(const BuildJob& job, const BuildFlags& flags) {
  std::vector<std::string> args = {"-t", job.image, "-f", job.spec.dockerfile};
  if (!job.spec.target.empty()) {
    args.insert(args.end(), {"--target", job.spec.target});
  }
  for (const auto& [k, v] : job.spec.args) {
    args.insert(args.end(), {"--build-arg", k + "=" + v});
  }
  for (const auto& [k, v] : job.spec.labels) {
    args.insert(args.end(), {"--label", k + "=" + v});
  }
  for (const auto& c : job.spec.cache_from) {
    args.insert(args.end(), {"--cache-from", c});
  }
  for (const auto& c : job.spec.cache_to) {
    args.insert(args.end(), {"--cache-to", c});
  }
  if (flags.no_cache || job.spec.no_cache) {
    args.push_back("--no-cache");
  }
  if (flags.pull || job.spec.pull) {
    args.push_back("--pull");
  }
  args.push_back(job.spec.context);
  return args;
}

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

llvm::Error build_services(const std::vector<BuildJob>& jobs, const BuildFlags& flags,
                           const BuildRunner& run, ComposeEvents& events) {
  std::vector<llvm::Error> errors;
  for (size_t i = 0; i < jobs.size(); ++i) {
    errors.push_back(llvm::Error::success());
  }
  std::vector<std::thread> threads;
  for (size_t i = 0; i < jobs.size(); ++i) {
    threads.emplace_back([&, i] { errors[i] = run(jobs[i], flags); });
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
