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

struct BuildFlags {
  std::vector<std::string> services;
  compose::BuildFlags build;
};

ComposeCommand<BuildFlags> build_reg{
    "build", "Build or rebuild services",
    [](CLI::App& sub, BuildFlags& f) {
      sub.add_flag("--no-cache", f.build.no_cache, "Do not use cache when building the image");
      sub.add_flag("--pull", f.build.pull, "Always attempt to pull a newer version of the image");
      add_services(sub, f.services);
    },
    [](BuildFlags& f, const ComposeContext& ctx) {
      return ctx.run([&](compose::Session& session) {
        PrintedComposeEvents events;
        return exit_code(
            compose::build_images(session, f.services, f.build, build_events(), events));
      });
    }};

struct TransferFlags {
  std::vector<std::string> services;
  compose::TransferOptions options;
};

// pull and push: `kiln pull`/`kiln push` of each service's image.
ComposeCommand<TransferFlags> transfer(compose::Transfer way) {
  bool push = way == compose::Transfer::push;
  return {
      push ? "push" : "pull", push ? "Push service images" : "Pull service images",
      [push](CLI::App& sub, TransferFlags& f) {
        sub.add_flag("-q,--quiet", f.options.quiet, "Pull without printing progress information");
        sub.add_flag(push ? "--ignore-push-failures" : "--ignore-pull-failures",
                     f.options.ignore_failures, "Push what it can and ignore images with failures");
        add_services(sub, f.services);
      },
      [way](TransferFlags& f, const ComposeContext& ctx) -> llvm::Expected<int> {
        KILN_TRY(auto project, ctx.load());
        PrintedComposeEvents events;
        return compose::transfer_images(ctx.globals.root, project, way, f.services, f.options,
                                        events);
      }};
}

auto pull_reg = transfer(compose::Transfer::pull);
auto push_reg = transfer(compose::Transfer::push);

}  // namespace
}  // namespace kiln::cli
