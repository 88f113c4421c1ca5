#include "compose/images.h"

#include <algorithm>
#include <set>

#include "support/error.h"

namespace kiln::compose {

llvm::Expected<std::vector<ServiceConfig>> selected_services(
    const Project& project, const std::vector<std::string>& names) {
  auto all = project_services(project);
  if (!all) {
    return all.takeError();
  }
  std::vector<ServiceConfig> chosen;
  for (auto& s : *all) {
    if (names.empty() || std::find(names.begin(), names.end(), s.name) != names.end()) {
      chosen.push_back(std::move(s));
    }
  }
  return chosen;
}

namespace {

// Images nobody builds are pulled when missing, as docker compose does.
llvm::Error pull_missing(Session& session, const std::vector<ServiceConfig>& services,
                         ComposeEvents& events) {
  std::set<std::string> pulled;
  for (const auto& s : services) {
    if (s.build || pulled.count(s.image)) {
      continue;
    }
    auto id = session.engine->image_id(s.image);
    if (!id) {
      return id.takeError();
    }
    if (!id->empty()) {
      continue;
    }
    pulled.insert(s.image);
    auto code = run_kiln(session.root, {"pull", "-q", s.image});
    if (!code) {
      return code.takeError();
    }
    if (*code != 0) {
      return make_error("pull " + quote(s.image) + " for service " + quote(s.name) + " failed");
    }
    events.status("Image", s.image, "Pulled");
  }
  return llvm::Error::success();
}

}  // namespace

BuildFn image_preparer(Session& session, const BuildFlags& flags, BuildEventsFactory make_events,
                       ComposeEvents& events) {
  return [&session, flags, make_events = std::move(make_events), &events](
             const std::vector<ServiceConfig>& services, bool missing_only) -> llvm::Error {
    auto jobs = build_jobs(*session.engine, services, missing_only);
    if (!jobs) {
      return jobs.takeError();
    }
    if (auto err = pull_missing(session, services, events)) {
      return err;
    }
    if (jobs->empty()) {
      return llvm::Error::success();
    }
    return build_services(session.root, *jobs, flags, make_events, events);
  };
}

llvm::Error build_images(Session& session, const std::vector<std::string>& services,
                         const BuildFlags& flags, const BuildEventsFactory& make_events,
                         ComposeEvents& events) {
  auto chosen = selected_services(session.project, services);
  if (!chosen) {
    return chosen.takeError();
  }
  auto jobs = build_jobs(*session.engine, *chosen, false);
  if (!jobs) {
    return jobs.takeError();
  }
  return build_services(session.root, *jobs, flags, make_events, events);
}

llvm::Expected<int> transfer_images(const std::string& root, const Project& project,
                                    Transfer direction, const std::vector<std::string>& services,
                                    const TransferOptions& options, ComposeEvents& events) {
  auto chosen = selected_services(project, services);
  if (!chosen) {
    return chosen.takeError();
  }
  bool push = direction == Transfer::push;
  int result = 0;
  for (const auto& s : *chosen) {
    // docker compose pulls only images nobody builds, and pushes only named ones.
    if ((!push && s.build) || (push && !s.named_image)) {
      continue;
    }
    std::vector<std::string> args = {push ? "push" : "pull"};
    if (options.quiet) {
      args.push_back("-q");
    }
    args.push_back(s.image);
    auto code = run_kiln(root, args);
    if (!code) {
      return code.takeError();
    }
    events.status("Image", s.image, *code == 0 ? (push ? "Pushed" : "Pulled") : "Error");
    if (*code != 0 && !options.ignore_failures) {
      result = *code;
    }
  }
  return result;
}

}  // namespace kiln::compose
