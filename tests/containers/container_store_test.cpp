// containers/ without a runtime: the store's records, names and ID prefixes,
// docker's restart-policy and publish rules, and creating a container from a
// stored image (its spec from the image's config and the flags, its snapshot).
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <unistd.h>

#include "cache/image_import.h"
#include "cache/image_store.h"
#include "containers/container_create.h"
#include "containers/container_stop.h"
#include "containers/container_store.h"
#include "support/error.h"
#include "support/fs.h"
#include "tests/testutil/testutil.h"

namespace {

using kiln::containers::ContainerSpec;
using kiln::containers::ContainerStatus;
using kiln::containers::ContainerStore;
using kiln::containers::RestartPolicy;
using kiln::testutil::TempDir;

std::string error_of(llvm::Error err) { return kiln::error_message(std::move(err)); }

/// A busybox image imported into the store at `root` as `busybox:test`.
void import_busybox(const std::string& root) {
  TempDir rootfs("kiln-containers-rootfs-");
  kiln::testutil::make_busybox_rootfs(rootfs.path());
  std::string tar = rootfs.path() + ".tar";
  kiln::testutil::tar_directory(rootfs.path(), tar);
  auto store = kiln::cache::ImageStore::open(root);
  REQUIRE(bool(store));
  int fd = ::open(tar.c_str(), O_RDONLY | O_CLOEXEC);
  REQUIRE(fd >= 0);
  kiln::cache::ImportOptions options;
  options.name = "docker.io/library/busybox:test";
  auto record = kiln::cache::import_rootfs(**store, fd, options);
  ::close(fd);
  ::unlink(tar.c_str());
  REQUIRE(bool(record));
}

}  // namespace

TEST_CASE("restart policies parse as docker's", "[containers]") {
  auto always = kiln::containers::parse_restart_policy("always");
  REQUIRE(bool(always));
  CHECK(always->mode == RestartPolicy::Mode::always);
  auto limited = kiln::containers::parse_restart_policy("on-failure:3");
  REQUIRE(bool(limited));
  CHECK(limited->mode == RestartPolicy::Mode::on_failure);
  CHECK(limited->max_retries == 3);
  CHECK(limited->name() == "on-failure");
  CHECK(error_of(kiln::containers::parse_restart_policy("sometimes").takeError()) ==
        "invalid restart policy 'sometimes' (expected no, on-failure[:N], always, "
        "unless-stopped)");
  CHECK(error_of(kiln::containers::parse_restart_policy("always:2").takeError()) ==
        "invalid restart policy 'always:2' (only on-failure takes a maximum retry count)");
}

TEST_CASE("published ports are loopback only", "[containers]") {
  auto port = kiln::containers::parse_publish("8080:80");
  REQUIRE(bool(port));
  CHECK(port->host_ip == "127.0.0.1");
  CHECK(port->host_port == 8080);
  CHECK(port->container_port == 80);
  CHECK(error_of(kiln::containers::parse_publish("0.0.0.0:8080:80").takeError()) ==
        "invalid publish '0.0.0.0:8080:80': kiln publishes ports on loopback addresses "
        "(127.x.x.x) only");
}

TEST_CASE("a port published without a host port is ephemeral until it is bound", "[containers]") {
  using kiln::containers::parse_publish;
  auto alone = parse_publish("8000");
  REQUIRE(bool(alone));
  CHECK(alone->host_ip == "127.0.0.1");
  CHECK(alone->host_port == 0);
  CHECK(alone->container_port == 8000);
  auto with_ip = parse_publish("127.0.0.2::53/udp");
  REQUIRE(bool(with_ip));
  CHECK(with_ip->host_ip == "127.0.0.2");
  CHECK(with_ip->host_port == 0);
  CHECK(with_ip->protocol == "udp");
  CHECK(error_of(parse_publish("0.0.0.0::80").takeError()) ==
        "invalid publish '0.0.0.0::80': kiln publishes ports on loopback addresses "
        "(127.x.x.x) only");
  CHECK(error_of(parse_publish(":").takeError()) ==
        "invalid publish ':': ports must be numbers from 1 to 65535");
  CHECK(error_of(parse_publish("a:b:c:d").takeError()) ==
        "invalid publish 'a:b:c:d': expected [127.0.0.1:][HOST_PORT:]CONTAINER_PORT");

  ContainerSpec spec;
  spec.ports = {*parse_publish("8080:80"), *alone};
  kiln::containers::ContainerState state;
  auto stopped = kiln::containers::live_ports(spec, state);
  REQUIRE(stopped.size() == 1);
  CHECK(stopped[0].host_port == 8080);
  state.host_ports = {8080, 49153};
  auto running = kiln::containers::live_ports(spec, state);
  REQUIRE(running.size() == 2);
  CHECK(running[1].host_port == 49153);
  CHECK(running[1].container_port == 8000);
}

TEST_CASE("the store finds containers by ID, prefix and name", "[containers]") {
  TempDir root("kiln-containers-");
  auto store = ContainerStore::open(root.path());
  REQUIRE(bool(store));
  ContainerSpec spec;
  spec.name = "web";
  spec.image = "busybox";
  spec.process.args = {"httpd"};
  REQUIRE(!store->create(spec, "{}"));
  CHECK(spec.id.size() == 64);
  for (const std::string& text :
       {spec.id, spec.id.substr(0, 12), std::string("web"), std::string("/web")}) {
    INFO("text: " << text);
    auto found = store->resolve(text);
    REQUIRE(bool(found));
    CHECK(*found == spec.id);
  }
  CHECK(error_of(store->resolve("nothing").takeError()) == "no such container: 'nothing'");

  ContainerSpec same_name;
  same_name.name = "web";
  same_name.process.args = {"sh"};
  CHECK(error_of(store->create(same_name, "{}")) ==
        "Conflict. The container name \"/web\" is already in use by container \"" + spec.id +
            "\". You have to remove (or rename) that container to be able to reuse that name.");

  auto state = store->current_state(spec.id);
  REQUIRE(bool(state));
  CHECK(state->status == ContainerStatus::created);
  auto loaded = store->load_spec(spec.id);
  REQUIRE(bool(loaded));
  CHECK(loaded->process.args == std::vector<std::string>{"httpd"});

  REQUIRE(!store->remove(spec.id));
  CHECK(error_of(store->resolve("web").takeError()) == "no such container: 'web'");
}

TEST_CASE("create_container takes the image's config and docker's flag rules", "[containers]") {
  TempDir root("kiln-containers-");
  import_busybox(root.path());
  auto store = ContainerStore::open(root.path());
  REQUIRE(bool(store));
  kiln::containers::CreateFlags flags;
  flags.image_and_command = {"busybox:test", "echo", "hi"};
  flags.env = {"A=1"};
  flags.name = "job";
  flags.restart = "on-failure:2";
  flags.publish = {"8080:80"};
  flags.network = "host";
  std::vector<std::string> warnings;
  auto spec = kiln::containers::create_container(
      *store, flags, [&](const std::string& w) { warnings.push_back(w); });
  REQUIRE(bool(spec));
  CHECK(spec->name == "job");
  CHECK(spec->process.args == std::vector<std::string>{"echo", "hi"});
  CHECK(spec->restart.mode == RestartPolicy::Mode::on_failure);
  CHECK(spec->restart.max_retries == 2);
  CHECK(spec->ports.empty());
  CHECK(warnings == std::vector<std::string>{
                        "WARNING: Published ports are discarded when using host network mode"});
  CHECK(std::find(spec->process.env.begin(), spec->process.env.end(), "A=1") !=
        spec->process.env.end());

  kiln::containers::CreateFlags conflicting = flags;
  conflicting.name = "";
  conflicting.auto_remove = true;
  conflicting.publish.clear();
  auto refused = kiln::containers::create_container(*store, conflicting, [](const std::string&) {});
  REQUIRE(!refused);
  CHECK(error_of(refused.takeError()) ==
        "conflicting options: cannot specify both --restart and --rm");

  kiln::containers::CreateFlags missing;
  missing.image_and_command = {"nothing:here"};
  auto absent = kiln::containers::create_container(*store, missing, [](const std::string&) {});
  REQUIRE(!absent);
  CHECK(llvm::StringRef(error_of(absent.takeError()))
            .startswith("unable to find image 'nothing:here' locally"));
  REQUIRE(!store->remove(spec->id));
}

TEST_CASE("a container that nothing runs stops at once and is removed", "[containers]") {
  TempDir root("kiln-containers-");
  auto store = ContainerStore::open(root.path());
  REQUIRE(bool(store));
  ContainerSpec spec;
  spec.process.args = {"sh"};
  REQUIRE(!store->create(spec, "{}"));
  CHECK(kiln::containers::wait_for_exit(*store, spec.id, 0));
  REQUIRE(!kiln::containers::stop_container(*store, spec.id, 1));
  CHECK(kiln::fs::exists(store->paths(spec.id).stop_requested()));
  REQUIRE(!kiln::containers::remove_container(*store, spec.id, false));
  CHECK(error_of(store->resolve(spec.id).takeError()) == "no such container: '" + spec.id + "'");
}
