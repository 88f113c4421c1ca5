// Helpers shared by the lowering tests: a fake ImageMetaResolver, lowering from
// text, the printed form of errors and a stable dump of a LowerResult.
#pragma once

#include <map>
#include <string>

#include <nlohmann/json.hpp>

#include "frontend/instructions.h"
#include "frontend/lower.h"
#include "oci/image_config.h"
#include "support/error.h"

namespace kiln::frontend::testing {

/// Knows a few images; anything else fails like a registry would.
class FakeResolver : public ImageMetaResolver {
 public:
  FakeResolver() {
    const std::string path =
        R"("PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin")";
    configs_["docker.io/library/alpine:3.20"] =
        R"({"architecture":"amd64","os":"linux","config":{"Env":[)" + path +
        R"(],"Cmd":["/bin/sh"]},"rootfs":{"type":"layers","diff_ids":["sha256:)" +
        std::string(64, 'a') +
        R"("]},"history":[{"created":"2024-01-01T00:00:00Z","created_by":"/bin/sh -c #(nop) ADD file:abc in / "}]})";
    configs_["docker.io/library/golang:1.22"] =
        R"({"architecture":"amd64","os":"linux","config":{"Env":[)" + path +
        R"(,"GOPATH=/go"],"WorkingDir":"/go","User":"gopher"},"rootfs":{"type":"layers","diff_ids":[]}})";
    configs_["docker.io/library/onbuild:1"] =
        R"({"architecture":"amd64","os":"linux","config":{"Env":[)" + path +
        R"(],"Cmd":["app"],"OnBuild":["RUN echo triggered","COPY . /app/"]},"rootfs":{"type":"layers","diff_ids":[]}})";
  }

  llvm::Expected<ImageMeta> resolve(const std::string& ref, const std::string& platform) override {
    ++calls;
    auto it = configs_.find(ref);
    if (it == configs_.end()) {
      return make_error(ref + ": not found");
    }
    return ImageMeta{it->second, Digest::of("manifest of " + ref)};
  }

  int calls = 0;

 private:
  std::map<std::string, std::string> configs_;
};

/// Parses `text` as "Dockerfile" and lowers it.
inline llvm::Expected<LowerResult> lower_text(const std::string& text,
                                              const LowerOptions& options) {
  auto df = parse_dockerfile(text, "Dockerfile");
  if (!df) {
    return df.takeError();
  }
  return lower(*df, options);
}

/// The error as the CLI shows it: the excerpt for a SourceError, else "error: ...".
inline std::string printed_error(llvm::Error err) {
  std::string out;
  llvm::handleAllErrors(
      std::move(err), [&](const SourceError& e) { out = format_source_error(e); },
      [&](const llvm::ErrorInfoBase& e) { out = "error: " + e.message() + "\n"; });
  return out;
}

/// A stable JSON dump of everything a lowering produces.
inline std::string dump_result(const LowerResult& result) {
  using Json = nlohmann::ordered_json;
  Json j;
  j["definition"] = Json::parse(result.definition.to_json());
  Json stages = Json::array();
  for (const auto& s : result.stages) {
    stages.push_back(Json{{"name", s.name},
                          {"index", s.index},
                          {"vertex", s.vertex->digest().str()},
                          {"config", Json::parse(oci::to_json(s.config))}});
  }
  j["stages"] = std::move(stages);
  j["target"] = result.target;
  Json reads = Json::array();
  for (const auto& r : result.context_reads) {
    reads.push_back(Json{{"vertex", r.vertex->digest().str()}, {"paths", r.paths}});
  }
  j["context_reads"] = std::move(reads);
  j["unused_build_args"] = result.unused_build_args;
  return j.dump(2) + "\n";
}

}  // namespace kiln::frontend::testing
