// Seccomp filters for containers: docker's default profile as data kiln owns, and
// docker-format (or OCI-format) profile files turned into the OCI runtime spec's
// `linux.seccomp` object.
#pragma once

#include <string>

#include <llvm/ADT/StringRef.h>
#include <llvm/Support/Error.h>

#include "runtime/process_spec.h"

namespace kiln::runtime {

/// `linux.seccomp` for docker's default profile (moby profiles/seccomp/default.json)
/// resolved for this machine's architecture and docker's default capability set: an
/// allow-list whose default action fails a call with EPERM, so `unshare`, `mount`,
/// `keyctl`, `bpf`, `setns`, … fail. JSON text; pure.
std::string docker_default_seccomp();

/// The `linux.seccomp` JSON text for the profile `text`, like `docker run
/// --security-opt seccomp=FILE`: a docker profile (`archMap`, `names`, `includes` /
/// `excludes` by architecture, capability and minimum kernel) is resolved for this
/// machine's architecture and docker's default capabilities; an OCI object
/// (`architectures`) passes through. Fails when `text` is not a JSON object with a
/// `defaultAction`.
llvm::Expected<std::string> seccomp_from_profile(llvm::StringRef text);

/// The policy for docker's `--security-opt seccomp=VALUE` (or `seccomp:VALUE`):
/// VALUE "unconfined", or the path of a profile file (read and converted with
/// seccomp_from_profile). Fails naming the file when it cannot be read or is not a
/// profile, with a UsageError for other options.
llvm::Expected<Seccomp> parse_security_opt(llvm::StringRef option);

}  // namespace kiln::runtime
