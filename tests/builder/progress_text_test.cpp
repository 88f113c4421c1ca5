// A build's progress as text: plain lines, the live view's frame, the summary,
// the rawjson objects and a failed step's report.

#include "builder/progress_text.h"

#include <catch2/catch.hpp>

#include "tests/testutil/progress_event.h"

using kiln::Digest;
using kiln::builder::ProgressText;
using kiln::solver::core::ProgressEvent;
using kiln::solver::core::ProgressKind;
using Clock = std::chrono::system_clock;

namespace {

Clock::time_point at(int ms) { return kiln::testutil::at_ms(ms); }

ProgressEvent event(const std::string& name, ProgressKind kind, int ms,
                    const std::string& text = "") {
  return kiln::testutil::progress_event(name, kind, ms, text);
}

}  // namespace

TEST_CASE("plain progress is BuildKit's lines", "[progress]") {
  ProgressText text;
  CHECK(text.record(event("[1/2] FROM base", ProgressKind::cached, 0)) ==
        "\n#1 [1/2] FROM base\n#1 CACHED\n");
  CHECK(text.record(event("[2/2] RUN make", ProgressKind::started, 10)) == "\n#2 [2/2] RUN make\n");
  CHECK(text.record(event("[2/2] RUN make", ProgressKind::log, 133, "cc -c a.c")) ==
        "#2 0.123 cc -c a.c\n");
  CHECK(text.record(event("[2/2] RUN make", ProgressKind::done, 1260)) == "#2 DONE 1.2s\n");
  CHECK(text.record(event("late", ProgressKind::error, 1300, "no such file")) ==
        "\n#3 late\n#3 ERROR: no such file\n");
  CHECK(text.record(event("late", ProgressKind::error, 1300, "again")) == "#3 ERROR: again\n");
  CHECK(text.record(event("other", ProgressKind::started, 1400)) == "\n#4 other\n");
  CHECK(text.record(event("other", ProgressKind::canceled, 1500)) == "#4 CANCELED\n");
}

TEST_CASE("the live view's frame shows the steps and a running step's last lines", "[progress]") {
  ProgressText text;
  text.record(event("base", ProgressKind::cached, 0));
  text.record(event("compile", ProgressKind::started, 100));
  text.record(event("compile", ProgressKind::done, 1600));
  text.record(event("test", ProgressKind::started, 1600));
  for (int i = 1; i <= 5; ++i) {
    text.record(event("test", ProgressKind::log, 1600 + i, "line " + std::to_string(i)));
  }
  text.record(event("broken", ProgressKind::started, 1700));
  text.record(event("broken", ProgressKind::error, 1800, "exit 1"));
  CHECK(text.live_frame(at(0), at(2345)) ==
        "[+] Building 2.3s (3/4)\n"
        " => base  CACHED\n"
        " => compile  1.5s\n"
        " => test  0.7s\n"
        " => => line 2\n"
        " => => line 3\n"
        " => => line 4\n"
        " => => line 5\n"
        " => broken  ERROR\n");
}

TEST_CASE("the live view's frame cuts long names and lines and shows the last 18 steps",
          "[progress]") {
  ProgressText text;
  for (int i = 0; i < 20; ++i) {
    text.record(event("step " + std::to_string(i), ProgressKind::cached, i));
  }
  std::string long_name(80, 'n');
  text.record(event(long_name, ProgressKind::started, 100));
  text.record(event(long_name, ProgressKind::log, 100, std::string(100, 'l')));
  std::string frame = text.live_frame(at(0), at(1100));
  CHECK(frame.substr(0, frame.find('\n', frame.find('\n') + 1) + 1) ==
        "[+] Building 1.1s (20/21)\n => step 3  CACHED\n");
  CHECK(frame.substr(frame.find(" => " + std::string(70, 'n'))) ==
        " => " + std::string(70, 'n') + "  1.0s\n => => " + std::string(90, 'l') + "\n");
}

TEST_CASE("the summary counts the steps and names the critical path", "[progress]") {
  ProgressText text;
  text.record(event("base", ProgressKind::cached, 0));
  text.record(event("a", ProgressKind::started, 0));
  text.record(event("a", ProgressKind::done, 500));
  text.record(event("b", ProgressKind::started, 500));
  text.record(event("b", ProgressKind::done, 1500));
  CHECK(text.summary(true, std::chrono::milliseconds(1534)) ==
        "\nBuilt in 1.53s: 2 steps run, 1 cached\nCritical path: a (0.50s) -> b (1.00s)\n");
  ProgressText cached;
  cached.record(event("base", ProgressKind::cached, 0));
  CHECK(cached.summary(false, std::chrono::milliseconds(20)) ==
        "\nFailed in 0.02s: 0 steps run, 1 cached\n");
}

TEST_CASE("notes and cache misses become events of their own", "[progress]") {
  auto note = kiln::builder::note_events("exporting", "to image", at(5));
  REQUIRE(note.size() == 3);
  CHECK(note[0].kind == ProgressKind::started);
  CHECK(note[1].kind == ProgressKind::log);
  CHECK(note[1].text == "to image");
  CHECK(note[2].kind == ProgressKind::done);
  CHECK(note[2].vertex == Digest::of("kiln.note:exporting"));
  CHECK(kiln::builder::note_events("pushing", "", at(5)).size() == 2);
  auto misses = kiln::builder::cache_miss_events(Digest::of("v"), "RUN make",
                                                 {"the context changed", "new arg"}, at(5));
  REQUIRE(misses.size() == 2);
  CHECK(misses[0].text == "cache miss: the context changed");
  CHECK(misses[1].text == "cache miss: new arg");
  CHECK(misses[1].kind == ProgressKind::log);
}

TEST_CASE("rawjson objects are one line each", "[progress]") {
  ProgressEvent e = event("RUN make", ProgressKind::log, 0, "bad \xff byte");
  e.time = Clock::time_point{} + std::chrono::microseconds(1700000000123456);
  CHECK(kiln::builder::progress_event_json(e) ==
        "{\"kind\":\"log\",\"name\":\"RUN make\",\"text\":\"bad \xef\xbf\xbd byte\","
        "\"time\":1700000000.123456,\"vertex\":\"" +
            Digest::of("RUN make").str() + "\"}");
  e.text.clear();
  e.kind = ProgressKind::done;
  CHECK(kiln::builder::progress_event_json(e).find("\"text\"") == std::string::npos);
  CHECK(kiln::builder::warning_json("old syntax") ==
        "{\"kind\":\"warning\",\"text\":\"old syntax\"}");
  CHECK(kiln::builder::cache_miss_json(Clock::time_point{} + std::chrono::seconds(2),
                                       Digest::of("v"), "RUN make", {"a", "b"}) ==
        "{\"kind\":\"explain\",\"name\":\"RUN make\",\"reasons\":[\"a\",\"b\"],\"time\":2.0,"
        "\"vertex\":\"" +
            Digest::of("v").str() + "\"}");
}

TEST_CASE("a failed step's report is its last lines between dashes", "[progress]") {
  CHECK(kiln::builder::failed_step_text("[2/2] RUN make", {"cc: error", "make: *** [all]"}) ==
        "------\n > [2/2] RUN make:\ncc: error\nmake: *** [all]\n------\n");
  CHECK(kiln::builder::failed_step_text("RUN true", {}) == "------\n > RUN true:\n------\n");
}
