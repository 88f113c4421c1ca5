// A service of a loaded project as the commands use it: its image, build,
// dependencies, scale and config hash, and the container request for its
// replica N, with docker compose v2's names and labels:
//   containers <project>-<service>-<n> (or container_name), network
//   <project>_default, volumes <project>_<vol>, built images <project>-<service>,
//   labels com.docker.compose.{project,service,container-number,config-hash,
//   oneoff,project.working_dir,project.config_files,version,image,depends_on}.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include <llvm/Support/Error.h>

#include "compose/engine.h"
#include "compose/project.h"

namespace kiln::compose {

inline constexpr const char* kProjectLabel = "com.docker.compose.project";
inline constexpr const char* kServiceLabel = "com.docker.compose.service";
inline constexpr const char* kNumberLabel = "com.docker.compose.container-number";
inline constexpr const char* kHashLabel = "com.docker.compose.config-hash";
inline constexpr const char* kOneoffLabel = "com.docker.compose.oneoff";
inline constexpr const char* kImageLabel = "com.docker.compose.image";
inline constexpr const char* kNetworkLabel = "com.docker.compose.network";
inline constexpr const char* kVolumeLabel = "com.docker.compose.volume";
/// The compose version kiln's labels claim (docker compose v2's format).
inline constexpr const char* kComposeVersion = "2.29.0";

struct Dependency {
  std::string service;
  /// service_started, service_healthy or service_completed_successfully.
  std::string condition = "service_started";
  bool required = true;
  bool restart = false;
};

struct BuildSpec {
  std::string context;
  std::string dockerfile;  ///< absolute
  std::string target;
  std::map<std::string, std::string> args;
  std::map<std::string, std::string> labels;
  std::vector<std::string> cache_from;
  std::vector<std::string> cache_to;
  bool no_cache = false;
  bool pull = false;
};

struct ServiceConfig {
  std::string name;
  /// The image its containers run: `image:`, else <project>-<service>.
  std::string image;
  /// Whether `image:` was given (else the image is compose's own, for --rmi local).
  bool named_image = false;
  std::optional<BuildSpec> build;
  int replicas = 1;
  std::string container_name;
  std::vector<Dependency> depends_on;
  /// sha256 of the service's normalized model (without build, scale and
  /// depends_on): a container with another hash is recreated.
  std::string hash;
  std::optional<oci::Healthcheck> healthcheck;
  /// The normalized model.
  Node model;
};

/// The project's services, in dependency order (a service after those it depends
/// on). Fails on a dependency cycle.
llvm::Expected<std::vector<ServiceConfig>> project_services(const Project& project);

/// The container name of replica `number` of `service`.
std::string container_name(const Project& project, const ServiceConfig& service, int number);

/// The request for replica `number` of `service` (`image_id` goes into the hash
/// label, so that a rebuilt image recreates the container).
llvm::Expected<ContainerRequest> container_request(const Project& project,
                                                   const ServiceConfig& service, int number,
                                                   const std::string& image_id);

/// The full name of the project's network `key` (`name:` or <project>_<key>).
std::string network_name(const Project& project, const std::string& key);
/// The full name of the project's volume `key`.
std::string volume_name(const Project& project, const std::string& key);

/// The config hash a container of `service` carries when it runs `image_id`.
std::string service_hash(const ServiceConfig& service, const std::string& image_id);

}  // namespace kiln::compose
