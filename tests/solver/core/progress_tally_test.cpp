// ProgressTally: a build's progress events added up (numbers, states, last
// lines, the summary and its critical path).

#include "solver/core/progress_tally.h"

#include <catch2/catch.hpp>

#include "tests/testutil/progress_event.h"

using kiln::Digest;
using kiln::solver::core::ProgressEvent;
using kiln::solver::core::ProgressKind;
using kiln::solver::core::ProgressTally;
using Clock = std::chrono::system_clock;

namespace {

ProgressEvent event(const std::string& name, ProgressKind kind, int ms,
                    const std::string& text = "") {
  return kiln::testutil::progress_event(name, kind, ms, text);
}

std::vector<std::string> names(const std::vector<const kiln::solver::core::StepStats*>& path) {
  std::vector<std::string> out;
  for (const auto* s : path) {
    out.push_back(s->name);
  }
  return out;
}

}  // namespace

TEST_CASE("the tally numbers steps as first seen and keeps their state", "[progress]") {
  ProgressTally tally;
  CHECK(tally.record(event("base", ProgressKind::cached, 0)) == 1);
  CHECK(tally.record(event("build", ProgressKind::started, 10)) == 2);
  CHECK(tally.record(event("lint", ProgressKind::started, 20)) == 3);
  for (int i = 0; i < 6; ++i) {
    CHECK(tally.record(event("build", ProgressKind::log, 30 + i, "line " + std::to_string(i))) ==
          2);
  }
  CHECK(tally.tail(Digest::of("build")) ==
        std::deque<std::string>{"line 2", "line 3", "line 4", "line 5"});
  CHECK(tally.finished() == 1);
  CHECK(tally.record(event("build", ProgressKind::done, 100)) == 2);
  CHECK(tally.tail(Digest::of("build")).empty());
  CHECK(tally.record(event("lint", ProgressKind::error, 50, "exit code: 1")) == 3);
  CHECK(tally.step(Digest::of("lint")).failed);
  CHECK(tally.order() ==
        std::vector<Digest>{Digest::of("base"), Digest::of("build"), Digest::of("lint")});
  CHECK(tally.finished() == 3);
  CHECK(tally.ran() == 2);
  CHECK(tally.cached() == 1);
}

TEST_CASE("the critical path goes back through the steps each one waited for", "[progress]") {
  ProgressTally tally;
  tally.record(event("a", ProgressKind::started, 0));
  tally.record(event("side", ProgressKind::started, 0));
  tally.record(event("a", ProgressKind::done, 100));
  tally.record(event("side", ProgressKind::done, 50));
  tally.record(event("b", ProgressKind::started, 103));  // within 5ms of a's end
  tally.record(event("b", ProgressKind::done, 300));
  tally.record(event("c", ProgressKind::cached, 301));
  CHECK(names(tally.critical_path()) == std::vector<std::string>{"a", "b"});
  CHECK(ProgressTally().critical_path().empty());
}

TEST_CASE("progress kinds have their JSON names", "[progress]") {
  CHECK(std::string(kiln::solver::core::progress_kind_name(ProgressKind::started)) == "started");
  CHECK(std::string(kiln::solver::core::progress_kind_name(ProgressKind::canceled)) == "canceled");
}
