// Test helper for `kiln compose`: a project directory with one compose file
// (project `proj`) over a RunFixture store, and the compose commands' views of
// its containers.
#pragma once

#include <filesystem>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "tests/integration/run_fixture.h"

namespace kiln::testing {

struct ComposeFixture : RunFixture {
  std::string dir = path("proj");
  std::string file = dir + "/compose.yaml";

  void write(const std::string& text) { kiln::testutil::write_file(file, text); }
  Output compose(std::vector<std::string> args, const std::string& input = {}) {
    args.insert(args.begin(), {"compose", "-f", file, "-p", "proj"});
    return kiln(args, input);
  }
  std::string compose_ok(const std::vector<std::string>& args) {
    Output o = compose(args);
    INFO("kiln compose " << args.front() << "\nstdout: " << o.out << "\nstderr: " << o.err);
    REQUIRE(o.exit_code == 0);
    return o.out + o.err;
  }
  // "name id" for each container of the project, sorted.
  std::map<std::string, std::string> ids() {
    std::map<std::string, std::string> out;
    std::istringstream lines(compose_ok({"ps", "-a", "--format", "json"}));
    std::string line;
    while (std::getline(lines, line)) {
      auto j = nlohmann::json::parse(line, nullptr, false);
      if (j.is_object()) {
        out[j["Name"]] = j["ID"];
      }
    }
    return out;
  }
  // Whether the named volume exists: in kiln's volume store, or compose's own
  // directories where kiln has none.
  bool volume_exists(const std::string& name) {
    return std::filesystem::exists(root() + "/volumes/" + name) ||
           std::filesystem::exists(root() + "/compose/volumes/" + name);
  }
  // A compose label of container `name`, as `compose ps --format json` shows it.
  std::string label(const std::string& name, const std::string& key) {
    std::istringstream lines(compose_ok({"ps", "-a", "--format", "json"}));
    std::string line;
    while (std::getline(lines, line)) {
      auto j = nlohmann::json::parse(line, nullptr, false);
      if (j.is_object() && j["Name"] == name) {
        return j["Labels"].value(key, "");
      }
    }
    return "";
  }
  std::string inspect(const std::string& name, const std::string& format) {
    return trim(ok({"inspect", "-f", format, name}));
  }
  void down_and_check() {
    auto before = ids();
    std::vector<std::string> list;
    for (auto& [name, id] : before) {
      list.push_back(id);
    }
    compose_ok({"down", "-v", "-t", "1"});
    CHECK(ids().empty());
    // No network, no volume of the project (kiln's own stores, or compose's
    // records where kiln has no user networks).
    CHECK(kiln::testutil::run({"sh", "-c",
                               "find " + root() + "/compose " + root() + "/networks " + root() +
                                   "/volumes -mindepth 1 -maxdepth 2 -name 'proj*' -o "
                                   "-mindepth 1 -maxdepth 2 -name 'tutorial*' 2>/dev/null"})
              .out == "");
    check_clean(list);
  }
};

}  // namespace kiln::testing
