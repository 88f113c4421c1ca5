// Golden tests of the lowering: tests/frontend/golden_lower/<case>/ holds a
// Dockerfile, an optional `options` file (lines "target=NAME", "build-arg=K=V",
// "build-context=NAME=VALUE", "resolver") and either expected.json (graph, stage
// configs, context reads) or expected_error.txt (the error exactly as the CLI
// prints it). KILN_UPDATE_GOLDEN=1 rewrites the expected files: do it only on
// purpose and review the diff.

#include <dirent.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "frontend/lower.h"
#include "lower_test_util.h"
#include "support/error.h"

using namespace kiln;
using namespace kiln::frontend;

namespace {

const std::string kGoldenDir = std::string(KILN_SOURCE_DIR) + "/tests/frontend/golden_lower";

std::vector<std::string> list_cases() {
  std::vector<std::string> out;
  DIR* dir = opendir(kGoldenDir.c_str());
  REQUIRE(dir != nullptr);
  while (dirent* e = readdir(dir)) {
    std::string name = e->d_name;
    if (name != "." && name != "..") {
      out.push_back(name);
    }
  }
  closedir(dir);
  std::sort(out.begin(), out.end());
  return out;
}

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

bool exists(const std::string& path) { return std::ifstream(path).good(); }

void compare_or_update(const std::string& path, const std::string& actual) {
  if (std::getenv("KILN_UPDATE_GOLDEN")) {
    std::ofstream(path) << actual;
    return;
  }
  INFO("golden file " << path);
  CHECK(slurp(path) == actual);
}

}  // namespace

TEST_CASE("lowering golden cases", "[lower][golden]") {
  auto cases = list_cases();
  REQUIRE(cases.size() >= 10);
  for (const auto& name : cases) {
    SECTION(name) {
      std::string dir = kGoldenDir + "/" + name;
      testing::FakeResolver resolver;
      LowerOptions options;
      std::string options_text = exists(dir + "/options") ? slurp(dir + "/options") : "";
      std::stringstream lines(options_text);
      for (std::string line; std::getline(lines, line);) {
        if (line.rfind("target=", 0) == 0) {
          options.target = line.substr(7);
        } else if (line.rfind("build-arg=", 0) == 0) {
          std::string kv = line.substr(10);
          options.build_args[kv.substr(0, kv.find('='))] = kv.substr(kv.find('=') + 1);
        } else if (line.rfind("build-context=", 0) == 0) {
          std::string kv = line.substr(14);
          options.build_contexts[kv.substr(0, kv.find('='))] = kv.substr(kv.find('=') + 1);
        } else if (line == "resolver") {
          options.resolver = &resolver;
        }
      }
      auto result = testing::lower_text(slurp(dir + "/Dockerfile"), options);
      if (exists(dir + "/expected_error.txt")) {
        REQUIRE(!result);
        compare_or_update(dir + "/expected_error.txt", testing::printed_error(result.takeError()));
      } else {
        if (!result) {
          FAIL(testing::printed_error(result.takeError()));
        }
        compare_or_update(dir + "/expected.json", testing::dump_result(*result));
      }
    }
  }
}
