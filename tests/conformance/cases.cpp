#include "tests/conformance/cases.h"

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <stdexcept>

namespace kiln::conformance {

std::vector<std::string> list_cases(const std::string& cases_dir) {
  std::vector<std::string> names;
  for (const auto& entry : std::filesystem::directory_iterator(cases_dir)) {
    if (entry.is_directory() && std::filesystem::exists(entry.path() / "Dockerfile")) {
      names.push_back(entry.path().filename().string());
    }
  }
  std::sort(names.begin(), names.end());
  return names;
}

void prepare_context(const std::string& case_dir, const std::string& out_dir) {
  const std::string script =
      "set -e\n"
      "mkdir -p \"$2\"\n"
      "if [ -d \"$1/context\" ]; then cp -a \"$1/context/.\" \"$2/\"; fi\n"
      "find \"$2\" -type d -exec chmod 0755 {} +\n"
      "find \"$2\" -type f -perm /111 -exec chmod 0755 {} +\n"
      "find \"$2\" -type f ! -perm /111 -exec chmod 0644 {} +\n"
      "chown -hR 0:0 \"$2\"\n"
      "if [ -f \"$1/setup.sh\" ]; then cd \"$2\" && sh \"$1/setup.sh\"; fi\n";
  auto quote = [](const std::string& s) {
    std::string q = "'";
    for (char c : s) {
      q += c == '\'' ? std::string("'\\''") : std::string(1, c);
    }
    return q + "'";
  };
  std::string cmd = "sh -c " + quote(script) + " prepare " + quote(case_dir) + " " + quote(out_dir);
  if (std::system(cmd.c_str()) != 0) {
    throw std::runtime_error("prepare '" + case_dir + "' failed");
  }
}

std::vector<std::string> case_args(const std::string& case_dir, const std::string& ctx) {
  std::vector<std::string> args;
  std::ifstream f(case_dir + "/args");
  std::string line;
  while (std::getline(f, line)) {
    if (line.empty() || line[0] == '#') {
      continue;
    }
    for (size_t pos; (pos = line.find("{ctx}")) != std::string::npos;) {
      line.replace(pos, 5, ctx);
    }
    args.push_back(line);
  }
  return args;
}

}  // namespace kiln::conformance
