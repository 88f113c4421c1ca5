// Where the kiln root (the store) is when a command does not say.
#pragma once

#include <string>

namespace kiln::cache {

/// The kiln root: `flag_value` (--root) when given, else $KILN_ROOT, both made
/// absolute against the working directory (the store's paths go into mounts and
/// runtime bundles that other processes read from other directories); else
/// /var/lib/kiln for root, $XDG_DATA_HOME/kiln, or $HOME/.local/share/kiln.
std::string store_root(const std::string& flag_value);

}  // namespace kiln::cache
