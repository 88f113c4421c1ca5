#include "cache/store_root.h"

#include <unistd.h>

#include <cstdlib>

namespace kiln::cache {
namespace {

std::string absolute(const std::string& path) {
  if (path.empty() || path[0] == '/') {
    return path;
  }
  char cwd[4096];
  if (!::getcwd(cwd, sizeof(cwd))) {
    return path;
  }
  return std::string(cwd) + "/" + path;
}

}  // namespace

std::string store_root(const std::string& flag_value) {
  if (!flag_value.empty()) {
    return absolute(flag_value);
  }
  if (const char* env = std::getenv("KILN_ROOT"); env && *env) {
    return absolute(env);
  }
  if (::geteuid() == 0) {
    return "/var/lib/kiln";
  }
  if (const char* xdg = std::getenv("XDG_DATA_HOME"); xdg && *xdg) {
    return std::string(xdg) + "/kiln";
  }
  const char* home = std::getenv("HOME");
  return std::string(home ? home : ".") + "/.local/share/kiln";
}

}  // namespace kiln::cache
