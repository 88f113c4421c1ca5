// `kiln compose build`, `pull` and `push`, and the image step of up and run.
#include "cli/cmd_compose.h"
#include "cli/progress.h"
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

CommandBody setup_build(CLI::App& sub, const ComposeContext& ctx) {
  auto services = std::make_shared<std::vector<std::string>>();
  auto build = std::make_shared<compose::BuildFlags>();
  sub.add_flag("--no-cache", build->no_cache, "Do not use cache when building the image");
  sub.add_flag("--pull", build->pull, "Always attempt to pull a newer version of the image");
  sub.add_option("services", *services, "SERVICE...");
  return [=]() {
    return ctx.run([&](compose::Session& session) {
      PrintedComposeEvents events;
      return exit_code(compose::build_images(session, *services, *build, build_events(), events));
    });
  };
}

// pull and push: `kiln pull`/`kiln push` of each service's image.
ComposeSetup transfer(compose::Transfer way) {
  return [way](CLI::App& sub, const ComposeContext& ctx) -> CommandBody {
    bool push = way == compose::Transfer::push;
    auto services = std::make_shared<std::vector<std::string>>();
    auto o = std::make_shared<compose::TransferOptions>();
    sub.add_flag("-q,--quiet", o->quiet, "Pull without printing progress information");
    sub.add_flag(push ? "--ignore-push-failures" : "--ignore-pull-failures", o->ignore_failures,
                 "Push what it can and ignore images with failures");
    sub.add_option("services", *services, "SERVICE...");
    return [=]() -> llvm::Expected<int> {
      auto project = ctx.load();
      if (!project) {
        return project.takeError();
      }
      PrintedComposeEvents events;
      return compose::transfer_images(ctx.globals.root, *project, way, *services, *o, events);
    };
  };
}

ComposeVerb build_verb{"build", "Build or rebuild services", setup_build};
ComposeVerb pull_verb{"pull", "Pull service images", transfer(compose::Transfer::pull)};
ComposeVerb push_verb{"push", "Push service images", transfer(compose::Transfer::push)};

}  // namespace
}  // namespace kiln::cli
