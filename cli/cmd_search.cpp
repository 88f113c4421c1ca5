// `kiln search [--limit N] [--format F] REGISTRY/TERM`: the repositories of a
// registry whose names contain TERM, from its catalog API (GET /v2/_catalog), in
// docker search's columns. Docker Hub has no catalog; its search is Hub's own API.

#include <iostream>

#include "cli/command.h"
#include "cli/format_rows.h"
#include "cli/registry_store.h"
#include "registry/catalog_search.h"

namespace kiln::cli {
namespace {

struct SearchFlags {
  std::string term;
  int limit = 25;
  std::string format;
  RegistryFlags registry;
};

// docker's column names of the search fields, for `table` templates.
const nlohmann::ordered_json kSearchHeader = {{"Description", "DESCRIPTION"},
                                              {"IsAutomated", "AUTOMATED"},
                                              {"IsOfficial", "OFFICIAL"},
                                              {"Name", "NAME"},
                                              {"StarCount", "STARS"}};

constexpr llvm::StringLiteral kDefaultFormat =
    "table {{.Name}}\t{{.Description}}\t{{.StarCount}}\t{{.IsOfficial}}";

llvm::Expected<int> run_search(SearchFlags& flags, const GlobalOptions&) {
  KILN_TRY(auto search, registry::parse_catalog_search(flags.term, flags.limit));
  KILN_TRY(auto client, make_registry_client(flags.registry));
  KILN_TRY(auto rows, registry::search_catalog(*client, search));
  KILN_CHECK(print_rows(std::cout, list_format(flags.format, kDefaultFormat), rows, kSearchHeader));
  return 0;
}

Command<SearchFlags> reg{
    "search", "Search a registry's catalog for repositories", 43,
    [](CLI::App& sub, SearchFlags& f) {
      sub.add_option("TERM", f.term, "REGISTRY/TERM: repositories of REGISTRY containing TERM")
          ->required();
      sub.add_option("--limit", f.limit, "Max number of search results (default 25)");
      sub.add_option("--format", f.format,
                     "Format output: 'table', 'json', 'table TEMPLATE' or a Go TEMPLATE");
      add_registry_flags(sub, f.registry);
    },
    run_search};

}  // namespace
}  // namespace kiln::cli
