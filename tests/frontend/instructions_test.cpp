// Typed instructions: fields, flags, stages, and every error's printed text.
#include <catch2/catch.hpp>

#include "frontend/instructions.h"
#include "support/error.h"

using namespace kiln::frontend;

namespace {

Dockerfile parse_ok(const std::string& text) {
  auto file = parse_dockerfile(text, "Dockerfile");
  if (!file) {
    FAIL(kiln::error_message(file.takeError()));
  }
  return std::move(*file);
}

/// The message of a failing parse (just the last line of the printed error).
std::string error_of(const std::string& text) {
  auto file = parse_dockerfile(text, "Dockerfile");
  REQUIRE(!file);
  return kiln::error_message(file.takeError());
}

template <typename T>
const T& only_command(const Dockerfile& file) {
  REQUIRE(file.stages.size() == 1);
  REQUIRE(file.stages[0].commands.size() == 1);
  const T* cmd = std::get_if<T>(&file.stages[0].commands[0]);
  REQUIRE(cmd != nullptr);
  return *cmd;
}

}  // namespace

TEST_CASE("stages, global ARGs, names and platforms", "[instructions]") {
  auto file = parse_ok(
      "ARG BASE=alpine\nARG V\n# builder\nFROM --platform=$BUILDPLATFORM ${BASE}:3 AS Build\n"
      "RUN make\nFROM scratch\nCOPY --from=build /out /\n");
  REQUIRE(file.meta_args.size() == 2);
  CHECK(file.meta_args[0].args == std::vector<ArgDef>{{"BASE", std::string("alpine")}});
  CHECK(file.meta_args[1].args == std::vector<ArgDef>{{"V", std::nullopt}});
  REQUIRE(file.stages.size() == 2);
  CHECK(file.stages[0].from.base == "${BASE}:3");
  CHECK(file.stages[0].from.name == "build");
  CHECK(file.stages[0].from.platform == "$BUILDPLATFORM");
  CHECK(file.stages[0].from.range == kiln::SourceRange{4, 4});
  CHECK(file.stages[0].comment == std::vector<std::string>{"builder"});
  CHECK(file.stages[1].from.name == "");
  REQUIRE(file.stages[1].commands.size() == 1);
  const auto& copy = std::get<CopyCmd>(file.stages[1].commands[0]);
  CHECK(copy.from == "build");
  CHECK(copy.sources == std::vector<std::string>{"/out"});
  CHECK(copy.dest == "/");
  CHECK(command_source(file.stages[1].commands[0]).range == kiln::SourceRange{7, 7});
  CHECK(command_source(file.stages[1].commands[0]).original == "COPY --from=build /out /");
  CHECK(command_source(file.stages[1].commands[0]).keyword == "COPY");
}

TEST_CASE("RUN: shell and exec form, mounts, network, security, heredocs", "[instructions]") {
  auto run = only_command<RunCmd>(parse_ok(
      "FROM a\nRUN --mount=type=cache,target=/root/.cache,id=pip,sharing=locked,mode=0700,uid=1 "
      "--mount=type=secret,id=tok --mount=from=b,src=/x,target=/y,rw --network=none "
      "--security=insecure pip install x\n"));
  CHECK(run.args == std::vector<std::string>{"pip install x"});
  CHECK(run.prepend_shell);
  CHECK(run.network == "none");
  CHECK(run.security == "insecure");
  REQUIRE(run.mounts.size() == 3);
  CHECK(run.mounts[0].type == RunMount::Type::cache);
  CHECK(run.mounts[0].target == "/root/.cache");
  CHECK(run.mounts[0].id == "pip");
  CHECK(run.mounts[0].sharing == RunMount::Sharing::locked);
  CHECK(run.mounts[0].mode == 0700u);
  CHECK(run.mounts[0].uid == 1u);
  CHECK(!run.mounts[0].read_only);
  CHECK(run.mounts[1].type == RunMount::Type::secret);
  CHECK(run.mounts[1].target == "/run/secrets/tok");
  CHECK(run.mounts[1].read_only);
  CHECK(run.mounts[2].type == RunMount::Type::bind);
  CHECK(run.mounts[2].from == "b");
  CHECK(run.mounts[2].source == "/x");
  CHECK(!run.mounts[2].read_only);

  auto exec = only_command<RunCmd>(parse_ok("FROM a\nRUN [\"echo\", \"hi\"]\n"));
  CHECK(exec.args == std::vector<std::string>{"echo", "hi"});
  CHECK(!exec.prepend_shell);

  auto heredoc = only_command<RunCmd>(parse_ok("FROM a\nRUN <<EOF\nset -e\necho $X\nEOF\n"));
  CHECK(heredoc.args == std::vector<std::string>{"<<EOF"});
  REQUIRE(heredoc.heredocs.size() == 1);
  CHECK(heredoc.heredocs[0].content == "set -e\necho $X\n");
  CHECK(heredoc.range == kiln::SourceRange{2, 5});
}

TEST_CASE("COPY and ADD flags and inline files", "[instructions]") {
  auto copy = only_command<CopyCmd>(parse_ok(
      "FROM a\nCOPY --chown=1:2 --chmod=755 --link --parents --exclude=*.md --exclude=.git "
      "a b/ /dst/\n"));
  CHECK(copy.chown == "1:2");
  CHECK(copy.chmod == "755");
  CHECK(copy.link);
  CHECK(copy.parents);
  CHECK(copy.excludes == std::vector<std::string>{"*.md", ".git"});
  CHECK(copy.sources == std::vector<std::string>{"a", "b/"});
  CHECK(copy.dest == "/dst/");

  auto add = only_command<AddCmd>(
      parse_ok("FROM a\nADD --checksum=sha256:abc --keep-git-dir=true --unpack=false "
               "https://x/y.tgz /y\n"));
  CHECK(add.checksum == "sha256:abc");
  CHECK(add.keep_git_dir);
  CHECK(add.unpack == false);
  auto plain = only_command<AddCmd>(parse_ok("FROM a\nADD [\"a b\", \"/c\"]\n"));
  CHECK(!plain.unpack.has_value());
  CHECK(plain.json);
  CHECK(plain.sources == std::vector<std::string>{"a b"});

  auto inline_files = only_command<CopyCmd>(
      parse_ok("FROM a\nCOPY <<one.txt <<-'two.sh' /dst/\nhello\none.txt\n\techo $A\ntwo.sh\n"));
  CHECK(inline_files.sources.empty());
  REQUIRE(inline_files.heredocs.size() == 2);
  CHECK(inline_files.heredocs[0] == Heredoc{"one.txt", "hello\n", true, false});
  CHECK(inline_files.heredocs[1] == Heredoc{"two.sh", "\techo $A\n", false, true});
  CHECK(inline_files.heredocs[1].body() == "echo $A\n");
}

TEST_CASE("ENV, LABEL, ARG, EXPOSE, VOLUME and the one-argument instructions", "[instructions]") {
  auto file = parse_ok(
      "FROM a\nENV A=1 B=\"x y\"\nENV C old form\nLABEL k=v\nARG X Y=2\nEXPOSE 80 443/tcp 22\n"
      "VOLUME [\"/a\", \"/b\"]\nWORKDIR /w\nUSER u:g\nSTOPSIGNAL SIGTERM\nMAINTAINER me\n"
      "SHELL [\"/bin/bash\", \"-c\"]\nCMD [\"x\"]\nENTRYPOINT run it\nONBUILD RUN echo hi\n");
  const auto& c = file.stages[0].commands;
  REQUIRE(c.size() == 14);
  CHECK(std::get<EnvCmd>(c[0]).pairs ==
        std::vector<KeyValue>{{"A", "1", false}, {"B", "\"x y\"", false}});
  CHECK(std::get<EnvCmd>(c[1]).pairs == std::vector<KeyValue>{{"C", "old form", true}});
  CHECK(std::get<LabelCmd>(c[2]).labels == std::vector<KeyValue>{{"k", "v", false}});
  CHECK(std::get<ArgCmd>(c[3]).args ==
        std::vector<ArgDef>{{"X", std::nullopt}, {"Y", std::string("2")}});
  CHECK(std::get<ExposeCmd>(c[4]).ports == std::vector<std::string>{"22", "443/tcp", "80"});
  CHECK(std::get<VolumeCmd>(c[5]).volumes == std::vector<std::string>{"/a", "/b"});
  CHECK(std::get<WorkdirCmd>(c[6]).path == "/w");
  CHECK(std::get<UserCmd>(c[7]).user == "u:g");
  CHECK(std::get<StopSignalCmd>(c[8]).signal == "SIGTERM");
  CHECK(std::get<MaintainerCmd>(c[9]).maintainer == "me");
  CHECK(std::get<ShellCmd>(c[10]).shell == std::vector<std::string>{"/bin/bash", "-c"});
  CHECK(std::get<CmdCmd>(c[11]).args == std::vector<std::string>{"x"});
  CHECK(!std::get<CmdCmd>(c[11]).prepend_shell);
  CHECK(std::get<EntrypointCmd>(c[12]).args == std::vector<std::string>{"run it"});
  CHECK(std::get<EntrypointCmd>(c[12]).prepend_shell);
  CHECK(std::get<OnbuildCmd>(c[13]).expression == "RUN echo hi");
}

TEST_CASE("HEALTHCHECK: every option and NONE", "[instructions]") {
  auto hc = only_command<HealthcheckCmd>(
      parse_ok("FROM a\nHEALTHCHECK --interval=1m30s --timeout=3s --start-period=1.5s "
               "--start-interval=500ms --retries=4 CMD curl -f http://localhost/\n"));
  CHECK(hc.test == std::vector<std::string>{"CMD-SHELL", "curl -f http://localhost/"});
  CHECK(hc.interval_ns == 90'000'000'000);
  CHECK(hc.timeout_ns == 3'000'000'000);
  CHECK(hc.start_period_ns == 1'500'000'000);
  CHECK(hc.start_interval_ns == 500'000'000);
  CHECK(hc.retries == 4);
  auto exec = only_command<HealthcheckCmd>(parse_ok("FROM a\nHEALTHCHECK CMD [\"true\"]\n"));
  CHECK(exec.test == std::vector<std::string>{"CMD", "true"});
  auto none = only_command<HealthcheckCmd>(parse_ok("FROM a\nHEALTHCHECK NONE\n"));
  CHECK(none.test == std::vector<std::string>{"NONE"});
}

TEST_CASE("instruction errors use BuildKit's wording", "[instructions]") {
  CHECK(error_of("FROM a\nCOPY --chwon=1 a b\n") ==
        "unknown flag: --chwon (did you mean chown?)");
  CHECK(error_of("FROM a\nCOPY --from=a --from=b a b\n") == "duplicate flag specified: --from");
  CHECK(error_of("FROM a\nCOPY --from a b\n") == "missing a value on flag: --from");
  CHECK(error_of("FROM a\nCOPY --link=maybe a b\n") ==
        "expecting boolean value for flag --link, not: maybe");
  CHECK(error_of("FROM a\nCOPY a\n") ==
        "COPY requires at least two arguments, but only one was provided. Destination could not "
        "be determined");
  CHECK(error_of("FROM a\nCOPY a <<EOF\nEOF\n") == "COPY cannot accept a heredoc as a destination");
  CHECK(error_of("FROM a b\n") == "FROM requires either one or three arguments");
  CHECK(error_of("FROM a AS 1x\n") ==
        "invalid name for build stage: \"1x\", name can't start with a number or contain symbols");
  CHECK(error_of("RUN x\n") == "no build stage in current context");
  CHECK(error_of("FROM a\nONBUILD ONBUILD RUN x\n") ==
        "Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed");
  CHECK(error_of("FROM a\nONBUILD FROM b\n") == "FROM isn't allowed as an ONBUILD trigger");
  CHECK(error_of("FROM a\nONBUILD MAINTAINER b\n") ==
        "MAINTAINER isn't allowed as an ONBUILD trigger");
  CHECK(error_of("FROM a\nONBUILD\n") == "ONBUILD requires at least one argument");
  CHECK(error_of("FROM a\nWORKDIR\n") == "WORKDIR requires exactly one argument");
  CHECK(error_of("FROM a\nEXPOSE\n") == "EXPOSE requires at least one argument");
  CHECK(error_of("FROM a\nSHELL /bin/sh -c\n") ==
        "SHELL requires the arguments to be in JSON form");
  CHECK(error_of("FROM a\nARG =1\n") == "ARG names can not be blank");
  CHECK(error_of("FROM a\nHEALTHCHECK NONE x\n") == "HEALTHCHECK NONE takes no arguments");
  CHECK(error_of("FROM a\nHEALTHCHECK CONNECT TCP 7000\n") ==
        "Unknown type \"CONNECT\" in HEALTHCHECK (try CMD)");
  CHECK(error_of("FROM a\nHEALTHCHECK CMD\n") == "Missing command after HEALTHCHECK CMD");
  CHECK(error_of("FROM a\nHEALTHCHECK --interval=1us CMD x\n") ==
        "Interval \"interval\" cannot be less than 1ms");
  CHECK(error_of("FROM a\nHEALTHCHECK --timeout=5x CMD x\n") ==
        "time: unknown unit \"x\" in duration \"5x\"");
  CHECK(error_of("FROM a\nHEALTHCHECK --retries=-1 CMD x\n") ==
        "--retries cannot be negative (-1)");
  CHECK(error_of("FROM a\nRUN --network=bridge x\n") == "unsupported network mode \"bridge\"");
  CHECK(error_of("FROM a\nRUN --mount=type=cahce,target=/x x\n") ==
        "unsupported mount type \"cahce\" (did you mean cache?)");
  CHECK(error_of("FROM a\nRUN --mount=target=/x,sharing=x x\n") ==
        "unsupported sharing value \"x\"");
  CHECK(error_of("FROM a\nRUN --mount=type=bind,mode=0700,target=/x x\n") ==
        "mode not allowed for \"bind\" type mounts");
  CHECK(error_of("FROM a\nRUN --mount=traget=/x x\n") ==
        "unexpected key 'traget' in 'traget=/x' (did you mean target?)");
  CHECK(error_of("FROM a\nRUN --mount=type=bind,from=$X,target=/x x\n") ==
        "'from' doesn't support variable expansion, define alias stage instead");
}

TEST_CASE("an instruction error prints with its lines", "[instructions]") {
  auto file = parse_dockerfile("FROM a\nCOPY --chwon=1 \\\n  a b\nRUN x\n", "Dockerfile");
  REQUIRE(!file);
  std::string printed;
  llvm::handleAllErrors(file.takeError(), [&](const kiln::SourceError& e) {
    printed = kiln::format_source_error(e);
  });
  CHECK(printed ==
        "Dockerfile:2\n"
        "--------------------\n"
        "   1 |     FROM a\n"
        "   2 | >>> COPY --chwon=1 \\\n"
        "   3 | >>>   a b\n"
        "   4 |     RUN x\n"
        "--------------------\n"
        "error: unknown flag: --chwon (did you mean chown?)\n");
}

TEST_CASE("parse_run_mount expands values when given an expander", "[instructions]") {
  auto mount = parse_run_mount("type=$T,target=$DIR,mode=$M",
                               [](llvm::StringRef w) -> llvm::Expected<std::string> {
                                 if (w == "$T") {
                                   return std::string("cache");
                                 }
                                 if (w == "$M") {
                                   return std::string("0755");
                                 }
                                 return std::string("/c");
                               });
  REQUIRE(bool(mount));
  CHECK(mount->type == RunMount::Type::cache);
  CHECK(mount->target == "/c");
  CHECK(mount->mode == 0755u);
  auto deferred = parse_run_mount("type=cache,target=/x,mode=$M", nullptr);
  REQUIRE(bool(deferred));
  CHECK(!deferred->mode.has_value());
}

TEST_CASE("Go durations", "[instructions]") {
  CHECK(*parse_go_duration("1h2m3s") == 3723'000'000'000);
  CHECK(*parse_go_duration("0") == 0);
  CHECK(*parse_go_duration("250us") == 250'000);
  CHECK(kiln::error_message(parse_go_duration("5").takeError()) ==
        "time: missing unit in duration \"5\"");
  CHECK(kiln::error_message(parse_go_duration("abc").takeError()) ==
        "time: invalid duration \"abc\"");
}
