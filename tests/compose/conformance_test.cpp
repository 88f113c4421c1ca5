// The compose `config` conformance set: each directory under
// tests/compose/conformance/ holds compose files, an optional `args` file (one
// option a line: `-f FILE`, `-p NAME`, `--profile P`, `--env-file F`,
// `--project-directory D`, `env KEY=VALUE`) and the expected result, written by
// hand from the Compose Specification: `expected.yaml` (what `compose config`
// prints), `expected.json` (what `compose config --format json` prints) or
// `expected-error.txt` (the error's message), and optionally
// `expected-warnings.txt`. `$DIR` in them stands for the case's directory and
// `$PARENT` for its parent; HOME is /home/tester.
#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "compose/project.h"
#include "support/error.h"

namespace {

using namespace kiln::compose;

std::string read(const std::filesystem::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string replace_all(std::string s, const std::string& from, const std::string& to) {
  for (size_t pos = 0; (pos = s.find(from, pos)) != std::string::npos; pos += to.size()) {
    s.replace(pos, from.size(), to);
  }
  return s;
}

struct Outcome {
  std::string output;
  std::string warnings;
};

Outcome run_case(const std::filesystem::path& dir, bool json) {
  LoadOptions options;
  options.working_dir = dir.string();
  options.environment = {{"HOME", "/home/tester"}};
  std::istringstream args(std::filesystem::exists(dir / "args") ? read(dir / "args") : "");
  std::string line;
  while (std::getline(args, line)) {
    if (line.empty()) {
      continue;
    }
    std::string flag = line.substr(0, line.find(' '));
    std::string value = line.find(' ') == std::string::npos ? "" : line.substr(line.find(' ') + 1);
    if (flag == "-f") {
      options.files.push_back(value);
    } else if (flag == "-p") {
      options.project_name = value;
    } else if (flag == "--profile") {
      options.profiles.push_back(value);
    } else if (flag == "--env-file") {
      options.env_files.push_back(value);
    } else if (flag == "--project-directory") {
      options.project_directory = value;
    } else if (flag == "env") {
      options.environment[value.substr(0, value.find('='))] = value.substr(value.find('=') + 1);
    } else {
      FAIL("unknown line in " << (dir / "args").string() << ": " << line);
    }
  }
  Outcome out;
  auto project = load_project(options, [&](const std::string& w) { out.warnings += w + "\n"; });
  if (!project) {
    out.output = "error: " + kiln::error_message(project.takeError()) + "\n";
  } else {
    out.output = json ? config_json(*project) : config_yaml(*project);
  }
  return out;
}

}  // namespace

TEST_CASE("compose config conformance set") {
  std::filesystem::path root = std::filesystem::path(KILN_SOURCE_DIR) / "tests/compose/conformance";
  std::vector<std::filesystem::path> cases;
  for (const auto& entry : std::filesystem::directory_iterator(root)) {
    if (entry.is_directory()) {
      cases.push_back(entry.path());
    }
  }
  std::sort(cases.begin(), cases.end());
  REQUIRE(cases.size() >= 20);
  for (const auto& dir : cases) {
    SECTION(dir.filename().string()) {
      bool json = std::filesystem::exists(dir / "expected.json");
      Outcome got = run_case(dir, json);
      std::string expected;
      if (std::filesystem::exists(dir / "expected-error.txt")) {
        expected = "error: " + read(dir / "expected-error.txt");
      } else if (json) {
        expected = read(dir / "expected.json");
      } else {
        expected = read(dir / "expected.yaml");
      }
      expected = replace_all(expected, "$PARENT", dir.parent_path().string());
      expected = replace_all(expected, "$DIR", dir.string());
      CHECK(got.output == expected);
      if (std::filesystem::exists(dir / "expected-warnings.txt")) {
        CHECK(got.warnings ==
              replace_all(read(dir / "expected-warnings.txt"), "$DIR", dir.string()));
      }
    }
  }
}
