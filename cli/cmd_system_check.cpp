// `kiln system check [--repair] [--deep]`: reports what in the store does not
// match kiln.db (cache/store_check.h); exit code 1 when problems remain.
#include <iostream>

#include "cache/store_check.h"
#include "cli/cmd_system.h"

namespace kiln::cli {
namespace {

llvm::Expected<int> run_check(const GlobalOptions& globals, const cache::CheckOptions& options) {
  KILN_TRY(auto report, cache::check_store_at(globals.root, options));
  size_t left = 0;
  for (const auto& p : report.problems) {
    std::cout << p.object << ": " << p.problem << (p.repaired ? " (repaired)" : "") << "\n";
    left += p.repaired ? 0 : 1;
  }
  std::cout << "checked " << report.blobs << " blobs, " << report.snapshots << " snapshots, "
            << report.images << " images, " << report.cache_keys << " cache records";
  if (options.deep) {
    std::cout << " (deep)";
  }
  std::cout << ": ";
  if (report.problems.empty()) {
    std::cout << "no problems\n";
  } else if (left == 0) {
    std::cout << report.problems.size() << " problems, all repaired\n";
  } else {
    std::cout << left << " problems" << (options.repair ? "" : " (run with --repair to fix)")
              << "\n";
  }
  return left == 0 ? 0 : 1;
}

}  // namespace

ChosenBody setup_system_check(CLI::App& system, const GlobalOptions& globals) {
  auto options = std::make_shared<cache::CheckOptions>();
  CLI::App* check = system.add_subcommand("check", "Verify the store against its database");
  check->add_flag("--repair", options->repair, "Remove what is broken or orphaned");
  check->add_flag("--deep", options->deep, "Also verify the files of built snapshots");
  return [&globals, options, check]() -> CommandBody {
    if (!check->parsed()) {
      return {};
    }
    return [&globals, options]() { return run_check(globals, *options); };
  };
}

}  // namespace kiln::cli
