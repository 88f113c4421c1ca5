// `kiln inspect IMAGE|CONTAINER...`: a JSON array like `docker inspect`.

#include <iostream>
#include <optional>

#include <nlohmann/json.hpp>

#include "cli/command.h"
#include "cli/print_error.h"
#include "cli/store_open.h"
#include "containers/object_inspect.h"
#include "support/error.h"
#include "support/go_template.h"

namespace kiln::cli {
namespace {

using Json = nlohmann::ordered_json;

struct InspectFlags {
  std::vector<std::string> names;
  std::string format;
  std::string platform;
};

llvm::Expected<int> run_inspect(InspectFlags& f, const GlobalOptions& globals) {
  std::optional<support::GoTemplate> tmpl;
  if (!f.format.empty() && f.format != "json") {
    // As docker's inspect: the template as given (list commands expand `\t` first).
    auto parsed = support::GoTemplate::parse(f.format);
    if (!parsed) {
      return with_context(parsed.takeError(), "template parsing error");
    }
    tmpl = std::move(*parsed);
  }
  KILN_TRY(auto store, open_store_read_only(globals));
  Json all = Json::array();
  std::vector<llvm::Error> errors;
  for (const std::string& text : f.names) {
    auto json = containers::inspect_object(*store, globals.root, text, f.platform);
    if (!json) {
      errors.push_back(json.takeError());
      continue;
    }
    all.push_back(std::move(*json));
  }
  if (!tmpl) {
    std::cout << all.dump(4) << "\n";
  }
  for (size_t i = 0; tmpl && i < all.size(); ++i) {
    auto line = tmpl->execute(all[i]);
    if (!line) {
      errors.push_back(with_context(line.takeError(), "template parsing error"));
      continue;
    }
    std::cout << *line << "\n";
  }
  std::cout.flush();
  int code = 0;
  for (llvm::Error& err : errors) {
    code = print_error(std::move(err), std::cerr);
  }
  return code;
}

Command<InspectFlags> reg{
    "inspect", "Display detailed information on images and containers", 23,
    [](CLI::App& sub, InspectFlags& f) {
      sub.add_option("-f,--format", f.format, "Format output using a Go template");
      sub.add_option("--platform", f.platform,
                     "Inspect a specific platform of a multi-platform image (os/arch[/variant])");
      sub.add_option("images", f.names, "IMAGE...")->required();
    },
    run_inspect};

}  // namespace
}  // namespace kiln::cli
