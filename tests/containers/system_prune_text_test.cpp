// The prunes' warnings and reports as docker prints them, from reports built by
// hand.
#include <catch2/catch.hpp>

#include "containers/system_prune.h"

using namespace kiln::containers;

TEST_CASE("prune warnings are docker's", "[containers][prune]") {
  CHECK(prune_warning(PruneTarget::build_cache, false) ==
        "WARNING! This will remove all dangling build cache. ");
  CHECK(prune_warning(PruneTarget::build_cache, true) ==
        "WARNING! This will remove all build cache. ");
  CHECK(prune_warning(PruneTarget::images, false) ==
        "WARNING! This will remove all dangling images.\n");
  CHECK(prune_warning(PruneTarget::images, true) ==
        "WARNING! This will remove all images without at least one container associated to "
        "them.\n");
  CHECK(prune_warning(PruneTarget::containers, false) ==
        "WARNING! This will remove all stopped containers.\n");
  CHECK(prune_warning(PruneTarget::system, false) ==
        "WARNING! This will remove:\n"
        "  - all stopped containers\n"
        "  - all dangling images\n"
        "  - unused build cache\n\n");
  CHECK(prune_warning(PruneTarget::system, true, true) ==
        "WARNING! This will remove:\n"
        "  - all stopped containers\n"
        "  - all anonymous volumes not used by at least one container\n"
        "  - all images without at least one container associated to them\n"
        "  - all build cache\n\n");
  CHECK(prune_warning(PruneTarget::volumes, false) ==
        "WARNING! This will remove anonymous local volumes not used by at least one container.\n");
  CHECK(prune_warning(PruneTarget::volumes, true) ==
        "WARNING! This will remove all local volumes not used by at least one container.\n");
  CHECK(prune_warning(PruneTarget::networks, false) ==
        "WARNING! This will remove all custom networks not used by at least one container.\n");
}

TEST_CASE("prune reports: deleted sections and the reclaimed space", "[containers][prune]") {
  CHECK(deleted_section("Deleted Volumes:", {}) == "");
  CHECK(deleted_section("Deleted Volumes:", {"a", "b"}) == "Deleted Volumes:\na\nb\n\n");
  CHECK(reclaimed_line(1500000) == "Total reclaimed space: 1.5MB\n");
  CHECK(reclaimed_line(-5) == "Total reclaimed space: 0B\n");

  kiln::cache::GcReport gc;
  gc.removed = {"abc123def456"};
  gc.total_before = 3000;
  gc.total_after = 1000;
  CHECK(prune_report_text(gc) ==
        "Deleted build cache objects:\nabc123def456\n\nTotal reclaimed space: 2kB\n");

  kiln::cache::ImagePruneReport images;
  images.untagged = {"docker.io/library/app:1"};
  images.deleted = {kiln::Digest::of("config")};
  images.reclaimed = 0;
  CHECK(prune_report_text(images) ==
        "Deleted Images:\nuntagged: app:1\ndeleted: " + kiln::Digest::of("config").str() +
            "\n\nTotal reclaimed space: 0B\n");

  ContainerPruneReport containers{{"c1"}, 10};
  CHECK(prune_report_text(containers) == "Deleted Containers:\nc1\n\nTotal reclaimed space: 10B\n");

  SystemPruneReport system;
  system.containers = containers;
  system.volumes = {"v1"};
  system.images = images;
  system.build_cache = gc;
  system.reclaimed = 4000;
  CHECK(prune_report_text(system) ==
        "Deleted Containers:\nc1\n\nDeleted Volumes:\nv1\n\nDeleted Images:\nuntagged: app:1\n"
        "deleted: " +
            kiln::Digest::of("config").str() +
            "\n\nDeleted build cache objects:\nabc123def456\n\nTotal reclaimed space: 4kB\n");
  CHECK(prune_report_text(SystemPruneReport{}) == "Total reclaimed space: 0B\n");
}
