// The catalog API: GET /v2/_catalog with Link pagination.

#include <nlohmann/json.hpp>

#include "registry/client.h"
#include "registry/client_impl.h"
#include "support/error.h"

namespace kiln::registry {
namespace {

// The target of a Link header's rel="next" entry: "</v2/_catalog?last=x&n=100>;
// rel="next"" -> "/v2/_catalog?last=x&n=100"; "" when there is none.
std::string next_link(llvm::StringRef header) {
  llvm::SmallVector<llvm::StringRef, 2> links;
  header.split(links, ',');
  for (llvm::StringRef link : links) {
    auto [target, params] = link.split(';');
    target = target.trim();
    if (params.contains("rel=\"next\"") && target.startswith("<") && target.endswith(">")) {
      return target.drop_front().drop_back().str();
    }
  }
  return "";
}

}  // namespace

llvm::Expected<std::vector<std::string>> Client::list_repositories(llvm::StringRef domain,
                                                                   size_t max) {
  std::vector<std::string> names;
  std::string url = "/v2/_catalog?n=1000";
  const std::string what = "catalog";
  for (int page = 0; !url.empty() && page < 1000; ++page) {
    auto make = [&]() -> llvm::Expected<HttpRequest> {
      HttpRequest request;
      request.url = url;
      return request;
    };
    llvm::Expected<HttpResponse> response = impl_->send(domain, "registry:catalog:*", make, what);
    if (!response) {
      return response.takeError();
    }
    if (response->status != 200) {
      return status_error(*response, domain, what);
    }
    try {
      nlohmann::json body = nlohmann::json::parse(response->body);
      for (const nlohmann::json& name : body.at("repositories")) {
        names.push_back(name.get<std::string>());
        if (max > 0 && names.size() >= max) {
          return names;
        }
      }
    } catch (const nlohmann::json::exception& e) {
      return registry_error(domain, what, llvm::Twine("invalid JSON: ") + e.what(),
                            response->status);
    }
    url = next_link(response->header("link"));
  }
  return names;
}

}  // namespace kiln::registry
