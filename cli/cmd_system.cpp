// `kiln system df [-v] [--format json|TEMPLATE]` (docker's disk usage summary and
// its per-object tables), `kiln system check [--repair] [--deep]` (what in the
// store does not match kiln.db, cache/store_check.h; exit code 1 when problems
// remain) and the prunes as docker prints them: `kiln builder prune`, `image
// prune`, `container prune` and `system prune`, each asking first unless -f and
// ending with "Total reclaimed space: X", the store measured before and after.
#include <iostream>

#include "cache/store_check.h"
#include "cli/command.h"
#include "containers/disk_usage_view.h"
#include "containers/system_prune.h"

namespace kiln::cli {
namespace {

using containers::PruneTarget;

struct DfFlags {
  bool verbose = false;
  std::string format;
};

llvm::Expected<int> df(DfFlags& flags, const GlobalOptions& globals) {
  KILN_TRY(auto report, containers::system_disk_usage(globals.root));
  if (flags.verbose && flags.format == "json") {
    std::cout << containers::disk_usage_json(report).dump() << "\n";
    return 0;
  }
  if (flags.verbose && flags.format.empty()) {
    KILN_TRY(std::string text, containers::disk_usage_verbose_text(report));
    std::cout << text;
    return 0;
  }
  std::string format = list_format(flags.format, containers::kDiskUsageTable);
  KILN_CHECK(print_rows(std::cout, format, containers::disk_usage_rows(report),
                        containers::disk_usage_header()));
  return 0;
}

llvm::Expected<int> check(cache::CheckOptions& options, const GlobalOptions& globals) {
  KILN_TRY(auto report, cache::check_store_at(globals.root, options));
  std::cout << cache::check_report_text(report, options);
  return cache::problems_left(report) == 0 ? 0 : 1;
}

CommandGroup system_reg{"system", "Manage kiln (df, prune, check)", 80};
Command<DfFlags> df_reg{
    "system df", "Show kiln disk usage", 1,
    [](CLI::App& sub, DfFlags& f) {
      sub.add_flag("-v,--verbose", f.verbose, "Show detailed information on space usage");
      sub.add_option("--format", f.format, "Format output: table, json or a Go template");
    },
    df};
Command<cache::CheckOptions> check_reg{
    "system check", "Verify the store against its database", 3,
    [](CLI::App& sub, cache::CheckOptions& o) {
      sub.add_flag("--repair", o.repair, "Remove what is broken or orphaned");
      sub.add_flag("--deep", o.deep, "Also verify the files of built snapshots");
    },
    check};

struct PruneFlags {
  containers::BuilderPruneFlags builder;  // its `all` and `filters` serve every prune
  bool force = false;
  bool volumes = false;  // system prune
};

// A prune's body: unless -f, asks first (the warning of `target`); then
// `prune()` (an llvm::Expected report) and its report printed.
template <typename Prune>
llvm::Expected<int> prune_after_asking(const PruneFlags& f, PruneTarget target, Prune prune) {
  if (!f.force && !confirm(containers::prune_warning(target, f.builder.all, f.volumes))) {
    return 0;
  }
  KILN_TRY(auto report, prune());
  std::cout << containers::prune_report_text(report);
  return 0;
}

void force_flag(CLI::App& sub, PruneFlags& f) {
  sub.add_flag("-f,--force", f.force, "Do not prompt for confirmation");
}

CommandGroup builder_reg{"builder", "Manage builds (prune)", 81};
Command<PruneFlags> builder_prune{
    "builder prune", "Remove build cache",
    [](CLI::App& sub, PruneFlags& f) {
      containers::BuilderPruneFlags& b = f.builder;
      sub.add_flag("-a,--all", b.all, "Remove all unused build cache, not just dangling ones");
      force_flag(sub, f);
      sub.add_option("--filter", b.filters, "Provide filter values (e.g. \"until=24h\")");
      sub.add_option("--max-used-space", b.max_used, "Maximum amount of disk space allowed");
      sub.add_option("--keep-storage", b.keep_storage, "Alias of --max-used-space");
      sub.add_option("--reserved-space", b.reserved, "Amount of disk space always allowed");
      sub.add_option("--min-free-space", b.min_free, "Target amount of free disk space");
    },
    [](PruneFlags& f, const GlobalOptions& globals) -> llvm::Expected<int> {
      KILN_TRY(auto policy, containers::builder_prune_policy(globals.root, f.builder));
      return prune_after_asking(f, PruneTarget::build_cache, [&] {
        return containers::prune_build_cache(globals.root, policy);
      });
    }};

CommandGroup image_reg{"image", "Manage images (prune)", 82};
Command<PruneFlags> image_prune{
    "image prune", "Remove unused images",
    [](CLI::App& sub, PruneFlags& f) {
      sub.add_flag("-a,--all", f.builder.all, "Remove all unused images, not just dangling ones");
      force_flag(sub, f);
      sub.add_option("--filter", f.builder.filters,
                     "Provide filter values (e.g. \"until=<timestamp>\")");
    },
    [](PruneFlags& f, const GlobalOptions& globals) -> llvm::Expected<int> {
      KILN_TRY(auto options, containers::image_prune_options(f.builder.all, f.builder.filters));
      return prune_after_asking(f, PruneTarget::images,
                                [&] { return containers::prune_images(globals.root, options); });
    }};

CommandGroup container_reg{"container", "Manage containers (prune)", 83};
Command<PruneFlags> container_prune{
    "container prune", "Remove all stopped containers",
    [](CLI::App& sub, PruneFlags& f) {
      force_flag(sub, f);
      sub.add_option("--filter", f.builder.filters, "Provide filter values (e.g. \"until=24h\")");
    },
    [](PruneFlags& f, const GlobalOptions& globals) -> llvm::Expected<int> {
      KILN_TRY(auto until, containers::container_prune_until(f.builder.filters));
      return prune_after_asking(f, PruneTarget::containers,
                                [&] { return containers::prune_containers(globals.root, until); });
    }};

Command<PruneFlags> system_prune{
    "system prune", "Remove unused data", 2,
    [](CLI::App& sub, PruneFlags& f) {
      sub.add_flag("-a,--all", f.builder.all, "Remove all unused images not just dangling ones");
      force_flag(sub, f);
      sub.add_flag("--volumes", f.volumes, "Prune anonymous volumes");
    },
    [](PruneFlags& f, const GlobalOptions& globals) {
      return prune_after_asking(f, PruneTarget::system, [&] {
        return containers::prune_system(globals.root, f.builder.all, f.volumes);
      });
    }};

}  // namespace
}  // namespace kiln::cli
