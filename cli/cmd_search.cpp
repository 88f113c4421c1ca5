// `kiln search [--limit N] [--format F] REGISTRY/TERM`: the repositories of a
// registry whose names contain TERM, from its catalog API (GET /v2/_catalog), in
// docker search's columns. Docker Hub has no catalog; its search is Hub's own API.

#include <iostream>

#include <llvm/ADT/StringExtras.h>
#include <nlohmann/json.hpp>

#include "cli/command.h"
#include "cli/format_rows.h"
#include "cli/registry_store.h"
#include "support/error.h"

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

bool is_docker_hub(llvm::StringRef domain) {
  return domain == "docker.io" || domain == "index.docker.io" || domain == "registry-1.docker.io";
}

llvm::Expected<int> run_search(const SearchFlags& flags) {
  // "host[:port]/term" names a registry, as in docker search; anything else is Hub.
  std::string domain = "docker.io";
  llvm::StringRef term = flags.term;
  auto [first, rest] = term.split('/');
  if (first.contains('.') || first.contains(':') || first == "localhost") {
    domain = first.str();
    term = rest;
  }
  std::string context = "search " + quote(flags.term);
  if (is_docker_hub(domain)) {
    return make_error(context +
                      ": Docker Hub search needs Hub's own search API, which kiln does not "
                      "use; kiln searches a registry's catalog: name the registry, as in "
                      "'kiln search localhost:5000/" +
                      term + "'");
  }
  if (flags.limit < 1 || flags.limit > 100) {
    return llvm::make_error<UsageError>("limit " + std::to_string(flags.limit) +
                                        " is outside the range of [1, 100]");
  }
  auto client = make_registry_client(flags.registry);
  if (!client) {
    return client.takeError();
  }
  auto names = (*client)->list_repositories(domain);
  if (!names) {
    return with_context(names.takeError(), context);
  }
  std::vector<nlohmann::ordered_json> rows;
  std::string needle = llvm::StringRef(term).lower();
  for (const std::string& name : *names) {
    if (llvm::StringRef(name).lower().find(needle) == std::string::npos) {
      continue;
    }
    rows.push_back({{"Description", ""},
                    {"IsAutomated", ""},
                    {"IsOfficial", ""},
                    {"Name", domain + "/" + name},
                    {"StarCount", "0"}});
    if (rows.size() >= static_cast<size_t>(flags.limit)) {
      break;
    }
  }
  std::string format = flags.format.empty() || flags.format == "table" ? kDefaultFormat.str()
                       : flags.format == "json"                        ? "{{json .}}"
                                                                       : flags.format;
  if (auto err = print_rows(std::cout, format, rows, kSearchHeader)) {
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
