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

llvm::Expected<int> run_inspect(const GlobalOptions& globals,
                                const std::vector<std::string>& images, const std::string& format,
                                const std::string& platform) {
  std::optional<support::GoTemplate> tmpl;
  if (!format.empty() && format != "json") {
    // As docker's inspect: the template as given (list commands expand `\t` first).
    auto parsed = support::GoTemplate::parse(format);
    if (!parsed) {
      return with_context(parsed.takeError(), "template parsing error");
    }
    tmpl = std::move(*parsed);
  }
  auto store = open_store_read_only(globals);
  if (!store) {
    return store.takeError();
  }
  Json all = Json::array();
  std::vector<llvm::Error> errors;
  for (const std::string& text : images) {
    auto json = containers::inspect_object(**store, globals.root, text, platform);
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

CommandBody setup_inspect(CLI::App& sub, const GlobalOptions& globals) {
  auto images = std::make_shared<std::vector<std::string>>();
  auto format = std::make_shared<std::string>();
  auto platform = std::make_shared<std::string>();
  sub.add_option("-f,--format", *format, "Format output using a Go template");
  sub.add_option("--platform", *platform,
                 "Inspect a specific platform of a multi-platform image (os/arch[/variant])");
  sub.add_option("images", *images, "IMAGE...")->required();
  return [&globals, images, format, platform]() {
    return run_inspect(globals, *images, *format, *platform);
  };
}

CommandRegistration reg{
    {"inspect", "Display detailed information on images and containers", setup_inspect, 23}};

}  // namespace
}  // namespace kiln::cli
