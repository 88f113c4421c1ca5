#include "oci/reference.h"

#include <regex>

#include "support/error.h"

namespace kiln::oci {

namespace {

// The grammar of github.com/distribution/reference (regexp.go), verbatim.
const std::string kAlnum = "[a-z0-9]+";
const std::string kSeparator = "(?:[._]|__|[-]+)";
const std::string kPathComponent = kAlnum + "(?:" + kSeparator + kAlnum + ")*";
const std::string kDomainComponent = "(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])";
const std::string kIpv6 = "\\[(?:[a-fA-F0-9:]+)\\]";
const std::string kDomainName = kDomainComponent + "(?:\\." + kDomainComponent + ")*";
const std::string kHost = "(?:" + kDomainName + "|" + kIpv6 + ")";
const std::string kDomainAndPort = kHost + "(?::[0-9]+)?";
const std::string kTag = "[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}";
const std::string kDigest =
    "[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*[:][0-9a-fA-F]{32,}";
const std::string kRemoteName = kPathComponent + "(?:/" + kPathComponent + ")*";
const std::string kName = "(?:" + kDomainAndPort + "/)?" + kRemoteName;

const std::regex& reference_regex() {
  static const std::regex re("^(" + kName + ")(?::(" + kTag + "))?(?:@(" + kDigest + "))?$");
  return re;
}

const std::regex& anchored_name_regex() {
  static const std::regex re("^(?:(" + kDomainAndPort + ")/)?(" + kRemoteName + ")$");
  return re;
}

constexpr size_t kNameTotalLengthMax = 255;
constexpr llvm::StringLiteral kLegacyDefaultDomain = "index.docker.io";
constexpr llvm::StringLiteral kOfficialRepoPrefix = "library/";

llvm::Error usage_error(const llvm::Twine& message) {
  return llvm::make_error<UsageError>(message.str());
}

bool is_hex_lower(llvm::StringRef s) {
  return s.find_first_not_of("0123456789abcdef") == llvm::StringRef::npos;
}

// go-digest's Digest.Validate for the algorithms docker registers.
llvm::Error validate_digest(llvm::StringRef digest) {
  auto [algorithm, encoded] = digest.split(':');
  size_t want = 0;
  if (algorithm == "sha256") {
    want = 64;
  } else if (algorithm == "sha384") {
    want = 96;
  } else if (algorithm == "sha512") {
    want = 128;
  } else {
    return usage_error("unsupported digest algorithm");
  }
  if (encoded.size() != want) {
    return usage_error("invalid checksum digest length");
  }
  if (!is_hex_lower(encoded)) {
    return usage_error("invalid checksum digest format");
  }
  return llvm::Error::success();
}

// distribution/reference's Parse: no normalization.
llvm::Expected<Reference> parse_any(const std::string& text) {
  std::smatch m;
  if (!std::regex_match(text, m, reference_regex())) {
    if (text.empty()) {
      return usage_error("repository name must have at least one component");
    }
    std::string lower = llvm::StringRef(text).lower();
    if (std::regex_match(lower, reference_regex())) {
      return usage_error("repository name must be lowercase");
    }
    return usage_error("invalid reference format");
  }
  std::string name = m[1].str();
  if (name.size() > kNameTotalLengthMax) {
    return usage_error("repository name must not be more than 255 characters");
  }
  Reference ref;
  std::smatch nm;
  if (std::regex_match(name, nm, anchored_name_regex()) && nm[1].matched) {
    ref.domain = nm[1].str();
    ref.path = nm[2].str();
  } else {
    ref.path = name;
  }
  ref.tag = m[2].str();
  ref.digest = m[3].str();
  if (!ref.digest.empty()) {
    if (auto err = validate_digest(ref.digest)) {
      return err;
    }
  }
  return ref;
}

// distribution/reference's splitDockerDomain.
std::pair<std::string, std::string> split_docker_domain(llvm::StringRef name) {
  std::string domain;
  std::string remainder;
  size_t slash = name.find('/');
  llvm::StringRef first = name.substr(0, slash);
  if (slash == llvm::StringRef::npos || (first.find_first_of(".:") == llvm::StringRef::npos &&
                                         first != "localhost" && first.lower() == first)) {
    domain = kDefaultDomain.str();
    remainder = name.str();
  } else {
    domain = first.str();
    remainder = name.substr(slash + 1).str();
  }
  if (domain == kLegacyDefaultDomain) {
    domain = kDefaultDomain.str();
  }
  if (domain == kDefaultDomain && remainder.find('/') == std::string::npos) {
    remainder = kOfficialRepoPrefix.str() + remainder;
  }
  return {domain, remainder};
}

}  // namespace

std::string Reference::name() const { return domain.empty() ? path : domain + "/" + path; }

std::string Reference::str() const {
  std::string out = name();
  if (!tag.empty()) {
    out += ":" + tag;
  }
  if (!digest.empty()) {
    out += "@" + digest;
  }
  return out;
}

std::string Reference::familiar_name() const {
  if (domain != kDefaultDomain) {
    return name();
  }
  llvm::StringRef rest = path;
  if (rest.startswith(kOfficialRepoPrefix) &&
      !rest.drop_front(kOfficialRepoPrefix.size()).contains('/')) {
    rest = rest.drop_front(kOfficialRepoPrefix.size());
  }
  return rest.str();
}

std::string Reference::familiar_str() const {
  std::string out = familiar_name();
  if (!tag.empty()) {
    out += ":" + tag;
  }
  if (!digest.empty()) {
    out += "@" + digest;
  }
  return out;
}

bool is_full_hex_id(llvm::StringRef text) { return text.size() == 64 && is_hex_lower(text); }

std::pair<std::string, std::string> familiar_repo_tag(llvm::StringRef full_name) {
  auto ref = parse_named(full_name);
  if (!ref) {
    llvm::consumeError(ref.takeError());
    return {full_name.str(), "<none>"};
  }
  return {ref->familiar_name(), ref->tag.empty() ? "<none>" : ref->tag};
}

std::string familiar_name(llvm::StringRef full_name) {
  auto ref = parse_named(full_name);
  if (!ref) {
    llvm::consumeError(ref.takeError());
    return full_name.str();
  }
  return ref->familiar_str();
}

bool is_valid_tag(llvm::StringRef tag) {
  static const std::regex re("^" + kTag + "$");
  return std::regex_match(tag.begin(), tag.end(), re);
}

llvm::Expected<Reference> parse_normalized_named(llvm::StringRef text) {
  if (is_full_hex_id(text)) {
    return usage_error("invalid repository name (" + text +
                       "), cannot specify 64-byte hexadecimal strings");
  }
  auto [domain, remainder] = split_docker_domain(text);
  llvm::StringRef remote_name = llvm::StringRef(remainder).split(':').first;
  if (remote_name.lower() != remote_name) {
    return usage_error("invalid reference format: repository name (" + remote_name +
                       ") must be lowercase");
  }
  return parse_any(domain + "/" + remainder);
}

llvm::Expected<Reference> parse_unnormalized(llvm::StringRef text) { return parse_any(text.str()); }

llvm::Expected<Reference> parse_named(llvm::StringRef text) {
  auto ref = parse_normalized_named(text);
  if (!ref) {
    return ref.takeError();
  }
  if (ref->str() != text) {
    return usage_error("repository name must be canonical");
  }
  return ref;
}

Reference tag_name_only(Reference ref) {
  if (ref.name_only()) {
    ref.tag = "latest";
  }
  return ref;
}

llvm::Expected<Reference> parse_reference(llvm::StringRef text) {
  auto ref = parse_normalized_named(text);
  if (!ref) {
    return ref.takeError();
  }
  return tag_name_only(std::move(*ref));
}

}  // namespace kiln::oci
