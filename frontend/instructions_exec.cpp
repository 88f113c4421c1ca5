// RUN (with --mount), COPY/ADD and HEALTHCHECK: the instructions with many flags.
#include <cmath>
#include <limits>

#include "frontend/go_text.h"
#include "frontend/instructions_internal.h"
#include "frontend/line_parsers.h"
#include "support/error.h"

namespace kiln::frontend {
namespace {

template <typename T>
llvm::Expected<Command> finish(ParseRequest& req, T cmd) {
  static_cast<CommandSource&>(cmd) = req.source;
  return Command(std::move(cmd));
}

/// A heredoc marker word (`<<EOF`, `<<-"EOF"`): its delimiter name, or "".
std::string heredoc_marker_name(llvm::StringRef word) {
  llvm::StringRef rest = word.ltrim("0123456789");
  if (!rest.consume_front("<<")) {
    return "";
  }
  rest.consume_front("-");
  if (rest.empty() || rest.contains('<')) {
    return "";
  }
  std::string name;
  for (char c : rest) {
    if (c != '\'' && c != '"') {
      name += c;
    }
  }
  return name;
}

/// BuildKit's parseSourcesAndDest: heredoc markers become inline files.
llvm::Error sources_and_dest(const ParseRequest& req, llvm::StringRef command, CopyAddFields* out) {
  const auto& args = req.node.args;
  if (!heredoc_marker_name(args.back()).empty()) {
    return make_error(command + " cannot accept a heredoc as a destination");
  }
  out->dest = args.back();
  for (size_t i = 0; i + 1 < args.size(); ++i) {
    std::string name = heredoc_marker_name(args[i]);
    if (name.empty()) {
      out->sources.push_back(args[i]);
      continue;
    }
    Heredoc doc;
    doc.name = name;
    for (const Heredoc& h : req.node.heredocs) {
      if (h.name == name) {
        doc = h;
      }
    }
    out->heredocs.push_back(std::move(doc));
  }
  out->json = req.node.json;
  return llvm::Error::success();
}

void add_copy_flags(BuildFlags& flags) {
  flags.add_string("chown");
  flags.add_string("chmod");
  flags.add_bool("link");
  flags.add_bool("parents");
  flags.add_strings("exclude");
}

void read_copy_flags(const BuildFlags& flags, CopyAddFields* out) {
  out->chown = flags.string_value("chown");
  out->chmod = flags.string_value("chmod");
  out->link = flags.bool_value("link");
  out->parents = flags.bool_value("parents");
  out->excludes = flags.strings_value("exclude");
}

}  // namespace

llvm::Expected<Command> parse_copy(ParseRequest& req) {
  if (req.node.args.size() < 2) {
    return make_error(
        "COPY requires at least two arguments, but only one was provided. Destination could not "
        "be determined");
  }
  add_copy_flags(req.flags);
  req.flags.add_string("from");
  if (auto err = req.flags.parse()) {
    return err;
  }
  CopyCmd cmd;
  if (auto err = sources_and_dest(req, "COPY", &cmd)) {
    return err;
  }
  read_copy_flags(req.flags, &cmd);
  cmd.from = req.flags.string_value("from");
  return finish(req, std::move(cmd));
}

llvm::Expected<Command> parse_add(ParseRequest& req) {
  if (req.node.args.size() < 2) {
    return make_error(
        "ADD requires at least two arguments, but only one was provided. Destination could not "
        "be determined");
  }
  add_copy_flags(req.flags);
  req.flags.add_bool("keep-git-dir");
  req.flags.add_string("checksum");
  req.flags.add_bool("unpack");
  req.flags.add_string("user-agent");
  if (auto err = req.flags.parse()) {
    return err;
  }
  AddCmd cmd;
  if (auto err = sources_and_dest(req, "ADD", &cmd)) {
    return err;
  }
  read_copy_flags(req.flags, &cmd);
  cmd.checksum = req.flags.string_value("checksum");
  cmd.keep_git_dir = req.flags.bool_value("keep-git-dir");
  cmd.user_agent = req.flags.string_value("user-agent");
  if (req.flags.used("unpack")) {
    cmd.unpack = req.flags.bool_value("unpack");
  }
  return finish(req, std::move(cmd));
}

llvm::Expected<Command> parse_run(ParseRequest& req) {
  req.flags.add_strings("mount");
  req.flags.add_string("network");
  req.flags.add_string("security");
  if (auto err = req.flags.parse()) {
    return err;
  }
  RunCmd cmd;
  for (const std::string& spec : req.flags.strings_value("mount")) {
    auto mount = parse_run_mount(spec, nullptr);
    if (!mount) {
      return mount.takeError();
    }
    cmd.mounts.push_back(std::move(*mount));
  }
  cmd.network = req.flags.string_value("network");
  if (!cmd.network.empty() && cmd.network != "default" && cmd.network != "none" &&
      cmd.network != "host") {
    return make_error("unsupported network mode " + go_quote(cmd.network));
  }
  cmd.security = req.flags.string_value("security");
  if (!cmd.security.empty() && cmd.security != "sandbox" && cmd.security != "insecure") {
    return make_error("unsupported security mode " + go_quote(cmd.security));
  }
  cmd.args = req.node.args;
  cmd.prepend_shell = !req.node.json;
  cmd.heredocs = req.node.heredocs;
  return finish(req, std::move(cmd));
}

namespace {

/// parseOptInterval: "" -> 0; otherwise a Go duration of at least 1ms (or 0).
llvm::Expected<int64_t> parse_interval(const BuildFlags& flags, const std::string& name) {
  const std::string& text = flags.string_value(name);
  if (text.empty()) {
    return 0;
  }
  auto d = parse_go_duration(text);
  if (!d || *d == 0) {
    return d;
  }
  if (*d < 1000000) {
    return make_error("Interval \"" + name + "\" cannot be less than 1ms");
  }
  return d;
}

}  // namespace

llvm::Expected<Command> parse_healthcheck(ParseRequest& req) {
  const auto& args = req.node.args;
  if (args.empty()) {
    return err_at_least_one("HEALTHCHECK");
  }
  HealthcheckCmd cmd;
  std::string type = llvm::StringRef(args[0]).upper();
  if (type == "NONE") {
    if (args.size() != 1) {
      return make_error("HEALTHCHECK NONE takes no arguments");
    }
    cmd.test = {"NONE"};
    return finish(req, std::move(cmd));
  }
  for (const char* name : {"interval", "timeout", "start-period", "start-interval", "retries"}) {
    req.flags.add_string(name);
  }
  if (auto err = req.flags.parse()) {
    return err;
  }
  if (type != "CMD") {
    return make_error("Unknown type " + go_quote(type) + " in HEALTHCHECK (try CMD)");
  }
  if (args.size() < 2) {
    return make_error("Missing command after HEALTHCHECK CMD");
  }
  cmd.test = {req.node.json ? "CMD" : "CMD-SHELL"};
  cmd.test.insert(cmd.test.end(), args.begin() + 1, args.end());
  int64_t* fields[] = {&cmd.interval_ns, &cmd.timeout_ns, &cmd.start_period_ns,
                       &cmd.start_interval_ns};
  const char* names[] = {"interval", "timeout", "start-period", "start-interval"};
  for (int i = 0; i < 4; ++i) {
    auto value = parse_interval(req.flags, names[i]);
    if (!value) {
      return value.takeError();
    }
    *fields[i] = *value;
  }
  const std::string& retries = req.flags.string_value("retries");
  if (!retries.empty()) {
    long long n = 0;
    if (llvm::StringRef(retries).getAsInteger(10, n) || n > std::numeric_limits<int32_t>::max() ||
        n < std::numeric_limits<int32_t>::min()) {
      return make_error("strconv.ParseInt: parsing " + go_quote(retries) + ": invalid syntax");
    }
    if (n < 0) {
      return make_error("--retries cannot be negative (" + std::to_string(n) + ")");
    }
    cmd.retries = static_cast<int>(n);
  }
  return finish(req, std::move(cmd));
}

llvm::Expected<int64_t> parse_go_duration(llvm::StringRef text) {
  std::string orig = text.str();
  auto invalid = [&] { return make_error("time: invalid duration " + go_quote(orig)); };
  bool negative = false;
  if (!text.empty() && (text[0] == '-' || text[0] == '+')) {
    negative = text[0] == '-';
    text = text.drop_front();
  }
  if (text == "0") {
    return 0;
  }
  if (text.empty()) {
    return invalid();
  }
  long double total = 0;
  while (!text.empty()) {
    size_t n = 0;
    while (n < text.size() &&
           (std::isdigit(static_cast<unsigned char>(text[n])) || text[n] == '.')) {
      ++n;
    }
    llvm::StringRef number = text.take_front(n);
    if (number.empty() || number == "." || number.count('.') > 1) {
      return invalid();
    }
    text = text.drop_front(n);
    size_t u = 0;
    while (u < text.size() && !std::isdigit(static_cast<unsigned char>(text[u])) &&
           text[u] != '.') {
      ++u;
    }
    llvm::StringRef unit = text.take_front(u);
    text = text.drop_front(u);
    if (unit.empty()) {
      return make_error("time: missing unit in duration " + go_quote(orig));
    }
    static const std::pair<const char*, long double> kUnits[] = {
        {"ns", 1},   {"us", 1e3}, {"\xC2\xB5s", 1e3}, {"\xCE\xBCs", 1e3},
        {"ms", 1e6}, {"s", 1e9},  {"m", 60e9},        {"h", 3600e9}};
    long double scale = 0;
    for (const auto& [name, factor] : kUnits) {
      if (unit == name) {
        scale = factor;
      }
    }
    if (scale == 0) {
      return make_error("time: unknown unit " + go_quote(unit) + " in duration " + go_quote(orig));
    }
    total += std::strtold(number.str().c_str(), nullptr) * scale;
    if (total > static_cast<long double>(std::numeric_limits<int64_t>::max())) {
      return invalid();
    }
  }
  int64_t ns = static_cast<int64_t>(total);
  return negative ? -ns : ns;
}

}  // namespace kiln::frontend
