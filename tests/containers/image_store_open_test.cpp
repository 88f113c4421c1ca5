// containers::open_image_store(): the image store of a root, rid of the --rm
// containers that dead processes left behind.
#include <catch2/catch.hpp>

#include "containers/container_store.h"
#include "containers/image_store_open.h"
#include "support/error.h"
#include "tests/testutil/testutil.h"

using kiln::containers::ContainerSpec;
using kiln::containers::ContainerStatus;
using kiln::containers::ContainerStore;
using kiln::testutil::TempDir;

TEST_CASE("opening the image store removes a lost --rm container", "[containers]") {
  TempDir root("kiln-containers-");
  auto containers = ContainerStore::open(root.path());
  REQUIRE(bool(containers));
  ContainerSpec lost;
  lost.auto_remove = true;
  lost.process.args = {"sh"};
  REQUIRE(!containers->create(lost, "{}"));
  auto state = containers->current_state(lost.id);
  REQUIRE(bool(state));
  state->status = ContainerStatus::exited;
  REQUIRE(!containers->save_state(lost.id, *state));
  ContainerSpec kept;
  kept.process.args = {"sh"};
  REQUIRE(!containers->create(kept, "{}"));

  auto images = kiln::containers::open_image_store(root.path());
  REQUIRE(bool(images));
  CHECK(kiln::error_message(containers->resolve(lost.id).takeError()) ==
        "no such container: '" + lost.id + "'");
  auto found = containers->resolve(kept.id);
  REQUIRE(bool(found));
  CHECK(*found == kept.id);
}
