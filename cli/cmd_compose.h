// `kiln compose`: what its verbs share (the flags before the verb, the session
// they open, the printing of compose's events and logs) and the registry each
// cli/cmd_compose_*.cpp adds its verbs to.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <llvm/Support/Error.h>
#include <CLI/CLI.hpp>

#include "cli/command.h"
#include "compose/events.h"
#include "compose/logs.h"
#include "compose/ops.h"
#include "compose/session.h"

namespace kiln::cli {

/// What every compose verb gets: the global options and the flags of `kiln
/// compose [-f FILE...] [-p NAME] [--env-file F] [--profile P]
/// [--project-directory D]`.
struct ComposeContext {
  const GlobalOptions& globals;
  const compose::LoadOptions& flags;

  /// Loads the project; warnings go to stderr as docker compose prints them.
  llvm::Expected<compose::Project> load() const;
  /// Opens the project and kiln's engine over the store, and runs `body` on them.
  llvm::Expected<int> run(const std::function<llvm::Expected<int>(compose::Session&)>& body) const;
};

/// 0, or the error.
llvm::Expected<int> exit_code(llvm::Error err);

/// The flags of `kiln compose` given before the verb.
const compose::LoadOptions& compose_flags();

/// Registers `kiln compose VERB`: as Command, with the compose flags in `run`'s
/// context.
template <typename Flags>
struct ComposeCommand : Command<Flags> {
  using Run = std::function<llvm::Expected<int>(Flags& flags, const ComposeContext& ctx)>;
  ComposeCommand(const std::string& verb, std::string description,
                 typename Command<Flags>::Declare declare, Run run)
      : Command<Flags>("compose " + verb, std::move(description), std::move(declare),
                       [run](Flags& flags, const GlobalOptions& globals) {
                         return run(flags, ComposeContext{globals, compose_flags()});
                       }) {}
};

/// A compose verb's body that runs `body(flags, session)` in the project's session
/// (ComposeContext::run).
template <typename Flags, typename Body>
typename ComposeCommand<Flags>::Run in_session(Body body) {
  return [body](Flags& flags, const ComposeContext& ctx) {
    return ctx.run([&](compose::Session& session) { return body(flags, session); });
  };
}

/// A compose verb's SERVICE... positional.
void add_services(CLI::App& sub, std::vector<std::string>& services);

/// Prints compose's events on stderr as docker compose does. On a terminal, the
/// networks, volumes and containers form one block redrawn in place under a
/// "[+] Running N/M" header (N of M done; " ✔ Container p-web-1  Started",
/// " ⠿ " while in progress); images and services (builds and pulls, whose own
/// output comes between) get a line each. Otherwise one line per event:
/// " Container p-web-1  Started". Thread-safe.
class PrintedComposeEvents : public compose::ComposeEvents {
 public:
  PrintedComposeEvents();
  ~PrintedComposeEvents() override;
  void status(const std::string& kind, const std::string& name, const std::string& status) override;
  void warning(const std::string& message) override;
  /// Ends the block: the next event starts a new one below whatever is printed
  /// after this call (the containers' output).
  void end_block();

 private:
  struct Block;
  std::unique_ptr<Block> block_;
};

struct ComposeLogOptions {
  compose::LogOptions read;
  bool timestamps = false;
  bool no_prefix = false;
  bool no_color = false;
};

/// Prints the logs of `containers` (docker compose's "web-1  | line" prefixes,
/// one colour per service on a terminal; "web-1 exited with code 0" with
/// `report_exit`). `stop` (optional) ends a follow early.
void print_compose_logs(compose::Engine& engine,
                        const std::vector<compose::ContainerInfo>& containers,
                        const ComposeLogOptions& options, const std::function<bool()>& stop);

}  // namespace kiln::cli
