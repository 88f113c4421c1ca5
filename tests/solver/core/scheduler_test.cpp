#include "solver/core/scheduler.h"

#include <algorithm>
#include <map>
#include <mutex>
#include <thread>

#include <catch2/catch.hpp>

#include "support/error.h"
#include "tests/solver/core/fakes.h"

using namespace kiln::solver::core;
using namespace kiln::solver::core::testing;
using namespace std::chrono_literals;

namespace {

std::vector<std::string> sorted(std::vector<std::string> v) {
  std::sort(v.begin(), v.end());
  return v;
}

bool overlap(EventLog& log, const std::string& a, const std::string& b) {
  auto a0 = log.find(ProgressKind::started, a).time;
  auto a1 = log.find(ProgressKind::done, a).time;
  auto b0 = log.find(ProgressKind::started, b).time;
  auto b1 = log.find(ProgressKind::done, b).time;
  return a0 < b1 && b0 < a1;
}

}  // namespace

TEST_CASE("diamond graph runs each vertex once", "[scheduler]") {
  ExecCounter n;
  FakeVertex a(n, "a", "A");
  FakeVertex b(n, "b", "B", {&a});
  FakeVertex c(n, "c", "C", {&a});
  FakeVertex d(n, "d", "D", {&b, &c});
  Scheduler sched({});
  EventLog log;
  auto solved = sched.solve(d, {log.callback()});
  REQUIRE(static_cast<bool>(solved));
  CHECK(text(solved->result) == "D(B(A()),C(A()))");
  CHECK(n.get("a") == 1);
  CHECK(n.get("b") == 1);
  CHECK(n.get("c") == 1);
  CHECK(n.get("d") == 1);
  CHECK(sorted(log.lines()) == std::vector<std::string>{"done a", "done b", "done c", "done d",
                                                        "started a", "started b", "started c",
                                                        "started d"});
  // A second request on the same scheduler reuses every result.
  EventLog again;
  auto second = sched.solve(d, {again.callback()});
  REQUIRE(static_cast<bool>(second));
  CHECK(second->key == solved->key);
  CHECK(n.get("d") == 1);
  CHECK(sorted(again.lines()) ==
        std::vector<std::string>{"cached a", "cached b", "cached c", "cached d"});
}

TEST_CASE("identical vertices from two stages run once", "[scheduler]") {
  ExecCounter n;
  FakeVertex base1(n, "base", "FROM alpine");
  FakeVertex base2(n, "base", "FROM alpine");
  FakeVertex s1(n, "stage1", "RUN make", {&base1});
  FakeVertex s2(n, "stage2", "RUN make", {&base2});
  FakeVertex root(n, "root", "MERGE", {&s1, &s2});
  Scheduler sched({});
  auto solved = sched.solve(root);
  REQUIRE(static_cast<bool>(solved));
  CHECK(text(solved->result) == "MERGE(RUN make(FROM alpine()),RUN make(FROM alpine()))");
  CHECK(n.get("base") == 1);
  CHECK(n.get("stage1") + n.get("stage2") == 1);
}

TEST_CASE("two concurrent requests share one execution", "[scheduler]") {
  ExecCounter n;
  FakeVertex slow1(n, "slow", "SLOW");
  FakeVertex slow2(n, "slow", "SLOW");
  slow1.sleep = slow2.sleep = 150ms;
  slow1.resource = slow2.resource = ResourceClass::container;
  FakeVertex top1(n, "top1", "TOP1", {&slow1});
  FakeVertex top2(n, "top2", "TOP2", {&slow2});
  Scheduler sched({});
  EventLog log1;
  EventLog log2;
  llvm::Expected<Solved> r2 = llvm::make_error<kiln::KilnError>("not run");
  std::thread other([&] { r2 = sched.solve(top2, {log2.callback()}); });
  auto r1 = sched.solve(top1, {log1.callback()});
  other.join();
  REQUIRE(static_cast<bool>(r1));
  REQUIRE(static_cast<bool>(r2));
  CHECK(text(r1->result) == "TOP1(SLOW())");
  CHECK(text(r2->result) == "TOP2(SLOW())");
  CHECK(n.get("slow") == 1);
  // Both requests hear about the shared step, as running or as cached.
  auto heard = [](EventLog& log) {
    auto l = log.lines();
    return std::count(l.begin(), l.end(), "done slow") +
           std::count(l.begin(), l.end(), "cached slow");
  };
  CHECK(heard(log1) == 1);
  CHECK(heard(log2) == 1);
}

TEST_CASE("independent vertices overlap, jobs=1 serializes container work", "[scheduler]") {
  ExecCounter n;
  FakeVertex p(n, "p", "P");
  FakeVertex q(n, "q", "Q");
  p.sleep = q.sleep = 200ms;
  p.resource = q.resource = ResourceClass::container;
  FakeVertex root(n, "root", "ROOT", {&p, &q});
  SECTION("jobs=2") {
    Scheduler sched({.jobs = 2});
    EventLog log;
    REQUIRE(static_cast<bool>(sched.solve(root, {log.callback()})));
    CHECK(overlap(log, "p", "q"));
  }
  SECTION("jobs=1") {
    Scheduler sched({.jobs = 1});
    EventLog log;
    REQUIRE(static_cast<bool>(sched.solve(root, {log.callback()})));
    CHECK_FALSE(overlap(log, "p", "q"));
  }
}

TEST_CASE("a failure cancels siblings and runs no dependents", "[scheduler]") {
  ExecCounter n;
  FakeVertex bad(n, "bad", "make all");
  bad.fail = true;
  bad.before = [&] {
    // Fail once a container step holds the only slot.
    while (n.get("running") + n.get("queued") == 0) {
      std::this_thread::sleep_for(1ms);
    }
  };
  FakeVertex running(n, "running", "RUNNING");
  running.resource = ResourceClass::container;
  running.wait_for_cancel = true;
  FakeVertex queued(n, "queued", "QUEUED");
  queued.resource = ResourceClass::container;
  queued.wait_for_cancel = true;
  FakeVertex after_bad(n, "after_bad", "AFTER", {&bad});
  FakeVertex root(n, "root", "ROOT", {&after_bad, &running, &queued});
  // jobs=1: `running` holds the only slot, `queued` waits behind it.
  Scheduler sched({.jobs = 1});
  EventLog log;
  auto solved = sched.solve(root, {log.callback()});
  REQUIRE(!solved);
  llvm::Error err = solved.takeError();
  CHECK(err.isA<kiln::ExecError>());
  CHECK(kiln::error_message(std::move(err)) ==
        "process \"make all\" did not complete successfully: exit code: 2");
  CHECK((running.saw_cancel || queued.saw_cancel));
  CHECK(n.get("bad") == 1);
  CHECK(n.get("after_bad") == 0);
  CHECK(n.get("root") == 0);
  // `running` or `queued` took the slot first; the other never started.
  CHECK(n.get("running") + n.get("queued") == 1);
  auto lines = sorted(log.lines());
  CHECK(std::count(lines.begin(), lines.end(),
                   "error bad process \"make all\" did not complete successfully: exit code: 2") ==
        1);
  CHECK(std::count(lines.begin(), lines.end(), "started after_bad") == 0);
  CHECK(std::count(lines.begin(), lines.end(), "started root") == 0);
}

TEST_CASE("cached vertices are reported and not executed", "[scheduler]") {
  ExecCounter n;
  FakeVertex a(n, "a", "A");
  FakeVertex b(n, "b", "B", {&a});
  FakeStore store;
  CacheKey first_key;
  {
    Scheduler sched({.store = &store});
    auto solved = sched.solve(b);
    REQUIRE(static_cast<bool>(solved));
    first_key = solved->key;
  }
  CHECK(store.size() == 2);
  Scheduler sched({.store = &store});
  EventLog log;
  auto solved = sched.solve(b, {log.callback()});
  REQUIRE(static_cast<bool>(solved));
  CHECK(solved->key == first_key);
  CHECK(text(solved->result) == "B(A())");
  CHECK(log.lines() == std::vector<std::string>{"cached b"});
  CHECK(n.get("a") == 1);
  CHECK(n.get("b") == 1);

  SECTION("--no-cache runs everything again") {
    Scheduler fresh({.store = &store, .lookup = CacheLookup::no});
    REQUIRE(static_cast<bool>(fresh.solve(b)));
    CHECK(n.get("a") == 2);
    CHECK(n.get("b") == 2);
  }
}

TEST_CASE("content-based input digests keep dependents cached", "[scheduler]") {
  ExecCounter n;
  FakeStore store;
  // The dependent selects what follows '|' in its input's result.
  CacheDep dep;
  dep.selector = kiln::Digest::of("select after |");
  dep.content = [](const ResultPtr& in) -> llvm::Expected<kiln::Digest> {
    const std::string& v = text(in);
    return kiln::Digest::of(v.substr(v.find('|') + 1));
  };
  auto build = [&](const std::string& op, const std::string& value) {
    FakeVertex input(n, "input", op);
    input.value = value;
    FakeVertex copy(n, "copy", "COPY --from=input /out /", {&input});
    copy.deps = {dep};
    Scheduler sched({.store = &store});
    auto solved = sched.solve(copy);
    REQUIRE(static_cast<bool>(solved));
    return solved->key;
  };
  CacheKey k1 = build("RUN gen v1", "v1|same");
  CHECK(n.get("copy") == 1);
  // The input's op changed, so it re-runs; the part read is equal.
  CacheKey k2 = build("RUN gen v2", "v2|same");
  CHECK(n.get("input") == 2);
  CHECK(n.get("copy") == 1);
  CHECK(k2 == k1);
  CacheKey k3 = build("RUN gen v3", "v3|other");
  CHECK(n.get("input") == 3);
  CHECK(n.get("copy") == 2);
  CHECK(k3 != k1);
}

TEST_CASE("a failing content digest names its vertex's error", "[scheduler]") {
  ExecCounter n;
  FakeVertex input(n, "input", "INPUT");
  FakeVertex copy(n, "copy", "COPY", {&input});
  CacheDep dep;
  dep.content = [](const ResultPtr&) -> llvm::Expected<kiln::Digest> {
    return kiln::make_error("failed to compute cache key: '/missing' not found");
  };
  copy.deps = {dep};
  Scheduler sched({});
  auto solved = sched.solve(copy);
  REQUIRE(!solved);
  CHECK(kiln::error_message(solved.takeError()) ==
        "failed to compute cache key: '/missing' not found");
  CHECK(n.get("copy") == 0);

  FakeVertex wrong(n, "wrong", "WRONG", {&input});
  wrong.deps = {dep, dep};
  auto bad = sched.solve(wrong);
  REQUIRE(!bad);
  CHECK(kiln::error_message(bad.takeError()) ==
        "vertex 'wrong': cache map has 2 deps for 1 inputs");
}

TEST_CASE("two schedulers sharing a store wait for each other's step", "[scheduler]") {
  ExecCounter n;
  FakeStore store;
  FakeLocks locks;
  FakeVertex v1(n, "step", "STEP");
  FakeVertex v2(n, "step", "STEP");
  v1.sleep = v2.sleep = 200ms;
  Scheduler p1({.store = &store, .locks = &locks});
  Scheduler p2({.store = &store, .locks = &locks});
  EventLog log1;
  EventLog log2;
  llvm::Expected<Solved> r2 = llvm::make_error<kiln::KilnError>("not run");
  std::thread other([&] { r2 = p2.solve(v2, {log2.callback()}); });
  auto r1 = p1.solve(v1, {log1.callback()});
  other.join();
  REQUIRE(static_cast<bool>(r1));
  REQUIRE(static_cast<bool>(r2));
  CHECK(n.get("step") == 1);
  CHECK(locks.waits > 0);
  auto all = log1.lines();
  auto more = log2.lines();
  all.insert(all.end(), more.begin(), more.end());
  CHECK(sorted(all) == std::vector<std::string>{"cached step", "done step", "started step"});
}

TEST_CASE("the caller's cancel token stops a request", "[scheduler]") {
  ExecCounter n;
  FakeVertex running(n, "running", "RUNNING");
  running.resource = ResourceClass::container;
  running.wait_for_cancel = true;
  FakeVertex root(n, "root", "ROOT", {&running});
  Scheduler sched({});
  CancelToken ctrl_c;
  std::thread killer([&] {
    // Ctrl-C once the step runs.
    while (n.get("running") == 0) {
      std::this_thread::sleep_for(1ms);
    }
    ctrl_c.cancel();
  });
  EventLog log;
  auto solved = sched.solve(root, {log.callback(), &ctrl_c});
  killer.join();
  REQUIRE(!solved);
  llvm::Error err = solved.takeError();
  CHECK(err.isA<kiln::CancelledError>());
  CHECK(kiln::error_message(std::move(err)) == "cancelled");
  CHECK(running.saw_cancel);
  CHECK(log.lines() == std::vector<std::string>{"started running", "canceled running"});
  // A later request retries the cancelled step.
  running.wait_for_cancel = false;
  REQUIRE(static_cast<bool>(sched.solve(root)));
  CHECK(n.get("running") == 2);
}

TEST_CASE("log lines stream between started and done", "[scheduler]") {
  ExecCounter n;
  FakeVertex v(n, "v", "V");
  v.log_lines = {"line 1", "line 2"};
  Scheduler sched({});
  EventLog log;
  REQUIRE(static_cast<bool>(sched.solve(v, {log.callback()})));
  CHECK(log.lines() ==
        std::vector<std::string>{"started v", "log v line 1", "log v line 2", "done v"});
  CHECK(log.find(ProgressKind::started, "v").time <= log.find(ProgressKind::done, "v").time);
}

TEST_CASE("the key observer hears every step's key and what it was made of", "[scheduler]") {
  ExecCounter n;
  FakeVertex a(n, "a", "A");
  FakeVertex b(n, "b", "B", {&a});
  FakeVertex c(n, "c", "C", {&a, &b});
  FakeStore store;
  std::mutex mu;
  std::map<std::string, KeyInfo> seen;
  SchedulerOptions opts;
  opts.store = &store;
  opts.on_key = [&](const Vertex& v, const KeyInfo& info) {
    std::lock_guard lock(mu);
    CHECK(seen.count(v.name()) == 0);
    seen[v.name()] = info;
  };
  Scheduler sched(opts);
  auto solved = sched.solve(c);
  REQUIRE(static_cast<bool>(solved));
  REQUIRE(seen.size() == 3);
  CHECK(seen["c"].key == solved->key);
  CHECK(seen["c"].op_digest == kiln::Digest::of("C"));
  REQUIRE(seen["c"].inputs.size() == 2);
  CHECK(seen["c"].inputs[0].kind == KeyInput::Kind::key);
  CHECK(seen["c"].inputs[0].digest == seen["a"].key);
  CHECK(seen["c"].inputs[1].digest == seen["b"].key);
  CHECK(seen["a"].key == compute_cache_key(kiln::Digest::of("A"), {}));

  // A fully cached second solve (new scheduler, same store) still reports every key.
  seen.clear();
  Scheduler again(opts);
  REQUIRE(static_cast<bool>(again.solve(c)));
  CHECK(seen.size() == 3);
  CHECK(n.get("c") == 1);
}

TEST_CASE("a helper is passed after the inputs, runs beside them, and failing fails nothing",
          "[scheduler]") {
  ExecCounter n;
  FakeVertex slow(n, "slow", "S");
  slow.sleep = 300ms;
  FakeVertex src(n, "src", "R");
  FakeVertex help(n, "help", "H", {&src});
  FakeVertex user(n, "user", "U", {&slow});
  user.helper_vertex = &help;
  std::mutex mu;
  std::chrono::system_clock::time_point help_started;
  help.before = [&] {
    std::lock_guard lock(mu);
    help_started = std::chrono::system_clock::now();
  };

  SECTION("speculating, the helper runs while the input is built") {
    FakeStore store;
    Scheduler sched({.store = &store, .speculate = true});
    EventLog log;
    auto solved = sched.solve(user, {log.callback()});
    REQUIRE(static_cast<bool>(solved));
    CHECK(text(solved->result) == "U(S(),H(R()))");
    std::lock_guard lock(mu);
    CHECK(help_started < log.find(ProgressKind::done, "slow").time);
    // A helper shows no progress of its own.
    for (const auto& line : log.lines()) {
      CHECK(line.find("help") == std::string::npos);
    }
    // Cached, and so is the helper: nothing runs again.
    Scheduler again({.store = &store, .speculate = true});
    REQUIRE(static_cast<bool>(again.solve(user)));
    CHECK(n.get("help") == 1);
    CHECK(n.get("user") == 1);
  }
  SECTION("not speculating, the helper runs when the vertex misses") {
    Scheduler sched({});
    EventLog log;
    auto solved = sched.solve(user, {log.callback()});
    REQUIRE(static_cast<bool>(solved));
    CHECK(text(solved->result) == "U(S(),H(R()))");
    CHECK(n.get("help") == 1);
  }
  SECTION("a failing helper gives exec a null result and the build goes on") {
    help.fail = true;
    Scheduler sched({.speculate = true});
    EventLog log;
    auto solved = sched.solve(user, {log.callback()});
    REQUIRE(static_cast<bool>(solved));
    CHECK(text(solved->result) == "U(S(),null)");
  }
}
