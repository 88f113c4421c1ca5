// `kiln compose ...`: the shared flags, the verbs' registry, compose's events
// as docker compose prints them, and `config`.
#include "cli/cmd_compose.h"

#include <unistd.h>

#include <iostream>
#include <mutex>

#include "compose/status_text.h"
#include "support/atomic_file.h"
#include "support/error.h"

namespace kiln::cli {
namespace {

compose::LoadOptions& load_options() {
  static compose::LoadOptions flags;
  return flags;
}

void print_warning(const std::string& warning) { std::cerr << "WARN[0000] " << warning << "\n"; }

}  // namespace

const compose::LoadOptions& compose_flags() { return load_options(); }

void add_services(CLI::App& sub, std::vector<std::string>& services) {
  sub.add_option("services", services, "SERVICE...");
}

llvm::Expected<compose::Project> ComposeContext::load() const {
  return compose::load_project_here(flags, print_warning);
}

llvm::Expected<int> ComposeContext::run(
    const std::function<llvm::Expected<int>(compose::Session&)>& body) const {
  KILN_TRY(auto session, compose::open_session(globals.root, flags, print_warning));
  return body(session);
}

llvm::Expected<int> exit_code(llvm::Error err) {
  if (err) {
    return std::move(err);
  }
  return 0;
}

struct PrintedComposeEvents::Block {
  bool tty = ::isatty(2);
  std::mutex mu;
  compose::StatusBlock lines;
  /// Lines of the block on screen (header included): the cursor is below them.
  size_t drawn = 0;

  void redraw() {
    std::string out;
    if (drawn > 0) {
      out += "\033[" + std::to_string(drawn) + "A";  // back to the block's first line
    }
    std::vector<std::string> text = lines.lines();
    for (const auto& line : text) {
      out += "\033[2K" + line + "\n";
    }
    drawn = text.size();
    std::cerr << out;
    std::cerr.flush();
  }
};

PrintedComposeEvents::PrintedComposeEvents() : block_(std::make_unique<Block>()) {}
PrintedComposeEvents::~PrintedComposeEvents() = default;

void PrintedComposeEvents::status(const std::string& kind, const std::string& name,
                                  const std::string& status) {
  std::lock_guard lock(block_->mu);
  if (!block_->tty) {
    std::cerr << compose::plain_status_line(kind, name, status);
  } else if (kind == "Image" || kind == "Service") {
    if (!compose::status_in_progress(status)) {
      std::cerr << compose::marked_status_line(kind, name, status);
    }
  } else {
    block_->lines.set(kind, name, status);
    block_->redraw();
  }
}

void PrintedComposeEvents::end_block() {
  std::lock_guard lock(block_->mu);
  block_->lines.clear();
  block_->drawn = 0;
}

void PrintedComposeEvents::warning(const std::string& message) {
  std::lock_guard lock(block_->mu);
  std::cerr << "WARN[0000] " << message << "\n";
  block_->lines.clear();  // the block is above the warning now
  block_->drawn = 0;
}

namespace {

struct ConfigFlags {
  bool services = false;
  bool volumes = false;
  bool images = false;
  bool quiet = false;
  std::string format = "yaml";
  std::string output;
};

ComposeCommand<ConfigFlags> config_reg{
    "config", "Parse, resolve and render compose file in canonical format",
    [](CLI::App& sub, ConfigFlags& f) {
      sub.add_flag("--services", f.services, "Print the service names, one per line");
      sub.add_flag("--volumes", f.volumes, "Print the volume names, one per line");
      sub.add_flag("--images", f.images, "Print the image names, one per line");
      sub.add_flag("-q,--quiet", f.quiet, "Only validate the configuration, don't print anything");
      sub.add_option("--format", f.format, "Format the output. Values: [yaml | json]");
      sub.add_option("-o,--output", f.output, "Save to file (default to stdout)");
    },
    [](ConfigFlags& f, const ComposeContext& ctx) -> llvm::Expected<int> {
      if (f.format != "yaml" && f.format != "json") {
        return llvm::make_error<UsageError>("unsupported format " + quote(f.format) +
                                            " (valid: yaml, json)");
      }
      KILN_TRY(auto project, ctx.load());
      if (f.quiet) {
        return 0;
      }
      auto part = f.images     ? compose::ConfigPart::images
                  : f.services ? compose::ConfigPart::services
                  : f.volumes  ? compose::ConfigPart::volumes
                               : compose::ConfigPart::model;
      KILN_TRY(std::string text, compose::config_text(project, part, f.format == "json"));
      if (f.output.empty()) {
        std::cout << text;
        return 0;
      }
      KILN_CHECK(write_file_atomic(f.output, text));  // all or nothing, also on a full disk
      return 0;
    }};

CommandGroup compose_reg{
    "compose", "Define and run multi-container applications", 30, [](CLI::App& sub) {
      compose::LoadOptions& flags = load_options();
      add_list(sub, "-f,--file", flags.files, "Compose configuration files");
      sub.add_option("-p,--project-name", flags.project_name, "Project name");
      add_list(sub, "--env-file", flags.env_files, "Specify an alternate environment file");
      add_list(sub, "--profile", flags.profiles, "Specify a profile to enable");
      sub.add_option("--project-directory", flags.project_directory,
                     "Specify an alternate working directory (default: the first compose file's)");
    }};

}  // namespace
}  // namespace kiln::cli
