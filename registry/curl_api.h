// libcurl, loaded when the first registry transfer needs it rather than when
// kiln starts: libcurl pulls in some twenty libraries (TLS, Kerberos, LDAP, IDN)
// whose loading and initialization cost every kiln command milliseconds, and
// most commands (a cached build, run, images) never talk to a registry.
// Internal to registry/: only http.cpp uses it.
#pragma once

#include <curl/curl.h>

#include <llvm/Support/Error.h>

namespace kiln::registry {

/// The libcurl functions kiln uses.
struct CurlApi {
  decltype(&curl_global_init) global_init = nullptr;
  decltype(&curl_easy_init) easy_init = nullptr;
  decltype(&curl_easy_setopt) easy_setopt = nullptr;
  decltype(&curl_easy_getinfo) easy_getinfo = nullptr;
  decltype(&curl_easy_perform) easy_perform = nullptr;
  decltype(&curl_easy_reset) easy_reset = nullptr;
  decltype(&curl_easy_cleanup) easy_cleanup = nullptr;
  decltype(&curl_easy_strerror) easy_strerror = nullptr;
  decltype(&curl_share_init) share_init = nullptr;
  decltype(&curl_share_setopt) share_setopt = nullptr;
  decltype(&curl_share_cleanup) share_cleanup = nullptr;
  decltype(&curl_slist_append) slist_append = nullptr;
  decltype(&curl_slist_free_all) slist_free_all = nullptr;
};

/// Loads libcurl.so.4 and calls curl_global_init() once per process; later
/// calls return the same table or the same error (naming the library).
llvm::Expected<const CurlApi*> load_curl();

/// The table load_curl() returned; only valid after it succeeded.
const CurlApi& curl();

}  // namespace kiln::registry
