// `kiln compose build`, `pull` and `push`, and the image step of up and run.
#include "cli/build_solve.h"
#include "cli/cmd_compose.h"
#include "compose/images.h"

namespace kiln::cli {
namespace {

// The services' solves print plain progress on stderr, as `kiln build` does.
compose::BuildEventsFactory build_events() {
  return [] { return printed_build_events("plain"); };
}

}  // namespace

compose::BuildFn make_image_preparer(compose::Session& session, compose::ComposeEvents& events,
                                     bool no_cache, bool pull) {
  return compose::image_preparer(session, {no_cache, pull}, build_events(), events);
}

namespace {

CommandBody setup_build(CLI::App& sub, const GlobalOptions& globals,
                        const std::shared_ptr<ComposeFlags>& flags) {
  auto services = std::make_shared<std::vector<std::string>>();
  auto build = std::make_shared<compose::BuildFlags>();
  sub.add_flag("--no-cache", build->no_cache, "Do not use cache when building the image");
  sub.add_flag("--pull", build->pull, "Always attempt to pull a newer version of the image");
  sub.add_option("services", *services, "SERVICE...");
  return [=, &globals]() {
    return with_session(globals, *flags, [&](compose::Session& session) {
      PrintedComposeEvents events;
      return exit_code(compose::build_images(session, *services, *build, build_events(), events));
    });
  };
}

// pull and push: `kiln pull`/`kiln push` of each service's image.
CommandBody setup_transfer(CLI::App& sub, const GlobalOptions& globals,
                           const std::shared_ptr<ComposeFlags>& flags, compose::Transfer way) {
  bool push = way == compose::Transfer::push;
  auto services = std::make_shared<std::vector<std::string>>();
  auto o = std::make_shared<compose::TransferOptions>();
  sub.add_flag("-q,--quiet", o->quiet, "Pull without printing progress information");
  sub.add_flag(push ? "--ignore-push-failures" : "--ignore-pull-failures", o->ignore_failures,
               "Push what it can and ignore images with failures");
  sub.add_option("services", *services, "SERVICE...");
  return [=, &globals]() -> llvm::Expected<int> {
    auto project = load_compose_project(*flags);
    if (!project) {
      return project.takeError();
    }
    PrintedComposeEvents events;
    return compose::transfer_images(globals.root, *project, way, *services, *o, events);
  };
}

ComposeSetup transfer_setup(compose::Transfer way) {
  return [way](CLI::App& sub, const GlobalOptions& g, const std::shared_ptr<ComposeFlags>& f) {
    return setup_transfer(sub, g, f, way);
  };
}

ComposeCommandRegistration build_reg{{"build", "Build or rebuild services", setup_build}};
ComposeCommandRegistration pull_reg{
    {"pull", "Pull service images", transfer_setup(compose::Transfer::pull)}};
ComposeCommandRegistration push_reg{
    {"push", "Push service images", transfer_setup(compose::Transfer::push)}};

}  // namespace
}  // namespace kiln::cli
