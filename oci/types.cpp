#include "oci/types.h"

#include "oci/json_io.h"
#include "oci/media_types.h"
#include "support/error.h"

namespace kiln::oci {

using detail::Json;
using detail::ObjectReader;

namespace {

llvm::Expected<Platform> platform_from(const Json& j, const std::string& path) {
  if (!j.is_object()) {
    return make_error(quote(path) + ": expected an object");
  }
  ObjectReader r(j, path);
  Platform p;
  if (auto err = r.string("architecture", p.architecture)) {
    return err;
  }
  if (auto err = r.string("os", p.os)) {
    return err;
  }
  if (auto err = r.string("os.version", p.os_version)) {
    return err;
  }
  if (auto err = r.strings("os.features", p.os_features)) {
    return err;
  }
  if (auto err = r.string("variant", p.variant)) {
    return err;
  }
  return p;
}

Json platform_json(const Platform& p) {
  Json j = Json::object();
  j["architecture"] = p.architecture;
  j["os"] = p.os;
  if (!p.os_version.empty()) {
    j["os.version"] = p.os_version;
  }
  if (!p.os_features.empty()) {
    j["os.features"] = p.os_features;
  }
  if (!p.variant.empty()) {
    j["variant"] = p.variant;
  }
  return j;
}

llvm::Error read_descriptor_fields(const ObjectReader& r, Descriptor& d) {
  if (auto err = r.string("mediaType", d.media_type)) {
    return err;
  }
  const Json* digest = r.find("digest");
  if (!digest) {
    return r.fail("digest", "missing");
  }
  if (!digest->is_string()) {
    return r.fail("digest", "expected a string");
  }
  auto parsed = Digest::parse(digest->get<std::string>());
  if (!parsed) {
    return with_context(parsed.takeError(), quote(r.path_of("digest")));
  }
  d.digest = *parsed;
  if (!r.find("size")) {
    return r.fail("size", "missing");
  }
  if (auto err = r.int64("size", d.size)) {
    return err;
  }
  if (d.size < 0) {
    return r.fail("size", "must not be negative");
  }
  if (auto err = r.strings("urls", d.urls)) {
    return err;
  }
  if (auto err = r.string_map("annotations", d.annotations)) {
    return err;
  }
  if (const Json* p = r.find("platform")) {
    auto platform = platform_from(*p, r.path_of("platform"));
    if (!platform) {
      return platform.takeError();
    }
    d.platform = std::move(*platform);
  }
  return r.string("artifactType", d.artifact_type);
}

llvm::Expected<Descriptor> descriptor_from(const Json& j, const std::string& path) {
  if (!j.is_object()) {
    return make_error(quote(path) + ": expected an object");
  }
  Descriptor d;
  if (auto err = read_descriptor_fields(ObjectReader(j, path), d)) {
    return err;
  }
  return d;
}

Json descriptor_json(const Descriptor& d) {
  Json j = Json::object();
  j["mediaType"] = d.media_type;
  j["digest"] = d.digest.str();
  j["size"] = d.size;
  if (!d.urls.empty()) {
    j["urls"] = d.urls;
  }
  if (!d.annotations.empty()) {
    j["annotations"] = d.annotations;
  }
  if (d.platform) {
    j["platform"] = platform_json(*d.platform);
  }
  if (!d.artifact_type.empty()) {
    j["artifactType"] = d.artifact_type;
  }
  return j;
}

llvm::Expected<std::vector<Descriptor>> descriptors_from(const ObjectReader& r, const char* key) {
  std::vector<Descriptor> out;
  const Json* list = r.find(key);
  if (!list) {
    return out;
  }
  if (!list->is_array()) {
    return r.fail(key, "expected an array");
  }
  for (size_t i = 0; i < list->size(); ++i) {
    auto d = descriptor_from((*list)[i], r.path_of(key) + "[" + std::to_string(i) + "]");
    if (!d) {
      return d.takeError();
    }
    out.push_back(std::move(*d));
  }
  return out;
}

// The members shared by manifests and indexes: schemaVersion, mediaType,
// artifactType, subject, annotations.
template <typename T>
llvm::Error read_common(const ObjectReader& r, T& out) {
  int64_t version = 0;
  if (auto err = r.int64("schemaVersion", version)) {
    return err;
  }
  if (version != 2) {
    return r.fail("schemaVersion", "expected 2, got " + std::to_string(version));
  }
  if (auto err = r.string("mediaType", out.media_type)) {
    return err;
  }
  if (auto err = r.string("artifactType", out.artifact_type)) {
    return err;
  }
  if (const Json* s = r.find("subject")) {
    auto subject = descriptor_from(*s, "subject");
    if (!subject) {
      return subject.takeError();
    }
    out.subject = std::move(*subject);
  }
  return r.string_map("annotations", out.annotations);
}

llvm::Expected<Json> parse_object(llvm::StringRef json, llvm::StringRef what) {
  auto j = detail::parse_json(json, what);
  if (!j) {
    return j.takeError();
  }
  if (!j->is_object()) {
    return make_error(what + ": expected a JSON object");
  }
  return j;
}

}  // namespace

std::string Platform::str() const {
  std::string out = os + "/" + architecture;
  if (!variant.empty()) {
    out += "/" + variant;
  }
  return out;
}

llvm::Expected<Platform> parse_platform(llvm::StringRef text) {
  llvm::SmallVector<llvm::StringRef, 4> parts;
  text.split(parts, '/');
  if (parts.size() < 2 || parts.size() > 3 || parts[0].empty() || parts[1].empty() ||
      (parts.size() == 3 && parts[2].empty())) {
    return llvm::make_error<UsageError>("invalid platform " + quote(text) +
                                        ": expected 'os/arch[/variant]'");
  }
  Platform p;
  p.os = parts[0].lower();
  p.architecture = parts[1].lower();
  if (parts.size() == 3) {
    p.variant = parts[2].lower();
  }
  return p;
}

Platform host_platform() {
  Platform p;
  p.os = "linux";
#if defined(__aarch64__)
  p.architecture = "arm64";
  p.variant = "v8";
#else
  p.architecture = "amd64";
#endif
  return p;
}

Platform normalize_platform(Platform p) {
  p.os = llvm::StringRef(p.os).lower();
  std::string arch = llvm::StringRef(p.architecture).lower();
  std::string variant = llvm::StringRef(p.variant).lower();
  if (arch == "x86_64" || arch == "x86-64" || arch == "amd64") {
    arch = "amd64";
    if (variant == "v1") {
      variant.clear();
    }
  } else if (arch == "aarch64" || arch == "arm64") {
    arch = "arm64";
    if (variant == "8" || variant == "v8") {
      variant.clear();
    }
  } else if (arch == "armhf") {
    arch = "arm";
    variant = "v7";
  } else if (arch == "armel") {
    arch = "arm";
    variant = "v6";
  } else if (arch == "arm") {
    if (variant.empty() || variant == "7") {
      variant = "v7";
    } else if (variant == "5" || variant == "6" || variant == "8") {
      variant = "v" + variant;
    }
  } else if (arch == "i386" || arch == "i686") {
    arch = "386";
  }
  p.architecture = arch;
  p.variant = variant;
  return p;
}

llvm::Expected<Platform> parse_normalized_platform(llvm::StringRef text) {
  auto p = parse_platform(text);
  if (!p) {
    return p.takeError();
  }
  return normalize_platform(std::move(*p));
}

bool platform_matches(const Platform& wanted, const Platform& candidate) {
  if (wanted.os != candidate.os || wanted.architecture != candidate.architecture) {
    return false;
  }
  if (wanted.variant.empty() || wanted.variant == candidate.variant) {
    return true;
  }
  return wanted.architecture == "arm64" && wanted.variant == "v8" && candidate.variant.empty();
}

llvm::Expected<Descriptor> parse_descriptor(llvm::StringRef json) {
  auto j = parse_object(json, "invalid descriptor");
  if (!j) {
    return j.takeError();
  }
  Descriptor d;
  if (auto err = read_descriptor_fields(ObjectReader(*j, ""), d)) {
    return with_context(std::move(err), "invalid descriptor");
  }
  return d;
}

llvm::Expected<Manifest> parse_manifest(llvm::StringRef json) {
  auto j = parse_object(json, "invalid manifest");
  if (!j) {
    return j.takeError();
  }
  ObjectReader r(*j, "");
  Manifest m;
  auto fail = [](llvm::Error err) { return with_context(std::move(err), "invalid manifest"); };
  if (auto err = read_common(r, m)) {
    return fail(std::move(err));
  }
  if (!m.media_type.empty() && !is_manifest(m.media_type)) {
    return fail(r.fail("mediaType", "unexpected media type " + quote(m.media_type)));
  }
  const Json* config = r.find("config");
  if (!config) {
    return fail(r.fail("config", "missing"));
  }
  auto c = descriptor_from(*config, "config");
  if (!c) {
    return fail(c.takeError());
  }
  m.config = std::move(*c);
  auto layers = descriptors_from(r, "layers");
  if (!layers) {
    return fail(layers.takeError());
  }
  m.layers = std::move(*layers);
  return m;
}

llvm::Expected<Index> parse_index(llvm::StringRef json) {
  auto j = parse_object(json, "invalid index");
  if (!j) {
    return j.takeError();
  }
  ObjectReader r(*j, "");
  Index index;
  auto fail = [](llvm::Error err) { return with_context(std::move(err), "invalid index"); };
  if (auto err = read_common(r, index)) {
    return fail(std::move(err));
  }
  if (!index.media_type.empty() && !is_index(index.media_type)) {
    return fail(r.fail("mediaType", "unexpected media type " + quote(index.media_type)));
  }
  auto manifests = descriptors_from(r, "manifests");
  if (!manifests) {
    return fail(manifests.takeError());
  }
  index.manifests = std::move(*manifests);
  return index;
}

std::string to_json(const Descriptor& descriptor) {
  return detail::dump_go(descriptor_json(descriptor));
}

std::string to_json(const Manifest& m) {
  Json j = Json::object();
  j["schemaVersion"] = m.schema_version;
  if (!m.media_type.empty()) {
    j["mediaType"] = m.media_type;
  }
  if (!m.artifact_type.empty()) {
    j["artifactType"] = m.artifact_type;
  }
  j["config"] = descriptor_json(m.config);
  j["layers"] = Json::array();
  for (const auto& layer : m.layers) {
    j["layers"].push_back(descriptor_json(layer));
  }
  if (m.subject) {
    j["subject"] = descriptor_json(*m.subject);
  }
  if (!m.annotations.empty()) {
    j["annotations"] = m.annotations;
  }
  return detail::dump_go(j);
}

std::string to_json(const Index& index) {
  Json j = Json::object();
  j["schemaVersion"] = index.schema_version;
  if (!index.media_type.empty()) {
    j["mediaType"] = index.media_type;
  }
  if (!index.artifact_type.empty()) {
    j["artifactType"] = index.artifact_type;
  }
  j["manifests"] = Json::array();
  for (const auto& d : index.manifests) {
    j["manifests"].push_back(descriptor_json(d));
  }
  if (index.subject) {
    j["subject"] = descriptor_json(*index.subject);
  }
  if (!index.annotations.empty()) {
    j["annotations"] = index.annotations;
  }
  return detail::dump_go(j);
}

Descriptor describe(llvm::StringRef media_type, llvm::StringRef bytes) {
  Descriptor d;
  d.media_type = media_type.str();
  d.digest = Digest::of(bytes);
  d.size = static_cast<int64_t>(bytes.size());
  return d;
}

}  // namespace kiln::oci
