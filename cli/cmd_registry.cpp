// The commands that talk to a registry, printing docker's lines: `kiln pull
// [--platform] REF` (layers in parallel into the store, then the name), `kiln
// push REF` (blobs in parallel, skipping what the registry has, then the tag),
// `kiln login [-u USER] [-p PASS | --password-stdin] [SERVER]` and `logout
// [SERVER]` (credentials in docker's config.json, mode 0600, written atomically,
// verified against the registry's /v2/ first), and `kiln search [--limit N]
// [--format F] REGISTRY/TERM` (the repositories whose names contain TERM, from
// the catalog API, in docker search's columns; Docker Hub has no catalog).
#include <unistd.h>

#include <iostream>
#include <mutex>

#include "cli/command.h"
#include "exporter/registry_store.h"
#include "exporter/store_transfer.h"
#include "registry/auth.h"
#include "registry/catalog_search.h"
#include "support/error.h"

namespace kiln::cli {

void add_registry_flags(CLI::App& sub, exporter::RegistryFlags& flags) {
  sub.add_option("--insecure-registry", flags.insecure_registries,
                 "Registry (host:port) that may be reached over plain HTTP");
  sub.add_option("--registry-mirror", flags.registry_mirrors,
                 "Mirror to pull docker.io images through (URL or host:port)");
}

namespace {

// docker's line for each layer event ("<id>: Pull complete"), from any thread.
std::function<void(const registry::BlobProgress&)> layer_lines(std::ostream& out,
                                                               exporter::LayerDirection way) {
  auto mutex = std::make_shared<std::mutex>();
  return [&out, way, mutex](const registry::BlobProgress& event) {
    if (std::optional<std::string> line = exporter::layer_progress_line(event, way)) {
      std::lock_guard<std::mutex> guard(*mutex);
      out << *line << "\n" << std::flush;
    }
  };
}

struct TransferFlags {
  std::string reference;
  std::string platform = "linux/amd64";
  bool quiet = false;
  exporter::RegistryFlags registry;
};

llvm::Expected<int> pull(const TransferFlags& flags, const GlobalOptions& globals,
                         std::ostream& out) {
  KILN_TRY(oci::Reference ref, oci::parse_reference(flags.reference));
  registry::PullOptions options;
  KILN_TRY(options.platform, oci::parse_platform(flags.platform));
  KILN_TRY(auto store, open_store(globals));
  KILN_TRY(auto client, exporter::make_registry_client(flags.registry));
  if (!flags.quiet) {
    out << exporter::pull_header_text(ref) << std::flush;
    options.progress = layer_lines(out, exporter::LayerDirection::pull);
  }
  KILN_TRY(auto pulled, exporter::pull_to_store(*store, *client, ref, options));
  if (!flags.quiet) {
    out << exporter::pull_summary_text(ref, pulled);
  }
  out << ref.str() << "\n";
  return 0;
}

llvm::Expected<int> push(TransferFlags& flags, const GlobalOptions& globals) {
  KILN_TRY(oci::Reference ref, oci::parse_reference(flags.reference));
  KILN_TRY(auto store, open_store(globals));
  registry::PushOptions options;
  if (!flags.quiet) {
    options.progress = layer_lines(std::cout, exporter::LayerDirection::push);
  }
  KILN_TRY(auto pushed, exporter::push_from_store(*store, flags.registry, ref, options, [&] {
             if (!flags.quiet) {
               std::cout << exporter::push_header_text(ref) << std::flush;
             }
           }));
  std::cout << (flags.quiet ? ref.str() + "\n" : exporter::push_summary_text(ref, pushed));
  return 0;
}

Command<TransferFlags> pull_reg{
    "pull", "Download an image from a registry", 40,
    [](CLI::App& sub, TransferFlags& f) {
      sub.add_option("REF", f.reference, "Image to pull (NAME[:TAG|@DIGEST])")->required();
      sub.add_option("--platform", f.platform, "Platform of a multi-platform image");
      sub.add_flag("-q,--quiet", f.quiet, "Print only the image name");
      add_registry_flags(sub, f.registry);
    },
    [](TransferFlags& f, const GlobalOptions& globals) { return pull(f, globals, std::cout); }};

Command<TransferFlags> push_reg{
    "push", "Upload an image to a registry", 41,
    [](CLI::App& sub, TransferFlags& f) {
      sub.add_option("REF", f.reference, "Image to push (NAME[:TAG])")->required();
      sub.add_flag("-q,--quiet", f.quiet, "Print only the image name");
      add_registry_flags(sub, f.registry);
    },
    push};

struct LoginFlags {
  std::string server = "docker.io";
  std::string username;
  std::string password;
  bool password_stdin = false;
  exporter::RegistryFlags registry;
};

std::string read_line(std::istream& in, llvm::StringRef prompt) {
  if (!prompt.empty() && isatty(STDIN_FILENO)) {
    std::cout << prompt.str() << std::flush;
  }
  std::string line;
  std::getline(in, line);
  return llvm::StringRef(line).rtrim("\r\n").str();
}

llvm::Expected<int> login(LoginFlags& flags, const GlobalOptions&) {
  std::string domain = registry::server_domain(flags.server);
  registry::Credentials creds{flags.username, flags.password, ""};
  if (flags.password_stdin) {
    if (!flags.password.empty()) {
      return llvm::make_error<UsageError>("--password and --password-stdin are mutually exclusive");
    }
    if (flags.username.empty()) {
      return llvm::make_error<UsageError>("must provide --username with --password-stdin");
    }
    std::string all(std::istreambuf_iterator<char>(std::cin), {});
    creds.password = llvm::StringRef(all).rtrim("\r\n").str();
  }
  if (creds.username.empty()) {
    creds.username = read_line(std::cin, "Username: ");
  }
  if (creds.password.empty() && !flags.password_stdin) {
    creds.password = read_line(std::cin, "Password: ");
  }
  if (creds.username.empty() || creds.password.empty()) {
    return llvm::make_error<UsageError>("username and password are required");
  }
  KILN_CHECK(exporter::log_in(flags.registry, domain, creds));
  std::cout << "Login Succeeded\n";
  return 0;
}

Command<LoginFlags> login_reg{"login", "Log in to a registry", 42,
                              [](CLI::App& sub, LoginFlags& f) {
                                sub.add_option("SERVER", f.server, "Registry (default docker.io)");
                                sub.add_option("-u,--username", f.username, "Username");
                                sub.add_option("-p,--password", f.password, "Password");
                                sub.add_flag("--password-stdin", f.password_stdin,
                                             "Take the password from stdin");
                                add_registry_flags(sub, f.registry);
                              },
                              login};

Command<LoginFlags> logout_reg{
    "logout", "Log out from a registry", 43,
    [](CLI::App& sub, LoginFlags& f) {
      sub.add_option("SERVER", f.server, "Registry (default docker.io)");
    },
    [](LoginFlags& f, const GlobalOptions&) -> llvm::Expected<int> {
      std::string domain = registry::server_domain(f.server);
      KILN_TRY(bool erased, with_context(registry::erase_credentials(
                                             registry::default_docker_config_path(), domain),
                                         "logout " + quote(domain)));
      std::cout << (erased ? "Removing login credentials for " : "Not logged in to ")
                << registry::config_key(domain) << "\n";
      return 0;
    }};

struct SearchFlags {
  std::string term;
  int limit = 25;
  std::string format;
  exporter::RegistryFlags registry;
};

// docker's column names of the search fields, for `table` templates.
const nlohmann::ordered_json kSearchHeader = {{"Description", "DESCRIPTION"},
                                              {"IsAutomated", "AUTOMATED"},
                                              {"IsOfficial", "OFFICIAL"},
                                              {"Name", "NAME"},
                                              {"StarCount", "STARS"}};

Command<SearchFlags> search_reg{
    "search", "Search a registry's catalog for repositories", 43,
    [](CLI::App& sub, SearchFlags& f) {
      sub.add_option("TERM", f.term, "REGISTRY/TERM: repositories of REGISTRY containing TERM")
          ->required();
      sub.add_option("--limit", f.limit, "Max number of search results (default 25)");
      sub.add_option("--format", f.format,
                     "Format output: 'table', 'json', 'table TEMPLATE' or a Go TEMPLATE");
      add_registry_flags(sub, f.registry);
    },
    [](SearchFlags& f, const GlobalOptions&) -> llvm::Expected<int> {
      KILN_TRY(auto search, registry::parse_catalog_search(f.term, f.limit));
      KILN_TRY(auto client, exporter::make_registry_client(f.registry));
      KILN_TRY(auto rows, registry::search_catalog(*client, search));
      std::string format = list_format(
          f.format, "table {{.Name}}\t{{.Description}}\t{{.StarCount}}\t{{.IsOfficial}}");
      KILN_CHECK(print_rows(std::cout, format, rows, kSearchHeader));
      return 0;
    }};

}  // namespace

llvm::Error pull_if_missing(const GlobalOptions& globals, const std::string& reference) {
  {
    KILN_TRY(auto store, open_store(globals));
    auto record = store->resolve(reference);
    if (record) {
      return llvm::Error::success();
    }
    llvm::consumeError(record.takeError());
  }
  KILN_TRY(oci::Reference ref, oci::parse_reference(reference));
  std::cerr << "Unable to find image '" << ref.familiar_str() << "' locally\n";
  TransferFlags flags;
  flags.reference = reference;
  return pull(flags, globals, std::cerr).takeError();
}

}  // namespace kiln::cli
