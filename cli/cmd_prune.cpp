// The prunes, as docker prints them: `kiln builder prune`, `kiln image prune`,
// `kiln container prune` and `kiln system prune`; each ends with "Total
// reclaimed space: X", the store measured before and after.
#include <iostream>
#include <optional>

#include "cache/gc_config.h"
#include "cli/cmd_system.h"
#include "cli/command.h"
#include "cli/store_open.h"
#include "containers/system_prune.h"
#include "support/error.h"
#include "support/fs.h"
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

void print_build_cache(const cache::GcReport& report) {
  if (!report.removed.empty()) {
    std::cout << "Deleted build cache objects:\n";
    for (const auto& id : report.removed) {
      std::cout << id << "\n";
    }
    std::cout << "\n";
  }
}

void print_images(const cache::ImagePruneReport& report) {
  if (report.untagged.empty() && report.deleted.empty()) {
    return;
  }
  std::cout << "Deleted Images:\n";
  for (const auto& name : report.untagged) {
    std::cout << "untagged: " << familiar_name(name) << "\n";
  }
  for (const auto& id : report.deleted) {
    std::cout << "deleted: " << id.str() << "\n";
  }
  std::cout << "\n";
}

void print_containers(const containers::ContainerPruneReport& report) {
  if (report.deleted.empty()) {
    return;
  }
  std::cout << "Deleted Containers:\n";
  for (const auto& id : report.deleted) {
    std::cout << id << "\n";
  }
  std::cout << "\n";
}

struct BuilderPruneFlags {
  bool all = false;
  bool force = false;
  std::vector<std::string> filters;
  std::string max_used, keep_storage, reserved, min_free;
};

llvm::Expected<int> run_builder_prune(const GlobalOptions& globals, const BuilderPruneFlags& f) {
  cache::GcPolicy policy;
  policy.all = f.all;
  for (const auto& text : f.filters) {
    if (auto err = cache::add_gc_filter(text, policy.filters)) {
      return llvm::make_error<UsageError>(error_message(std::move(err)));
    }
  }
  if (auto err = fs::make_dirs(globals.root, 0700)) {
    return err;
  }
  auto space = cache::fs_space(globals.root);
  if (!space) {
    return space.takeError();
  }
  for (auto [text, field, flag] :
       {std::tuple{f.max_used.empty() ? f.keep_storage : f.max_used, &policy.max_used_space,
                   "--max-used-space"},
        std::tuple{f.reserved, &policy.reserved_space, "--reserved-space"},
        std::tuple{f.min_free, &policy.min_free_space, "--min-free-space"}}) {
    if (text.empty()) {
      continue;
    }
    auto v = cache::parse_space(text, space->second);
    if (!v) {
      return llvm::make_error<UsageError>(std::string(flag) + ": " + error_message(v.takeError()));
    }
    *field = *v;
  }
  if (!f.force && !confirm(f.all ? "WARNING! This will remove all build cache. "
                                 : "WARNING! This will remove all dangling build cache. ")) {
    return 0;
  }
  auto report = containers::prune_build_cache(globals.root, policy);
  if (!report) {
    return report.takeError();
  }
  print_build_cache(*report);
  print_total(report->reclaimed());
  return 0;
}

struct ImagePruneFlags {
  bool all = false;
  bool force = false;
  std::vector<std::string> filters;
};

llvm::Expected<int> run_image_prune(const GlobalOptions& globals, const ImagePruneFlags& f) {
  cache::ImagePruneOptions options;
  options.all = f.all;
  for (const auto& text : f.filters) {
    auto [key, value] = llvm::StringRef(text).split('=');
    bool negate = key.consume_back("!");
    if (key == "until" && !negate) {
      auto d = cache::parse_duration(value);
      if (!d) {
        return llvm::make_error<UsageError>(error_message(d.takeError()));
      }
      options.until = *d;
    } else if (key == "label") {
      auto [k, v] = value.split('=');
      cache::ImagePruneOptions::Label label{k.str(), std::nullopt, negate};
      if (value.contains('=')) {
        label.value = v.str();
      }
      options.labels.push_back(label);
    } else {
      return llvm::make_error<UsageError>("invalid filter " + quote(key) +
                                          " (choose from until, label, label!)");
    }
  }
  if (!f.force &&
      !confirm(f.all ? "WARNING! This will remove all images without at least one container "
                       "associated to them.\n"
                     : "WARNING! This will remove all dangling images.\n")) {
    return 0;
  }
  auto report = containers::prune_images(globals.root, options);
  if (!report) {
    return report.takeError();
  }
  print_images(*report);
  print_total(report->reclaimed);
  return 0;
}

struct ContainerPruneFlags {
  bool force = false;
  std::vector<std::string> filters;
};

llvm::Expected<int> run_container_prune(const GlobalOptions& globals,
                                        const ContainerPruneFlags& f) {
  std::optional<int64_t> until;
  for (const auto& text : f.filters) {
    auto [key, value] = llvm::StringRef(text).split('=');
    if (key != "until") {
      return llvm::make_error<UsageError>("invalid filter " + quote(key) + " (choose from until)");
    }
    auto d = cache::parse_duration(value);
    if (!d) {
      return llvm::make_error<UsageError>(error_message(d.takeError()));
    }
    until = *d;
  }
  if (!f.force && !confirm("WARNING! This will remove all stopped containers.\n")) {
    return 0;
  }
  auto report = containers::prune_containers(globals.root, until);
  if (!report) {
    return report.takeError();
  }
  print_containers(*report);
  print_total(report->reclaimed);
  return 0;
}

CommandBody setup_builder(CLI::App& sub, const GlobalOptions& globals) {
  sub.require_subcommand(1);
  auto f = std::make_shared<BuilderPruneFlags>();
  CLI::App* prune = sub.add_subcommand("prune", "Remove build cache");
  prune->add_flag("-a,--all", f->all, "Remove all unused build cache, not just dangling ones");
  prune->add_flag("-f,--force", f->force, "Do not prompt for confirmation");
  prune->add_option("--filter", f->filters, "Provide filter values (e.g. \"until=24h\")");
  prune->add_option("--max-used-space", f->max_used, "Maximum amount of disk space allowed");
  prune->add_option("--keep-storage", f->keep_storage, "Alias of --max-used-space");
  prune->add_option("--reserved-space", f->reserved, "Amount of disk space always allowed");
  prune->add_option("--min-free-space", f->min_free, "Target amount of free disk space");
  return [&globals, f]() { return run_builder_prune(globals, *f); };
}

CommandBody setup_image(CLI::App& sub, const GlobalOptions& globals) {
  sub.require_subcommand(1);
  auto f = std::make_shared<ImagePruneFlags>();
  CLI::App* prune = sub.add_subcommand("prune", "Remove unused images");
  prune->add_flag("-a,--all", f->all, "Remove all unused images, not just dangling ones");
  prune->add_flag("-f,--force", f->force, "Do not prompt for confirmation");
  prune->add_option("--filter", f->filters, "Provide filter values (e.g. \"until=<timestamp>\")");
  return [&globals, f]() { return run_image_prune(globals, *f); };
}

CommandBody setup_container(CLI::App& sub, const GlobalOptions& globals) {
  sub.require_subcommand(1);
  auto f = std::make_shared<ContainerPruneFlags>();
  CLI::App* prune = sub.add_subcommand("prune", "Remove all stopped containers");
  prune->add_flag("-f,--force", f->force, "Do not prompt for confirmation");
  prune->add_option("--filter", f->filters, "Provide filter values (e.g. \"until=24h\")");
  return [&globals, f]() { return run_container_prune(globals, *f); };
}

CommandRegistration builder_reg{{"builder", "Manage builds (prune)", setup_builder, 81}};
CommandRegistration image_reg{{"image", "Manage images (prune)", setup_image, 82}};
CommandRegistration container_reg{{"container", "Manage containers (prune)", setup_container, 83}};

struct SystemPruneFlags {
  bool all = false;
  bool force = false;
  bool volumes = false;
};

llvm::Expected<int> run_system_prune(const GlobalOptions& globals, const SystemPruneFlags& f) {
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
  if (auto err = fs::make_dirs(globals.root, 0700)) {
    return err;
  }
  auto report = containers::prune_system(globals.root, f.all, f.volumes);
  if (!report) {
    return report.takeError();
  }
  print_containers(report->containers);
  if (!report->volumes.empty()) {
    std::cout << "Deleted Volumes:\n";
    for (const auto& v : report->volumes) {
      std::cout << v << "\n";
    }
    std::cout << "\n";
  }
  print_images(report->images);
  print_build_cache(report->build_cache);
  print_total(report->reclaimed);
  return 0;
}

}  // namespace

ChosenBody setup_system_prune(CLI::App& system, const GlobalOptions& globals) {
  auto f = std::make_shared<SystemPruneFlags>();
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
