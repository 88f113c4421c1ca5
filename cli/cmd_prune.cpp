// The prunes, as docker prints them: `kiln builder prune`, `kiln image prune`,
// `kiln container prune` and `kiln system prune`; each ends with "Total
// reclaimed space: X", the store measured before and after.
#include <iostream>

#include "cli/cmd_system.h"
#include "cli/command.h"
#include "cli/store_open.h"
#include "containers/system_prune.h"

namespace kiln::cli {

bool confirm(const std::string& warning) {
  std::cerr << warning << "Are you sure you want to continue? [y/N] " << std::flush;
  std::string answer;
  std::getline(std::cin, answer);
  llvm::StringRef a = llvm::StringRef(answer).trim();
  return a.equals_insensitive("y") || a.equals_insensitive("yes");
}

namespace {

llvm::Expected<int> run_builder_prune(const GlobalOptions& globals,
                                      const containers::BuilderPruneFlags& f, bool force) {
  auto policy = containers::builder_prune_policy(globals.root, f);
  if (!policy) {
    return policy.takeError();
  }
  if (!force && !confirm(containers::prune_warning(containers::PruneTarget::build_cache, f.all))) {
    return 0;
  }
  auto report = containers::prune_build_cache(globals.root, *policy);
  if (!report) {
    return report.takeError();
  }
  std::cout << containers::prune_report_text(*report);
  return 0;
}

struct PruneFlags {
  bool all = false;
  bool force = false;
  bool volumes = false;  // system prune
  std::vector<std::string> filters;
};

llvm::Expected<int> run_image_prune(const GlobalOptions& globals, const PruneFlags& f) {
  auto options = containers::image_prune_options(f.all, f.filters);
  if (!options) {
    return options.takeError();
  }
  if (!f.force && !confirm(containers::prune_warning(containers::PruneTarget::images, f.all))) {
    return 0;
  }
  auto report = containers::prune_images(globals.root, *options);
  if (!report) {
    return report.takeError();
  }
  std::cout << containers::prune_report_text(*report);
  return 0;
}

llvm::Expected<int> run_container_prune(const GlobalOptions& globals, const PruneFlags& f) {
  auto until = containers::container_prune_until(f.filters);
  if (!until) {
    return until.takeError();
  }
  if (!f.force && !confirm(containers::prune_warning(containers::PruneTarget::containers, f.all))) {
    return 0;
  }
  auto report = containers::prune_containers(globals.root, *until);
  if (!report) {
    return report.takeError();
  }
  std::cout << containers::prune_report_text(*report);
  return 0;
}

CommandBody setup_builder(CLI::App& sub, const GlobalOptions& globals) {
  sub.require_subcommand(1);
  auto f = std::make_shared<containers::BuilderPruneFlags>();
  auto force = std::make_shared<bool>(false);
  CLI::App* prune = sub.add_subcommand("prune", "Remove build cache");
  prune->add_flag("-a,--all", f->all, "Remove all unused build cache, not just dangling ones");
  prune->add_flag("-f,--force", *force, "Do not prompt for confirmation");
  prune->add_option("--filter", f->filters, "Provide filter values (e.g. \"until=24h\")");
  prune->add_option("--max-used-space", f->max_used, "Maximum amount of disk space allowed");
  prune->add_option("--keep-storage", f->keep_storage, "Alias of --max-used-space");
  prune->add_option("--reserved-space", f->reserved, "Amount of disk space always allowed");
  prune->add_option("--min-free-space", f->min_free, "Target amount of free disk space");
  return [&globals, f, force]() { return run_builder_prune(globals, *f, *force); };
}

CommandBody setup_image(CLI::App& sub, const GlobalOptions& globals) {
  sub.require_subcommand(1);
  auto f = std::make_shared<PruneFlags>();
  CLI::App* prune = sub.add_subcommand("prune", "Remove unused images");
  prune->add_flag("-a,--all", f->all, "Remove all unused images, not just dangling ones");
  prune->add_flag("-f,--force", f->force, "Do not prompt for confirmation");
  prune->add_option("--filter", f->filters, "Provide filter values (e.g. \"until=<timestamp>\")");
  return [&globals, f]() { return run_image_prune(globals, *f); };
}

CommandBody setup_container(CLI::App& sub, const GlobalOptions& globals) {
  sub.require_subcommand(1);
  auto f = std::make_shared<PruneFlags>();
  CLI::App* prune = sub.add_subcommand("prune", "Remove all stopped containers");
  prune->add_flag("-f,--force", f->force, "Do not prompt for confirmation");
  prune->add_option("--filter", f->filters, "Provide filter values (e.g. \"until=24h\")");
  return [&globals, f]() { return run_container_prune(globals, *f); };
}

CommandRegistration builder_reg{{"builder", "Manage builds (prune)", setup_builder, 81}};
CommandRegistration image_reg{{"image", "Manage images (prune)", setup_image, 82}};
CommandRegistration container_reg{{"container", "Manage containers (prune)", setup_container, 83}};

llvm::Expected<int> run_system_prune(const GlobalOptions& globals, const PruneFlags& f) {
  if (!f.force &&
      !confirm(containers::prune_warning(containers::PruneTarget::system, f.all, f.volumes))) {
    return 0;
  }
  auto report = containers::prune_system(globals.root, f.all, f.volumes);
  if (!report) {
    return report.takeError();
  }
  std::cout << containers::prune_report_text(*report);
  return 0;
}

}  // namespace

ChosenBody setup_system_prune(CLI::App& system, const GlobalOptions& globals) {
  auto f = std::make_shared<PruneFlags>();
  CLI::App* prune = system.add_subcommand("prune", "Remove unused data");
  prune->add_flag("-a,--all", f->all, "Remove all unused images not just dangling ones");
  prune->add_flag("-f,--force", f->force, "Do not prompt for confirmation");
  prune->add_flag("--volumes", f->volumes, "Prune anonymous volumes");
  return [&globals, f, prune]() -> CommandBody {
    if (!prune->parsed()) {
      return {};
    }
    return [&globals, f]() { return run_system_prune(globals, *f); };
  };
}

}  // namespace kiln::cli
