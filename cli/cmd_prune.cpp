// The prunes, as docker prints them: `kiln builder prune`, `kiln image prune`,
// `kiln container prune` and `kiln system prune`; each ends with "Total
// reclaimed space: X", the store measured before and after.
#include <iostream>

#include "cli/cmd_system.h"
#include "cli/command.h"
#include "cli/store_open.h"
#include "containers/system_prune.h"
#include "support/units.h"

namespace kiln::cli {

bool confirm(const std::string& warning) {
  std::cerr << warning << "Are you sure you want to continue? [y/N] " << std::flush;
  std::string answer;
  std::getline(std::cin, answer);
  llvm::StringRef a = llvm::StringRef(answer).trim();
  return a.equals_insensitive("y") || a.equals_insensitive("yes");
}

namespace {

void print_total(int64_t reclaimed) {
  std::cout << "Total reclaimed space: " << human_size(std::max<int64_t>(0, reclaimed), 4) << "\n";
}

// One of docker's "Deleted ...:" sections (nothing when `lines` is empty).
void print_section(const char* title, const std::vector<std::string>& lines) {
  if (lines.empty()) {
    return;
  }
  std::cout << title << "\n";
  for (const auto& line : lines) {
    std::cout << line << "\n";
  }
  std::cout << "\n";
}

void print_images(const cache::ImagePruneReport& report) {
  std::vector<std::string> lines;
  for (const auto& name : report.untagged) {
    lines.push_back("untagged: " + familiar_name(name));
  }
  for (const auto& id : report.deleted) {
    lines.push_back("deleted: " + id.str());
  }
  print_section("Deleted Images:", lines);
}

llvm::Expected<int> run_builder_prune(const GlobalOptions& globals,
                                      const containers::BuilderPruneFlags& f, bool force) {
  auto policy = containers::builder_prune_policy(globals.root, f);
  if (!policy) {
    return policy.takeError();
  }
  if (!force && !confirm(f.all ? "WARNING! This will remove all build cache. "
                               : "WARNING! This will remove all dangling build cache. ")) {
    return 0;
  }
  auto report = containers::prune_build_cache(globals.root, *policy);
  if (!report) {
    return report.takeError();
  }
  print_section("Deleted build cache objects:", report->removed);
  print_total(report->reclaimed());
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
  if (!f.force &&
      !confirm(f.all ? "WARNING! This will remove all images without at least one container "
                       "associated to them.\n"
                     : "WARNING! This will remove all dangling images.\n")) {
    return 0;
  }
  auto report = containers::prune_images(globals.root, *options);
  if (!report) {
    return report.takeError();
  }
  print_images(*report);
  print_total(report->reclaimed);
  return 0;
}

llvm::Expected<int> run_container_prune(const GlobalOptions& globals, const PruneFlags& f) {
  auto until = containers::container_prune_until(f.filters);
  if (!until) {
    return until.takeError();
  }
  if (!f.force && !confirm("WARNING! This will remove all stopped containers.\n")) {
    return 0;
  }
  auto report = containers::prune_containers(globals.root, *until);
  if (!report) {
    return report.takeError();
  }
  print_section("Deleted Containers:", report->deleted);
  print_total(report->reclaimed);
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
  std::string warning = "WARNING! This will remove:\n  - all stopped containers\n";
  if (f.volumes) {
    warning += "  - all anonymous volumes not used by at least one container\n";
  }
  warning += f.all ? "  - all images without at least one container associated to them\n"
                     "  - all build cache\n"
                   : "  - all dangling images\n  - unused build cache\n";
  if (!f.force && !confirm(warning + "\n")) {
    return 0;
  }
  auto report = containers::prune_system(globals.root, f.all, f.volumes);
  if (!report) {
    return report.takeError();
  }
  print_section("Deleted Containers:", report->containers.deleted);
  print_section("Deleted Volumes:", report->volumes);
  print_images(report->images);
  print_section("Deleted build cache objects:", report->build_cache.removed);
  print_total(report->reclaimed);
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
