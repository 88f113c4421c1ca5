// What compose's commands report while they work. compose/ never prints: cli/
// shows each event as docker compose does (" ✔ Container p-web-1  Started").
#pragma once

#include <string>

namespace kiln::compose {

class ComposeEvents {
 public:
  virtual ~ComposeEvents() = default;
  /// `kind` ("Network", "Volume", "Container", "Image", "Service") `name` reached
  /// `status` ("Created", "Started", "Running", "Recreated", "Healthy", "Stopped",
  /// "Removed", "Built", "Waiting", "Exited", "Killed", "Restarted", "Error").
  virtual void status(const std::string& kind, const std::string& name,
                      const std::string& status) = 0;
  /// A warning docker compose would print (orphan containers, ...).
  virtual void warning(const std::string& message) = 0;
};

}  // namespace kiln::compose
