#include "oci/reference.h"

#include <string>

#include <catch2/catch.hpp>

#include "support/error.h"

using kiln::oci::Reference;

namespace {

std::string error_of(llvm::Expected<Reference> r) {
  REQUIRE(!r);
  return kiln::error_message(r.takeError());
}

Reference parsed(llvm::Expected<Reference> r) {
  if (!r) {
    FAIL(kiln::error_message(r.takeError()));
  }
  return *r;
}

const std::string kF64(64, 'f');

}  // namespace

// distribution/reference reference_test.go: TestReferenceParse.
TEST_CASE("parse_unnormalized accepts docker's valid cases", "[reference]") {
  struct Case {
    std::string input, domain, path, tag, digest;
  };
  const Case cases[] = {
      {"test_com", "", "test_com", "", ""},
      {"test.com:tag", "", "test.com", "tag", ""},
      {"test.com:5000", "", "test.com", "5000", ""},
      {"test.com/repo:tag", "test.com", "repo", "tag", ""},
      {"test:5000/repo", "test:5000", "repo", "", ""},
      {"test:5000/repo:tag", "test:5000", "repo", "tag", ""},
      {"test:5000/repo@sha256:" + kF64, "test:5000", "repo", "", "sha256:" + kF64},
      {"test:5000/repo:tag@sha256:" + kF64, "test:5000", "repo", "tag", "sha256:" + kF64},
      {"Uppercase/lowercase:tag", "Uppercase", "lowercase", "tag", ""},
      {"lowercase:Uppercase", "", "lowercase", "Uppercase", ""},
      {"sub-dom1.foo.com/bar/baz/quux", "sub-dom1.foo.com", "bar/baz/quux", "", ""},
      {"sub-dom1.foo.com/bar/baz/quux:some-long-tag", "sub-dom1.foo.com", "bar/baz/quux",
       "some-long-tag", ""},
      {"b.gcr.io/test.example.com/my-app:test.example.com", "b.gcr.io", "test.example.com/my-app",
       "test.example.com", ""},
      {"xn--n3h.com/myimage:xn--n3h.com", "xn--n3h.com", "myimage", "xn--n3h.com", ""},
      {"xn--7o8h.com/myimage:xn--7o8h.com@sha512:" + std::string(128, 'f'), "xn--7o8h.com",
       "myimage", "xn--7o8h.com", "sha512:" + std::string(128, 'f')},
      {"foo_bar.com:8080", "", "foo_bar.com", "8080", ""},
      {"foo/foo_bar.com:8080", "foo", "foo_bar.com", "8080", ""},
      {"192.168.1.1", "", "192.168.1.1", "", ""},
      {"192.168.1.1:tag", "", "192.168.1.1", "tag", ""},
      {"192.168.1.1:5000", "", "192.168.1.1", "5000", ""},
      {"192.168.1.1/repo", "192.168.1.1", "repo", "", ""},
      {"192.168.1.1:5000/repo", "192.168.1.1:5000", "repo", "", ""},
      {"[2001:db8::1]/repo", "[2001:db8::1]", "repo", "", ""},
      {"[2001:db8:1:2:3:4:5:6]/repo:tag", "[2001:db8:1:2:3:4:5:6]", "repo", "tag", ""},
      {"[2001:db8::1]:5000/repo", "[2001:db8::1]:5000", "repo", "", ""},
      {"[2001:db8::1]:5000/repo:tag", "[2001:db8::1]:5000", "repo", "tag", ""},
      {"[2001:db8::1]:5000/repo@sha256:" + kF64, "[2001:db8::1]:5000", "repo", "",
       "sha256:" + kF64},
      {"[2001:db8::]:5000/repo", "[2001:db8::]:5000", "repo", "", ""},
      {"[::1]:5000/repo", "[::1]:5000", "repo", "", ""},
      {std::string(), "", "", "", ""},  // placeholder, skipped below
  };
  for (const auto& c : cases) {
    if (c.input.empty()) {
      continue;
    }
    INFO(c.input);
    Reference r = parsed(kiln::oci::parse_unnormalized(c.input));
    CHECK(r.domain == c.domain);
    CHECK(r.path == c.path);
    CHECK(r.tag == c.tag);
    CHECK(r.digest == c.digest);
    CHECK(r.str() == c.input);
  }
}

TEST_CASE("parse_unnormalized rejects docker's invalid cases with docker's text", "[reference]") {
  struct Case {
    std::string input, error;
  };
  const Case cases[] = {
      {"", "repository name must have at least one component"},
      {":justtag", "invalid reference format"},
      {"@sha256:" + kF64, "invalid reference format"},
      {"repo@sha256:" + std::string(62, 'f'), "invalid checksum digest length"},
      {"validname@invaliddigest:" + kF64, "unsupported digest algorithm"},
      {"repo@sha256:" + std::string(64, 'F'), "invalid checksum digest format"},
      {"Uppercase:tag", "repository name must be lowercase"},
      {"test:5000/Uppercase/lowercase:tag", "repository name must be lowercase"},
      {std::string(256, 'a') + ":tag", "repository name must not be more than 255 characters"},
      {"aa/asdf$$^/aa", "invalid reference format"},
      {"[2001:db8::1]", "invalid reference format"},
      {"[2001:db8::1]:5000", "invalid reference format"},
      {"[2001:db8::1]:tag", "invalid reference format"},
      {"[fe80::1%eth0]:5000/repo", "invalid reference format"},
      {"[fe80::1%@invalidzone]:5000/repo", "invalid reference format"},
      {"repo:" + std::string(129, 'a'), "invalid reference format"},
      {"repo:-tag", "invalid reference format"},
      {"a//b", "invalid reference format"},
      {"a/b/", "invalid reference format"},
      {"a..b", "invalid reference format"},
      {"a___b", "invalid reference format"},
  };
  for (const auto& c : cases) {
    INFO(c.input);
    CHECK(error_of(kiln::oci::parse_unnormalized(c.input)) == c.error);
  }
}

TEST_CASE("name length limit counts the whole name", "[reference]") {
  std::string name;
  for (int i = 0; i < 127; ++i) {
    name += "a/";
  }
  Reference r = parsed(kiln::oci::parse_unnormalized(name + "a:tag-puts-this-over-max"));
  CHECK(r.domain == "a");
  CHECK(r.tag == "tag-puts-this-over-max");
  CHECK(error_of(kiln::oci::parse_unnormalized(name + "a/a:tag")) ==
        "repository name must not be more than 255 characters");
}

TEST_CASE("tags of 128 characters are valid, 129 are not", "[reference]") {
  CHECK(kiln::oci::is_valid_tag(std::string(128, 'a')));
  CHECK(!kiln::oci::is_valid_tag(std::string(129, 'a')));
  CHECK(kiln::oci::is_valid_tag("_a.b-c"));
  CHECK(!kiln::oci::is_valid_tag(".a"));
  CHECK(!kiln::oci::is_valid_tag(""));
}

// distribution/reference normalize_test.go: TestParseRepositoryInfo and
// TestNormalizedSplitHostname.
TEST_CASE("parse_normalized_named normalizes like docker", "[reference]") {
  struct Case {
    std::string input, full, familiar, domain, path;
  };
  const Case cases[] = {
      {"fooo/bar", "docker.io/fooo/bar", "fooo/bar", "docker.io", "fooo/bar"},
      {"library/ubuntu", "docker.io/library/ubuntu", "ubuntu", "docker.io", "library/ubuntu"},
      {"nonlibrary/ubuntu", "docker.io/nonlibrary/ubuntu", "nonlibrary/ubuntu", "docker.io",
       "nonlibrary/ubuntu"},
      {"ubuntu", "docker.io/library/ubuntu", "ubuntu", "docker.io", "library/ubuntu"},
      {"other/library", "docker.io/other/library", "other/library", "docker.io", "other/library"},
      {"127.0.0.1:8000/private/moonbase", "127.0.0.1:8000/private/moonbase",
       "127.0.0.1:8000/private/moonbase", "127.0.0.1:8000", "private/moonbase"},
      {"127.0.0.1:8000/privatebase", "127.0.0.1:8000/privatebase", "127.0.0.1:8000/privatebase",
       "127.0.0.1:8000", "privatebase"},
      {"localhost:8000/private/moonbase", "localhost:8000/private/moonbase",
       "localhost:8000/private/moonbase", "localhost:8000", "private/moonbase"},
      {"localhost/privatebase", "localhost/privatebase", "localhost/privatebase", "localhost",
       "privatebase"},
      {"example.com/private/moonbase", "example.com/private/moonbase",
       "example.com/private/moonbase", "example.com", "private/moonbase"},
      {"example.com:8000/privatebase", "example.com:8000/privatebase",
       "example.com:8000/privatebase", "example.com:8000", "privatebase"},
      {"ubuntu-12.04-base", "docker.io/library/ubuntu-12.04-base", "ubuntu-12.04-base", "docker.io",
       "library/ubuntu-12.04-base"},
      {"docker.io/ubuntu-12.04-base", "docker.io/library/ubuntu-12.04-base", "ubuntu-12.04-base",
       "docker.io", "library/ubuntu-12.04-base"},
      {"index.docker.io/ubuntu-12.04-base", "docker.io/library/ubuntu-12.04-base",
       "ubuntu-12.04-base", "docker.io", "library/ubuntu-12.04-base"},
      {"test.com/foo", "test.com/foo", "test.com/foo", "test.com", "foo"},
      {"test_com/foo", "docker.io/test_com/foo", "test_com/foo", "docker.io", "test_com/foo"},
      {"docker/migrator", "docker.io/docker/migrator", "docker/migrator", "docker.io",
       "docker/migrator"},
      {"test-com:8080/foo", "test-com:8080/foo", "test-com:8080/foo", "test-com:8080", "foo"},
      {"xn--n3h.com:18080/foo", "xn--n3h.com:18080/foo", "xn--n3h.com:18080/foo",
       "xn--n3h.com:18080", "foo"},
      {"docker.io/library/foo/bar", "docker.io/library/foo/bar", "library/foo/bar", "docker.io",
       "library/foo/bar"},
      {"[::1]:5000/repo", "[::1]:5000/repo", "[::1]:5000/repo", "[::1]:5000", "repo"},
  };
  for (const auto& c : cases) {
    INFO(c.input);
    Reference r = parsed(kiln::oci::parse_normalized_named(c.input));
    CHECK(r.name() == c.full);
    CHECK(r.familiar_name() == c.familiar);
    CHECK(r.domain == c.domain);
    CHECK(r.path == c.path);
    CHECK(r.tag.empty());
  }
}

TEST_CASE("parse_reference adds latest only to bare names", "[reference]") {
  CHECK(parsed(kiln::oci::parse_reference("alpine")).str() == "docker.io/library/alpine:latest");
  CHECK(parsed(kiln::oci::parse_reference("alpine")).familiar_str() == "alpine:latest");
  CHECK(parsed(kiln::oci::parse_reference("user/app")).str() == "docker.io/user/app:latest");
  CHECK(parsed(kiln::oci::parse_reference("localhost:5000/x")).str() == "localhost:5000/x:latest");
  CHECK(parsed(kiln::oci::parse_reference("localhost:5000/x")).familiar_str() ==
        "localhost:5000/x:latest");
  CHECK(parsed(kiln::oci::parse_reference("reg.example.com/a/b:tag")).str() ==
        "reg.example.com/a/b:tag");
  Reference by_digest = parsed(kiln::oci::parse_reference("alpine@sha256:" + kF64));
  CHECK(by_digest.str() == "docker.io/library/alpine@sha256:" + kF64);
  CHECK(by_digest.tag.empty());
  Reference both = parsed(kiln::oci::parse_reference("alpine:3.20@sha256:" + kF64));
  CHECK(both.str() == "docker.io/library/alpine:3.20@sha256:" + kF64);
  CHECK(both.familiar_str() == "alpine:3.20@sha256:" + kF64);
}

TEST_CASE("parse_normalized_named errors are docker's", "[reference]") {
  CHECK(error_of(kiln::oci::parse_normalized_named("Alpine")) ==
        "invalid reference format: repository name (library/Alpine) must be lowercase");
  CHECK(error_of(kiln::oci::parse_normalized_named("docker.io/docker/Docker")) ==
        "invalid reference format: repository name (docker/Docker) must be lowercase");
  CHECK(error_of(kiln::oci::parse_normalized_named("localhost:5000/Foo:tag")) ==
        "invalid reference format: repository name (Foo) must be lowercase");
  CHECK(error_of(kiln::oci::parse_normalized_named(kF64)) ==
        "invalid repository name (" + kF64 + "), cannot specify 64-byte hexadecimal strings");
  CHECK(error_of(kiln::oci::parse_normalized_named("docker///docker")) ==
        "invalid reference format");
  CHECK(error_of(kiln::oci::parse_normalized_named("alpine:bad tag")) ==
        "invalid reference format");
  CHECK(error_of(kiln::oci::parse_normalized_named("")) == "invalid reference format");
  // A 64-hex name under a domain is a valid name.
  CHECK(parsed(kiln::oci::parse_normalized_named("docker.io/" + kF64)).name() ==
        "docker.io/library/" + kF64);
  // An uppercase first component is taken as a domain, as docker does.
  CHECK(parsed(kiln::oci::parse_normalized_named("Docker/docker")).domain == "Docker");
}

TEST_CASE("parse_named requires canonical names", "[reference]") {
  CHECK(error_of(kiln::oci::parse_named("alpine")) == "repository name must be canonical");
  CHECK(parsed(kiln::oci::parse_named("docker.io/library/alpine:3")).tag == "3");
}

TEST_CASE("is_full_hex_id", "[reference]") {
  CHECK(kiln::oci::is_full_hex_id(kF64));
  CHECK(!kiln::oci::is_full_hex_id(std::string(63, 'f')));
  CHECK(!kiln::oci::is_full_hex_id(std::string(64, 'F')));
}

TEST_CASE("familiar names and repository/tag pairs of full names", "[oci][reference]") {
  using kiln::oci::familiar_name;
  using kiln::oci::familiar_repo_tag;
  CHECK(familiar_name("docker.io/library/alpine:latest") == "alpine:latest");
  CHECK(familiar_name("localhost:5000/x/y:1") == "localhost:5000/x/y:1");
  CHECK(familiar_name("not a name") == "not a name");
  CHECK(familiar_repo_tag("docker.io/library/alpine:3.20") ==
        std::pair<std::string, std::string>{"alpine", "3.20"});
  CHECK(familiar_repo_tag("docker.io/user/app") ==
        std::pair<std::string, std::string>{"user/app", "<none>"});
  CHECK(familiar_repo_tag("alpine") == std::pair<std::string, std::string>{"alpine", "<none>"});
}
