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

llvm::Expected<int> run_search(const SearchFlags& flags) {
  auto search = registry::parse_catalog_search(flags.term, flags.limit);
  if (!search) {
    return search.takeError();
  }
  auto client = make_registry_client(flags.registry);
  if (!client) {
    return client.takeError();
  }
  auto rows = registry::search_catalog(**client, *search);
  if (!rows) {
    return rows.takeError();
  }
  if (auto err =
          print_rows(std::cout, list_format(flags.format, kDefaultFormat), *rows, kSearchHeader)) {
    return err;
  }
  return 0;
}

CommandBody setup_search(CLI::App& sub, const GlobalOptions&) {
  auto flags = std::make_shared<SearchFlags>();
  sub.add_option("TERM", flags->term, "REGISTRY/TERM: repositories of REGISTRY containing TERM")
      ->required();
  sub.add_option("--limit", flags->limit, "Max number of search results (default 25)");
  sub.add_option("--format", flags->format,
                 "Format output: 'table', 'json', 'table TEMPLATE' or a Go TEMPLATE");
  add_registry_flags(sub, flags->registry);
  return [flags]() { return run_search(*flags); };
}

CommandRegistration reg{
    {"search", "Search a registry's catalog for repositories", setup_search, 43}};

}  // namespace
}  // namespace kiln::cli
