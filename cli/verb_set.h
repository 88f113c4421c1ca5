// The verbs of a command group (`kiln network create|ls|…`, `kiln volume …`), each
// with flags of one type: one of them must be given, and the group's body runs the
// one parsed.
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <CLI/CLI.hpp>

#include "cli/command.h"

namespace kiln::cli {

template <typename Flags>
class VerbSet {
 public:
  explicit VerbSet(CLI::App& group) : group_(group) { group_.require_subcommand(1); }

  /// Adds verb `name` and returns it with the flags its options fill.
  std::pair<CLI::App*, Flags*> add(const std::string& name, const std::string& description) {
    auto flags = std::make_shared<Flags>();
    CLI::App* verb = group_.add_subcommand(name, description);
    verbs_.emplace_back(verb, flags);
    return {verb, flags.get()};
  }

  /// The group's body: `run(verb_name, flags)` for the verb given.
  template <typename Run>
  CommandBody body(Run run) const {
    return [verbs = verbs_, run]() -> llvm::Expected<int> {
      for (const auto& [verb, flags] : verbs) {
        if (verb->parsed()) {
          return run(verb->get_name(), *flags);
        }
      }
      return 1;
    };
  }

 private:
  CLI::App& group_;
  std::vector<std::pair<CLI::App*, std::shared_ptr<Flags>>> verbs_;
};

}  // namespace kiln::cli
