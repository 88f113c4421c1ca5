// The container commands' logic that needs no runtime: exec's environment and
// its refusal of a stopped container, ps rows and filters, port lines, stats
// columns, cp's argument rules, the monitor's command line and starting and
// stopping containers that nothing runs.
#include <catch2/catch.hpp>

#include <cstdlib>

#include "containers/container_cp.h"
#include "containers/container_exec.h"
#include "containers/container_monitor.h"
#include "containers/container_ops.h"
#include "containers/container_stop.h"
#include "containers/container_view.h"
#include "network/network_store.h"
#include "support/error.h"
#include "tests/testutil/testutil.h"

namespace {

using kiln::containers::ContainerSpec;
using kiln::containers::ContainerState;
using kiln::containers::ContainerStatus;
using kiln::containers::ContainerStore;
using kiln::containers::ContainerView;
using kiln::testutil::TempDir;

constexpr int64_t kSecond = 1000000000;

using kiln::error_message;

// A created (never started) container named `name` running `args`.
ContainerSpec add_container(const ContainerStore& store, const std::string& name,
                            std::vector<std::string> args) {
  ContainerSpec spec;
  spec.name = name;
  spec.image = "busybox";
  spec.process.args = std::move(args);
  REQUIRE(!store.create(spec, "{}"));
  return spec;
}

}  // namespace

TEST_CASE("exec takes KEY=VALUE as given and KEY from kiln's environment", "[containers][exec]") {
  ::setenv("KILN_EXEC_TEST_SET", "from kiln", 1);
  ::unsetenv("KILN_EXEC_TEST_UNSET");
  CHECK(kiln::containers::exec_env({"A=1", "KILN_EXEC_TEST_SET", "KILN_EXEC_TEST_UNSET", "B="}) ==
        std::vector<std::string>{"A=1", "KILN_EXEC_TEST_SET=from kiln", "B="});
}

TEST_CASE("exec refuses a container that does not run", "[containers][exec]") {
  TempDir root("kiln-containers-");
  auto store = ContainerStore::open(root.path());
  REQUIRE(bool(store));
  ContainerSpec spec = add_container(*store, "idle", {"sh"});
  kiln::containers::ExecOptions options;
  options.args = {"true"};
  CHECK(error_message(kiln::containers::exec_command(*store, spec.id, options).takeError()) ==
        "container " + spec.id + " is not running");
  CHECK(error_message(kiln::containers::exec_in_container(root.path(), "nothing", options)) ==
        "no such container: 'nothing'");
  CHECK(error_message(kiln::containers::top_output(*store, spec.id, {}).takeError()) ==
        "container " + spec.id + " is not running");
}

TEST_CASE("a ps row has docker's fields, cut unless --no-trunc", "[containers][ps]") {
  ContainerView view;
  view.spec.id = std::string(64, 'a');
  view.spec.name = "web";
  view.spec.image = "busybox";
  view.spec.created_ns = 1000 * kSecond;
  view.spec.process.args = {"sh", "-c", "while true; do sleep 1; done"};
  view.spec.labels = {{"a", "1"}, {"b", "2"}};
  view.spec.network_mode = "host";
  auto row = kiln::containers::ps_row(view, false, 1120 * kSecond);
  CHECK(row["ID"] == std::string(12, 'a'));
  CHECK(row["Command"] == "\"sh -c while true; d…\"");
  CHECK(row["Labels"] == "a=1,b=2");
  CHECK(row["Networks"] == "host");
  CHECK(row["RunningFor"] == "2 minutes ago");
  CHECK(row["State"] == "created");
  CHECK(row["Status"] == "Created");
  std::vector<std::string> keys;
  for (const auto& [key, value] : row.items()) {
    keys.push_back(key);
  }
  CHECK(keys == std::vector<std::string>{"Command", "CreatedAt", "ID", "Image", "Labels",
                                         "LocalVolumes", "Mounts", "Names", "Networks", "Ports",
                                         "RunningFor", "Size", "State", "Status"});
  auto whole = kiln::containers::ps_row(view, true, 1120 * kSecond);
  CHECK(whole["ID"] == view.spec.id);
  CHECK(whole["Command"] == "\"sh -c while true; do sleep 1; done\"");
  CHECK(kiln::containers::ps_header()["RunningFor"] == "CREATED");
}

TEST_CASE("ps lists running containers unless -a or a status filter", "[containers][ps]") {
  TempDir root("kiln-containers-");
  auto store = ContainerStore::open(root.path());
  REQUIRE(bool(store));
  add_container(*store, "one", {"sh"});
  add_container(*store, "two", {"sh"});
  kiln::containers::PsOptions options;
  auto running = kiln::containers::ps_rows(*store, options, kiln::containers::now_ns());
  REQUIRE(bool(running));
  CHECK(running->empty());
  options.all = true;
  auto all = kiln::containers::ps_rows(*store, options, kiln::containers::now_ns());
  REQUIRE(bool(all));
  CHECK(all->size() == 2);
  options.all = false;
  options.filters = {"status=created", "name=two"};
  auto named = kiln::containers::ps_rows(*store, options, kiln::containers::now_ns());
  REQUIRE(bool(named));
  REQUIRE(named->size() == 1);
  CHECK((*named)[0]["Names"] == "two");
  options.filters = {"colour=red"};
  CHECK(error_message(kiln::containers::ps_rows(*store, options, 0).takeError()) ==
        "invalid filter 'colour'");
  auto ids = kiln::containers::running_ids(*store);
  REQUIRE(bool(ids));
  CHECK(ids->empty());
}

TEST_CASE("port lines, all or for one private port", "[containers][port]") {
  ContainerView view;
  view.spec.name = "web";
  view.spec.ports.push_back({"127.0.0.1", 8080, 80, "tcp"});
  view.spec.ports.push_back({"127.0.0.2", 5353, 53, "udp"});
  auto all = kiln::containers::port_lines(view, "");
  REQUIRE(bool(all));
  CHECK(*all == std::vector<std::string>{"80/tcp -> 127.0.0.1:8080", "53/udp -> 127.0.0.2:5353"});
  auto one = kiln::containers::port_lines(view, "53");
  REQUIRE(bool(one));
  CHECK(*one == std::vector<std::string>{"127.0.0.2:5353"});
  auto with_proto = kiln::containers::port_lines(view, "80/tcp");
  REQUIRE(bool(with_proto));
  CHECK(*with_proto == std::vector<std::string>{"127.0.0.1:8080"});
  CHECK(error_message(kiln::containers::port_lines(view, "80/udp").takeError()) ==
        "no public port '80/udp' published for web");
}

TEST_CASE("stats columns as docker stats writes them", "[containers][stats]") {
  kiln::containers::ContainerStats stats;
  stats.cpu_percent = 12.345;
  stats.memory_bytes = 1572864;   // 1.5MiB
  stats.memory_limit = 67108864;  // 64MiB
  stats.net_rx = 16430000;
  stats.net_tx = 0;
  stats.block_read = 1000;
  stats.block_write = 2000;
  stats.pids = 3;
  CHECK(kiln::containers::stats_columns(std::string(64, 'b'), "job", stats) ==
        std::vector<std::string>{"bbbbbbbbbbbb", "job", "12.35%", "1.5MiB / 64MiB", "2.34%",
                                 "16.43MB / 0B", "1kB / 2kB", "3"});
  CHECK(kiln::containers::stats_header().size() == 8);
}

TEST_CASE("cp needs exactly one CONTAINER:PATH", "[containers][cp]") {
  TempDir root("kiln-containers-");
  std::string message =
      "copying between containers or between host paths is not supported; one of the paths "
      "must be CONTAINER:PATH";
  CHECK(error_message(kiln::containers::copy_paths(root.path(), "/a", "./b")) == message);
  CHECK(error_message(kiln::containers::copy_paths(root.path(), "c1:/a", "c2:/b")) == message);
  CHECK(error_message(kiln::containers::copy_paths(root.path(), "./x:y/a", "/b")) == message);
  CHECK(error_message(kiln::containers::copy_paths(root.path(), "nothing:/a", "/b")) ==
        "no such container: 'nothing'");
}

TEST_CASE("the monitor's command line is this binary's hidden command", "[containers][monitor]") {
  TempDir root("kiln-containers-");
  auto store = ContainerStore::open(root.path());
  REQUIRE(bool(store));
  auto argv = kiln::containers::monitor_argv(*store, "abc");
  REQUIRE(bool(argv));
  REQUIRE(argv->size() == 5);
  CHECK(llvm::StringRef((*argv)[0]).startswith("/"));
  CHECK(std::vector<std::string>(argv->begin() + 1, argv->end()) ==
        std::vector<std::string>{"--root", store->root(), "container-monitor", "abc"});
}

TEST_CASE("stop with no timeout takes the container's own", "[containers][stop]") {
  TempDir root("kiln-containers-");
  auto store = ContainerStore::open(root.path());
  REQUIRE(bool(store));
  ContainerSpec spec = add_container(*store, "idle", {"sh"});
  REQUIRE(!kiln::containers::stop_container(*store, spec.id, -1));
  CHECK(!kiln::containers::wait_container(*store, spec.id).takeError());
  CHECK(error_message(kiln::containers::stop_container(*store, "0123", -1)) != "");
}

TEST_CASE("labels parse as docker's, and the default network cannot be removed",
          "[containers][network]") {
  CHECK(kiln::network::parse_labels({"a=1", "b", "c=x=y", "a=2"}) ==
        std::map<std::string, std::string>{{"a", "2"}, {"b", ""}, {"c", "x=y"}});
  TempDir root("kiln-containers-");
  auto networks = kiln::network::NetworkStore::open(root.path());
  REQUIRE(bool(networks));
  CHECK(error_message(networks->remove_user_network("kiln")) ==
        "kiln is a pre-defined network and cannot be removed");
  CHECK(error_message(networks->remove_user_network("nothing")) == "network nothing not found");
}
