#include "registry/curl_api.h"

#include <dlfcn.h>

#include <mutex>
#include <string>

#include "support/error.h"

namespace kiln::registry {
namespace {

CurlApi g_api;
std::string g_error;

template <typename Fn>
bool bind(void* lib, const char* name, Fn& fn) {
  fn = reinterpret_cast<Fn>(::dlsym(lib, name));
  if (!fn) {
    g_error = std::string("libcurl.so.4 has no ") + name;
  }
  return fn != nullptr;
}

void load() {
  void* lib = ::dlopen("libcurl.so.4", RTLD_NOW | RTLD_LOCAL);
  if (!lib) {
    const char* why = ::dlerror();
    g_error = std::string("load libcurl.so.4 (Debian package libcurl4): ") +
              (why ? why : "unknown error");
    return;
  }
  CurlApi& a = g_api;
  bool ok = bind(lib, "curl_global_init", a.global_init) &&
            bind(lib, "curl_easy_init", a.easy_init) &&
            bind(lib, "curl_easy_setopt", a.easy_setopt) &&
            bind(lib, "curl_easy_getinfo", a.easy_getinfo) &&
            bind(lib, "curl_easy_perform", a.easy_perform) &&
            bind(lib, "curl_easy_reset", a.easy_reset) &&
            bind(lib, "curl_easy_cleanup", a.easy_cleanup) &&
            bind(lib, "curl_easy_strerror", a.easy_strerror) &&
            bind(lib, "curl_share_init", a.share_init) &&
            bind(lib, "curl_share_setopt", a.share_setopt) &&
            bind(lib, "curl_share_cleanup", a.share_cleanup) &&
            bind(lib, "curl_slist_append", a.slist_append) &&
            bind(lib, "curl_slist_free_all", a.slist_free_all);
  if (!ok) {
    return;
  }
  CURLcode init = a.global_init(CURL_GLOBAL_DEFAULT);
  if (init != CURLE_OK) {
    g_error = std::string("initialize libcurl: ") + a.easy_strerror(init);
  }
}

}  // namespace

llvm::Expected<const CurlApi*> load_curl() {
  static std::once_flag once;
  std::call_once(once, load);
  if (!g_error.empty()) {
    return make_error(g_error);
  }
  return &g_api;
}

const CurlApi& curl() { return g_api; }

}  // namespace kiln::registry
