// containers::inspect_text(): `kiln inspect`'s output and its errors, per name.
#include "containers/object_inspect.h"

#include <catch2/catch.hpp>

#include "containers/container_store.h"
#include "containers/image_store_open.h"
#include "support/error.h"
#include "tests/testutil/testutil.h"

using kiln::containers::ContainerSpec;
using kiln::containers::ContainerStore;
using kiln::containers::inspect_text;

TEST_CASE("inspect prints what it finds and returns an error for each name it does not",
          "[containers][inspect]") {
  kiln::testutil::TempDir root("kiln-inspect-");
  auto containers = ContainerStore::open(root.path());
  REQUIRE(bool(containers));
  ContainerSpec spec;
  spec.process.args = {"sh"};
  REQUIRE(!containers->create(spec, "{}"));
  auto images = kiln::containers::open_image_store(root.path());
  REQUIRE(bool(images));

  auto templated = inspect_text(**images, root.path(), {spec.id, "nosuch", spec.id}, "", "{{.Id}}");
  REQUIRE(bool(templated));
  CHECK(templated->text == spec.id + "\n" + spec.id + "\n");
  REQUIRE(templated->errors.size() == 1);
  CHECK(kiln::error_message(std::move(templated->errors[0])).find("nosuch") != std::string::npos);

  auto json = inspect_text(**images, root.path(), {"nosuch"}, "", "json");
  REQUIRE(bool(json));
  CHECK(json->text == "[]\n");
  CHECK(json->errors.size() == 1);
  for (auto& err : json->errors) {
    llvm::consumeError(std::move(err));
  }

  auto whole = inspect_text(**images, root.path(), {spec.id}, "", "");
  REQUIRE(bool(whole));
  CHECK(whole->text.rfind("[\n    {\n", 0) == 0);
  CHECK(whole->errors.empty());

  auto bad = inspect_text(**images, root.path(), {spec.id}, "", "{{.Id");
  REQUIRE(!bad);
  CHECK(kiln::error_message(bad.takeError()).rfind("template parsing error: ", 0) == 0);
}
