// `kiln volume create|ls|inspect|rm|prune`: named volumes (containers/volume_store.h),
// in docker's layout under ROOT/volumes.
#include <iostream>

#include "cli/command.h"
#include "cli/each_name.h"
#include "cli/store_open.h"
#include "cli/verb_set.h"
#include "containers/system_prune.h"
#include "containers/volume_store.h"
#include "network/network_store.h"
#include "support/error.h"

namespace kiln::cli {
namespace {

struct VolumeFlags {
  std::vector<std::string> names;
  std::vector<std::string> labels;
  bool quiet = false;
  bool force = false;
  bool all = false;
  std::string driver;
};

llvm::Expected<int> run_volume(const GlobalOptions& globals, const std::string& verb,
                               const VolumeFlags& flags) {
  auto volumes = containers::VolumeStore::open(globals.root);
  if (!volumes) {
    return volumes.takeError();
  }
  if (verb == "create") {
    auto created = volumes->create(flags.names.empty() ? "" : flags.names[0],
                                   network::parse_labels(flags.labels));
    if (!created) {
      return created.takeError();
    }
    std::cout << created->name << "\n";
    return 0;
  }
  if (verb == "ls") {
    auto all = volumes->list();
    if (!all) {
      return all.takeError();
    }
    std::vector<std::vector<std::string>> rows = {{"DRIVER", "VOLUME NAME"}};
    for (const auto& v : *all) {
      rows.push_back({v.driver, v.name});
      if (flags.quiet) {
        std::cout << v.name << "\n";
      }
    }
    if (!flags.quiet) {
      print_table(std::cout, rows);
    }
    return 0;
  }
  if (verb == "inspect") {
    nlohmann::ordered_json out = nlohmann::ordered_json::array();
    int code = for_each_name(flags.names, EchoName::no, [&](const std::string& name) {
      auto v = volumes->get(name);
      if (v) {
        out.push_back(containers::inspect_json(*v));
      }
      return v ? llvm::Error::success() : v.takeError();
    });
    std::cout << out.dump(4) << "\n";
    return code;
  }
  if (verb == "rm") {
    auto store = containers::ContainerStore::open(globals.root);
    if (!store) {
      return store.takeError();
    }
    return for_each_name(flags.names, EchoName::yes,
                         [&](const std::string& name) { return volumes->remove(name, *store); });
  }
  // prune: unused anonymous volumes (all unused ones with -a), as docker 23+.
  auto pruned = containers::prune_volumes(globals.root, flags.all);
  if (!pruned) {
    return pruned.takeError();
  }
  std::cout << containers::deleted_section("Deleted Volumes:", pruned->removed)
            << containers::reclaimed_line(pruned->reclaimed);
  return 0;
}

CommandBody setup_volume(CLI::App& sub, const GlobalOptions& globals) {
  VerbSet<VolumeFlags> verbs(sub);
  {
    auto [v, f] = verbs.add("create", "Create a volume");
    v->add_option("--label", f->labels, "Set metadata for a volume")->allow_extra_args(false);
    v->add_option("-d,--driver", f->driver, "Specify volume driver name (local)");
    v->add_option("VOLUME", f->names, "Volume name (default: a random one)")->expected(0, 1);
  }
  {
    auto [v, f] = verbs.add("ls", "List volumes");
    v->alias("list");
    v->add_flag("-q,--quiet", f->quiet, "Only display volume names");
  }
  {
    auto [v, f] = verbs.add("inspect", "Display detailed information on one or more volumes");
    v->add_option("VOLUME", f->names, "Volume names")->required();
  }
  {
    auto [v, f] = verbs.add("rm", "Remove one or more volumes (refused for volumes in use)");
    v->alias("remove");
    v->add_flag("-f,--force", f->force, "Do not fail for a missing volume");
    v->add_option("VOLUME", f->names, "Volume names")->required();
  }
  {
    auto [v, f] = verbs.add("prune", "Remove unused anonymous volumes (-a: all unused volumes)");
    v->add_flag("-a,--all", f->all, "Remove all unused volumes, not just anonymous ones");
    v->add_flag("-f,--force", f->force, "Do not prompt for confirmation");
  }
  return verbs.body(
      [&globals](const std::string& verb, const VolumeFlags& flags) -> llvm::Expected<int> {
        if (!flags.driver.empty() && flags.driver != "local") {
          return llvm::make_error<UsageError>("unknown volume driver " + quote(flags.driver) +
                                              " (kiln has local)");
        }
        return run_volume(globals, verb, flags);
      });
}

CommandRegistration reg{{"volume", "Manage volumes", setup_volume, 41}};

}  // namespace
}  // namespace kiln::cli
