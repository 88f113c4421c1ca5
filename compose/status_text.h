// compose's events as docker compose shows them: the status words' marks, the
// one-line statuses and, on a terminal, the block of networks, volumes and
// containers under its "[+] Running N/M" header (the text only: cli/ moves the
// cursor and clears the lines).
#pragma once

#include <string>
#include <vector>

namespace kiln::compose {

/// Whether `status` is on its way ("Waiting", "Creating", ...: a word in -ing);
/// "Running" is where up ends, so it is not.
bool status_in_progress(const std::string& status);

/// The mark before a status on a terminal: " ✘ " for "Error", " ⠿ " while in
/// progress, " ✔ " otherwise.
const char* status_mark(const std::string& status);

/// A status off a terminal, one line: " Container p-web-1  Started\n".
std::string plain_status_line(const std::string& kind, const std::string& name,
                              const std::string& status);

/// A status with its mark, one line (images and services on a terminal):
/// " ✔ Image app  Built\n".
std::string marked_status_line(const std::string& kind, const std::string& name,
                               const std::string& status);

/// The statuses of one block (networks, volumes, containers), in the order first
/// set. Not thread-safe.
class StatusBlock {
 public:
  /// Sets the status of `kind` `name`: its line, or a new one at the end.
  void set(const std::string& kind, const std::string& name, const std::string& status);
  /// Forgets every line: the next set() starts a new block.
  void clear() { lines_.clear(); }
  /// The block's lines, without their newlines: "[+] Running N/M" (N of the M
  /// objects done), then for each object its mark, "Kind name" padded to the
  /// longest plus two spaces, and its status.
  std::vector<std::string> lines() const;

 private:
  struct Line {
    std::string kind;
    std::string name;
    std::string status;
  };
  std::vector<Line> lines_;
};

}  // namespace kiln::compose
