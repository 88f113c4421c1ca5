// `kiln compose ...`: the shared flags, the verbs' registry, compose's events
// as docker compose prints them, and `config`.
#include "cli/cmd_compose.h"

#include <unistd.h>

#include <iostream>
#include <mutex>

#include "compose/status_text.h"
#include "support/error.h"

namespace kiln::cli {
namespace {

struct VerbSpec {
  std::string name;
  std::string description;
  ComposeSetup setup;
};

std::vector<VerbSpec>& verbs() {
  static std::vector<VerbSpec> registry;
  return registry;
}

void print_warning(const std::string& warning) { std::cerr << "WARN[0000] " << warning << "\n"; }

}  // namespace

ComposeVerb::ComposeVerb(std::string name, std::string description, ComposeSetup setup) {
  verbs().push_back({std::move(name), std::move(description), std::move(setup)});
}

llvm::Expected<compose::Project> ComposeContext::load() const {
  return compose::load_project_here(*flags, print_warning);
}

llvm::Expected<int> ComposeContext::run(
    const std::function<llvm::Expected<int>(compose::Session&)>& body) const {
  auto session = compose::open_session(globals.root, *flags, print_warning);
  if (!session) {
    return session.takeError();
  }
  return body(*session);
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

CommandBody setup_config(CLI::App& sub, const ComposeContext& ctx) {
  auto f = std::make_shared<ConfigFlags>();
  sub.add_flag("--services", f->services, "Print the service names, one per line");
  sub.add_flag("--volumes", f->volumes, "Print the volume names, one per line");
  sub.add_flag("--images", f->images, "Print the image names, one per line");
  sub.add_flag("-q,--quiet", f->quiet, "Only validate the configuration, don't print anything");
  sub.add_option("--format", f->format, "Format the output. Values: [yaml | json]");
  sub.add_option("-o,--output", f->output, "Save to file (default to stdout)");
  return [f, ctx]() -> llvm::Expected<int> {
    if (f->format != "yaml" && f->format != "json") {
      return llvm::make_error<UsageError>("unsupported format " + quote(f->format) +
                                          " (valid: yaml, json)");
    }
    auto project = ctx.load();
    if (!project) {
      return project.takeError();
    }
    if (f->quiet) {
      return 0;
    }
    auto part = f->images     ? compose::ConfigPart::images
                : f->services ? compose::ConfigPart::services
                : f->volumes  ? compose::ConfigPart::volumes
                              : compose::ConfigPart::model;
    auto text = compose::config_text(*project, part, f->format == "json");
    if (!text) {
      return text.takeError();
    }
    if (f->output.empty()) {
      std::cout << *text;
      return 0;
    }
    FILE* out = std::fopen(f->output.c_str(), "w");
    if (!out) {
      return make_io_error("open", f->output, errno);
    }
    std::fwrite(text->data(), 1, text->size(), out);
    std::fclose(out);
    return 0;
  };
}

ComposeVerb config_verb{"config", "Parse, resolve and render compose file in canonical format",
                        setup_config};

CommandBody setup_compose(CLI::App& sub, const GlobalOptions& globals) {
  ComposeContext context{globals, std::make_shared<compose::LoadOptions>()};
  compose::LoadOptions& flags = *context.flags;
  auto each = [](CLI::Option* o) { o->allow_extra_args(false); };
  each(sub.add_option("-f,--file", flags.files, "Compose configuration files"));
  sub.add_option("-p,--project-name", flags.project_name, "Project name");
  each(sub.add_option("--env-file", flags.env_files, "Specify an alternate environment file"));
  each(sub.add_option("--profile", flags.profiles, "Specify a profile to enable"));
  sub.add_option("--project-directory", flags.project_directory,
                 "Specify an alternate working directory (default: the first compose file's)");
  sub.require_subcommand(1);
  auto bodies = std::make_shared<std::vector<std::pair<CLI::App*, CommandBody>>>();
  for (auto& verb : verbs()) {
    CLI::App* child = sub.add_subcommand(verb.name, verb.description);
    bodies->emplace_back(child, verb.setup(*child, context));
  }
  return [bodies]() -> llvm::Expected<int> {
    for (auto& [child, body] : *bodies) {
      if (child->parsed()) {
        return body();
      }
    }
    return 1;
  };
}

CommandRegistration reg{
    {"compose", "Define and run multi-container applications", setup_compose, 30}};

}  // namespace
}  // namespace kiln::cli
