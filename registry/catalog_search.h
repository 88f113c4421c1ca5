// `kiln search REGISTRY/TERM`: docker search's rows from a registry's catalog API
// (GET /v2/_catalog). Docker Hub has no catalog; its search is Hub's own API,
// which kiln does not use.
#pragma once

#include <string>
#include <vector>

#include <llvm/ADT/StringRef.h>
#include <llvm/Support/Error.h>
#include <nlohmann/json.hpp>

#include "registry/client.h"

namespace kiln::registry {

/// A search of one registry's catalog.
struct CatalogSearch {
  /// The argument as given ("localhost:5000/app"), for messages.
  std::string text;
  /// The registry: the first component of `text` when it looks like a host
  /// (has a '.' or ':', or is "localhost").
  std::string domain;
  /// What repository names must contain (case-insensitive); may be empty.
  std::string term;
  /// At most this many rows, 1 to 100.
  int limit = 25;
};

/// Parses `text` ("host[:port]/term") and `limit`. Fails for a term without a
/// registry (Docker Hub's search, naming the form to use instead) and, with a
/// UsageError, for a limit outside [1, 100].
llvm::Expected<CatalogSearch> parse_catalog_search(llvm::StringRef text, int limit);

/// The repositories of `search.domain` through `client` whose names contain the
/// term, in catalog order, as docker's searchContext JSON (Description,
/// IsAutomated, IsOfficial: "", Name: "domain/repository", StarCount: "0").
/// Fails, in the context "search 'TEXT'", when the catalog cannot be read.
llvm::Expected<std::vector<nlohmann::ordered_json>> search_catalog(Client& client,
                                                                   const CatalogSearch& search);

}  // namespace kiln::registry
