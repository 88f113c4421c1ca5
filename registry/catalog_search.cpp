#include "registry/catalog_search.h"

#include "support/error.h"

namespace kiln::registry {

llvm::Expected<CatalogSearch> parse_catalog_search(llvm::StringRef text, int limit) {
  CatalogSearch search{text.str(), "docker.io", text.str(), limit};
  auto [first, rest] = text.split('/');
  if (first.contains('.') || first.contains(':') || first == "localhost") {
    search.domain = first.str();
    search.term = rest.str();
  }
  if (search.domain == "docker.io" || search.domain == "index.docker.io" ||
      search.domain == "registry-1.docker.io") {
    return make_error("search " + quote(text) +
                      ": Docker Hub search needs Hub's own search API, which kiln does not "
                      "use; kiln searches a registry's catalog: name the registry, as in "
                      "'kiln search localhost:5000/" +
                      search.term + "'");
  }
  if (limit < 1 || limit > 100) {
    return llvm::make_error<UsageError>("limit " + std::to_string(limit) +
                                        " is outside the range of [1, 100]");
  }
  return search;
}

llvm::Expected<std::vector<nlohmann::ordered_json>> search_catalog(Client& client,
                                                                   const CatalogSearch& search) {
  auto names = client.list_repositories(search.domain);
  if (!names) {
    return with_context(names.takeError(), "search " + quote(search.text));
  }
  std::vector<nlohmann::ordered_json> rows;
  std::string needle = llvm::StringRef(search.term).lower();
  for (const std::string& name : *names) {
    if (llvm::StringRef(name).lower().find(needle) == std::string::npos) {
      continue;
    }
    rows.push_back({{"Description", ""},
                    {"IsAutomated", ""},
                    {"IsOfficial", ""},
                    {"Name", search.domain + "/" + name},
                    {"StarCount", "0"}});
    if (rows.size() >= static_cast<size_t>(search.limit)) {
      break;
    }
  }
  return rows;
}

}  // namespace kiln::registry
