// `kiln compose build`, `pull` and `push`, and the image step of up and run.
#include <iostream>
#include <set>

#include "cli/build_solve.h"
#include "cli/cmd_compose.h"
#include "compose/build.h"
#include "support/error.h"

namespace kiln::cli {

namespace {

// The services' solves print plain progress on stderr, as `kiln build` does.
compose::BuildEventsFactory build_events() {
  return [] { return printed_build_events("plain"); };
}

}  // namespace

compose::BuildFn make_image_preparer(const GlobalOptions& globals, compose::Engine& engine,
                                     compose::ComposeEvents& events, bool no_cache, bool pull) {
  return [&globals, &engine, &events, no_cache, pull](
             const std::vector<compose::ServiceConfig>& services,
             bool missing_only) -> llvm::Error {
    auto jobs = compose::build_jobs(engine, services, missing_only);
    if (!jobs) {
      return jobs.takeError();
    }
    // Images nobody builds are pulled when missing, as docker compose does.
    std::set<std::string> pulled;
    for (const auto& s : services) {
      if (s.build || pulled.count(s.image)) {
        continue;
      }
      auto id = engine.image_id(s.image);
      if (!id) {
        return id.takeError();
      }
      if (id->empty()) {
        pulled.insert(s.image);
        auto code = run_kiln(globals, {"pull", "-q", s.image});
        if (!code) {
          return code.takeError();
        }
        if (*code != 0) {
          return make_error("pull " + quote(s.image) + " for service " + quote(s.name) + " failed");
        }
        events.status("Image", s.image, "Pulled");
      }
    }
    if (jobs->empty()) {
      return llvm::Error::success();
    }
    return compose::build_services(globals.root, *jobs, {no_cache, pull}, build_events(), events);
  };
}

namespace {

CommandBody setup_build(CLI::App& sub, const GlobalOptions& globals,
                        const std::shared_ptr<ComposeFlags>& flags) {
  auto services = std::make_shared<std::vector<std::string>>();
  auto no_cache = std::make_shared<bool>(false);
  auto pull = std::make_shared<bool>(false);
  sub.add_flag("--no-cache", *no_cache, "Do not use cache when building the image");
  sub.add_flag("--pull", *pull, "Always attempt to pull a newer version of the image");
  sub.add_option("services", *services, "SERVICE...");
  return [=, &globals]() -> llvm::Expected<int> {
    auto session = open_compose(globals, *flags);
    if (!session) {
      return session.takeError();
    }
    auto& [project, engine] = *session;
    auto all = compose::project_services(project);
    if (!all) {
      return all.takeError();
    }
    std::vector<compose::ServiceConfig> chosen;
    for (const auto& s : *all) {
      if (services->empty() ||
          std::find(services->begin(), services->end(), s.name) != services->end()) {
        chosen.push_back(s);
      }
    }
    PrintedComposeEvents events;
    auto jobs = compose::build_jobs(*engine, chosen, false);
    if (!jobs) {
      return jobs.takeError();
    }
    if (auto err = compose::build_services(globals.root, *jobs, {*no_cache, *pull}, build_events(),
                                           events)) {
      return std::move(err);
    }
    return 0;
  };
}

// pull and push: `kiln pull`/`kiln push` of each service's image.
CommandBody setup_transfer(CLI::App& sub, const GlobalOptions& globals,
                           const std::shared_ptr<ComposeFlags>& flags, bool push) {
  auto services = std::make_shared<std::vector<std::string>>();
  auto quiet = std::make_shared<bool>(false);
  auto ignore = std::make_shared<bool>(false);
  sub.add_flag("-q,--quiet", *quiet, "Pull without printing progress information");
  sub.add_flag(push ? "--ignore-push-failures" : "--ignore-pull-failures", *ignore,
               "Push what it can and ignore images with failures");
  sub.add_option("services", *services, "SERVICE...");
  return [=, &globals]() -> llvm::Expected<int> {
    auto project = load_compose_project(*flags);
    if (!project) {
      return project.takeError();
    }
    auto all = compose::project_services(*project);
    if (!all) {
      return all.takeError();
    }
    PrintedComposeEvents events;
    int result = 0;
    for (const auto& s : *all) {
      if (!services->empty() &&
          std::find(services->begin(), services->end(), s.name) == services->end()) {
        continue;
      }
      // docker compose pulls only images nobody builds, and pushes only named ones.
      if ((!push && s.build) || (push && !s.named_image)) {
        continue;
      }
      std::vector<std::string> args = {push ? "push" : "pull"};
      if (*quiet) {
        args.push_back("-q");
      }
      args.push_back(s.image);
      auto code = run_kiln(globals, args);
      if (!code) {
        return code.takeError();
      }
      events.status("Image", s.image, *code == 0 ? (push ? "Pushed" : "Pulled") : "Error");
      if (*code != 0 && !*ignore) {
        result = *code;
      }
    }
    return result;
  };
}

ComposeCommandRegistration build_reg{{"build", "Build or rebuild services", setup_build}};
ComposeCommandRegistration pull_reg{
    {"pull", "Pull service images",
     [](CLI::App& sub, const GlobalOptions& g, const std::shared_ptr<ComposeFlags>& f) {
       return setup_transfer(sub, g, f, false);
     }}};
ComposeCommandRegistration push_reg{
    {"push", "Push service images",
     [](CLI::App& sub, const GlobalOptions& g, const std::shared_ptr<ComposeFlags>& f) {
       return setup_transfer(sub, g, f, true);
     }}};

}  // namespace
}  // namespace kiln::cli
