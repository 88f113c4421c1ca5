// docker's lines about pulls and pushes: the headers, the summaries and each
// layer's progress line.
#include <catch2/catch.hpp>

#include "exporter/store_transfer.h"

using kiln::Digest;
using kiln::exporter::LayerDirection;
using kiln::registry::BlobProgress;

namespace {

kiln::oci::Reference parsed_ref(const std::string& text) {
  auto parsed = kiln::oci::parse_reference(text);
  REQUIRE(static_cast<bool>(parsed));
  return *parsed;
}

}  // namespace

TEST_CASE("pull lines: the header and the summary", "[exporter][pull]") {
  CHECK(kiln::exporter::pull_header_text(parsed_ref("alpine:3.20")) ==
        "3.20: Pulling from library/alpine\n");
  std::string digest = Digest::of("manifest").str();
  CHECK(kiln::exporter::pull_header_text(parsed_ref("localhost:5000/app@" + digest)) ==
        digest + ": Pulling from app\n");
  kiln::exporter::StorePull pull{Digest::of("manifest"), false};
  CHECK(kiln::exporter::pull_summary_text(parsed_ref("alpine:3.20"), pull) ==
        "Digest: " + digest + "\nStatus: Downloaded newer image for alpine:3.20\n");
  pull.up_to_date = true;
  CHECK(kiln::exporter::pull_summary_text(parsed_ref("localhost:5000/app:1"), pull) ==
        "Digest: " + digest + "\nStatus: Image is up to date for localhost:5000/app:1\n");
}

TEST_CASE("push lines: the header and the summary", "[exporter][push]") {
  CHECK(kiln::exporter::push_header_text(parsed_ref("localhost:5000/mine/app:1")) ==
        "The push refers to repository [localhost:5000/mine/app]\n");
  kiln::registry::PushResult pushed;
  pushed.digest = Digest::of("manifest");
  pushed.size = 528;
  CHECK(kiln::exporter::push_summary_text(parsed_ref("localhost:5000/mine/app:1"), pushed) ==
        "1: digest: " + pushed.digest.str() + " size: 528\n");
}

TEST_CASE("layer progress lines are docker's", "[exporter][pull][push]") {
  Digest layer = Digest::of("layer");
  std::string id = layer.short_hex() + ": ";
  auto line = [&](BlobProgress::Phase phase, LayerDirection direction) {
    return kiln::exporter::layer_progress_line({phase, layer, 0, 0}, direction, "other/app");
  };
  using Phase = BlobProgress::Phase;
  CHECK(line(Phase::started, LayerDirection::pull) == id + "Pulling fs layer");
  CHECK(line(Phase::exists, LayerDirection::pull) == id + "Already exists");
  CHECK(line(Phase::complete, LayerDirection::pull) == id + "Pull complete");
  CHECK(line(Phase::started, LayerDirection::push) == id + "Preparing");
  CHECK(line(Phase::exists, LayerDirection::push) == id + "Layer already exists");
  CHECK(line(Phase::mounted, LayerDirection::push) == id + "Mounted from other/app");
  CHECK(line(Phase::complete, LayerDirection::push) == id + "Pushed");
  CHECK(line(Phase::transferring, LayerDirection::pull) == std::nullopt);
  CHECK(line(Phase::retrying, LayerDirection::push) == std::nullopt);
}
