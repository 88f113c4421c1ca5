#include "builder/build_input.h"

#include <cstdlib>

#include "builder/build_platforms.h"
#include "frontend/dockerignore.h"
#include "support/error.h"
#include "support/fs.h"

namespace kiln::builder {

std::string default_dockerfile(const std::string& context) {
  std::string upper = fs::join(context, "Dockerfile");
  std::string lower = fs::join(context, "dockerfile");
  return !fs::exists(upper) && fs::exists(lower) ? lower : upper;
}

llvm::Expected<std::map<std::string, std::string>> parse_build_args(
    const std::vector<std::string>& flags) {
  std::map<std::string, std::string> out;
  for (const std::string& flag : flags) {
    auto [key, value] = llvm::StringRef(flag).split('=');
    if (key.empty()) {
      return llvm::make_error<UsageError>("invalid build arg " + quote(flag));
    }
    if (flag.find('=') != std::string::npos) {
      out[key.str()] = value.str();
    } else if (const char* env = std::getenv(key.str().c_str())) {
      out[key.str()] = env;  // `--build-arg NAME` takes the value from the environment.
    }
  }
  return out;
}

llvm::Expected<LoadedDockerfile> load_dockerfile(const DockerfileFlags& flags) {
  std::string path = flags.file.empty() ? default_dockerfile(flags.context) : flags.file;
  auto text = frontend::read_dockerfile(path);
  if (!text) {
    return text.takeError();
  }
  std::string name = path == "-" ? "Dockerfile" : llvm::StringRef(path).rsplit('/').second.str();
  if (name.empty()) {
    name = path;
  }
  auto dockerfile = frontend::parse_dockerfile(*text, name);
  if (!dockerfile) {
    return dockerfile.takeError();
  }
  LoadedDockerfile input{path, std::move(*dockerfile), {}};
  input.lower.target = flags.target;
  auto args = parse_build_args(flags.build_args);
  if (!args) {
    return args.takeError();
  }
  input.lower.build_args = std::move(*args);
  for (const auto& bc : flags.build_contexts) {
    auto [context_name, value] = llvm::StringRef(bc).split('=');
    input.lower.build_contexts[context_name.str()] = value.str();
  }
  auto ignore = frontend::load_dockerignore(flags.context, path == "-" ? std::string() : path);
  if (!ignore) {
    return ignore.takeError();
  }
  input.lower.context_excludes = std::move(*ignore);
  return input;
}

llvm::Expected<std::string> dump_llb(const LoadedDockerfile& input,
                                     const std::vector<std::string>& platforms) {
  auto targets = target_platforms(platforms);
  if (!targets) {
    return targets.takeError();
  }
  auto result = lower_for_platforms(input.dockerfile, input.lower, *targets);
  if (!result) {
    return result.takeError();
  }
  return result->definition.to_json();
}

}  // namespace kiln::builder
