// Lint rules: the syntax checks here, the lowering-time ones in lower*.cpp.

#include "frontend/lint.h"

#include <algorithm>
#include <cstdio>
#include <map>
#include <sstream>

#include <llvm/ADT/STLExtras.h>

#include "frontend/go_text.h"
#include "support/shown.h"

namespace kiln::frontend {
namespace {

const LintRule kRules[] = {
    {"ConsistentInstructionCasing",
     "All commands within the Dockerfile should use the same casing (either upper or lower)",
     "https://docs.docker.com/go/dockerfile/rule/consistent-instruction-casing/"},
    {"DuplicateStageName", "Stage names should be unique",
     "https://docs.docker.com/go/dockerfile/rule/duplicate-stage-name/"},
    {"FromAsCasing", "The 'as' keyword should match the case of the 'from' keyword",
     "https://docs.docker.com/go/dockerfile/rule/from-as-casing/"},
    {"JSONArgsRecommended",
     "JSON arguments recommended for ENTRYPOINT/CMD to prevent unintended behavior related to OS "
     "signals",
     "https://docs.docker.com/go/dockerfile/rule/json-args-recommended/"},
    {"LegacyKeyValueFormat", "Legacy key/value format with whitespace separator should not be used",
     "https://docs.docker.com/go/dockerfile/rule/legacy-key-value-format/"},
    {"MaintainerDeprecated",
     "The MAINTAINER instruction is deprecated, use a label instead to define an image author",
     "https://docs.docker.com/go/dockerfile/rule/maintainer-deprecated/"},
    {"NoEmptyContinuation", "Empty continuation lines will become errors in a future release",
     "https://docs.docker.com/go/dockerfile/rule/no-empty-continuation/"},
    {"ExposeProtoCasing", "Protocol in EXPOSE instruction should be lowercase",
     "https://docs.docker.com/go/dockerfile/rule/expose-proto-casing/"},
    {"MultipleInstructionsDisallowed",
     "Multiple instructions of the same type should not be used in the same stage",
     "https://docs.docker.com/go/dockerfile/rule/multiple-instructions-disallowed/"},
    {"ReservedStageName", "Reserved words should not be used as stage names",
     "https://docs.docker.com/go/dockerfile/rule/reserved-stage-name/"},
    {"StageNameCasing", "Stage names should be lowercase",
     "https://docs.docker.com/go/dockerfile/rule/stage-name-casing/"},
    {"UndefinedArgInFrom", "FROM command must use declared ARGs",
     "https://docs.docker.com/go/dockerfile/rule/undefined-arg-in-from/"},
    {"UndefinedVar", "Variables should be defined before their use",
     "https://docs.docker.com/go/dockerfile/rule/undefined-var/"},
    {"WorkdirRelativePath",
     "Relative workdir without an absolute workdir declared within the build can have "
     "unexpected results if the base image changes",
     "https://docs.docker.com/go/dockerfile/rule/workdir-relative-path/"},
};

class SyntaxLinter {
 public:
  explicit SyntaxLinter(std::vector<LintWarning>& out) : out_(out) {}

  void add(llvm::StringRef rule, std::string detail, SourceRange range) {
    const LintRule* r = find_lint_rule(rule);
    out_.push_back({r->name, r->description, r->url, std::move(detail), range});
  }

  static llvm::StringRef keyword_as_written(const Node& node) {
    return llvm::StringRef(node.original).ltrim().split(' ').first.split('\t').first;
  }

  void check_node(const Node& node) {
    if (node.keyword == "maintainer") {
      add("MaintainerDeprecated", "Maintainer instruction is deprecated in favor of using label",
          node.range);
    }
    if (node.keyword == "env" || node.keyword == "label") {
      for (size_t i = 2; i < node.args.size(); i += 3) {
        if (node.args[i].empty()) {
          std::string name = llvm::StringRef(node.keyword).upper();
          add("LegacyKeyValueFormat",
              "\"" + name + " key=value\" should be used instead of legacy \"" + name +
                  " key value\" format",
              node.range);
          break;
        }
      }
    }
    if (node.keyword == "expose") {
      for (const std::string& port : node.args) {
        llvm::StringRef proto = llvm::StringRef(port).split('/').second;
        if (proto.lower() != proto) {
          add("ExposeProtoCasing",
              "Defined protocol '" + port + "' in EXPOSE instruction should be lowercase",
              node.range);
        }
      }
    }
    if (node.keyword == "from" && node.args.size() == 3) {
      llvm::StringRef name = node.args[2];
      if (name.lower() != name) {
        add("StageNameCasing", "Stage name '" + name.str() + "' should be lowercase", node.range);
      }
      if (name.equals_insensitive("scratch") || name.equals_insensitive("context")) {
        add("ReservedStageName",
            "Stage name should not use the same name as reserved stage " + go_quote(name.lower()),
            node.range);
      }
    }
    if (node.keyword == "from" && node.args.size() == 3) {
      llvm::StringRef from = keyword_as_written(node);
      llvm::StringRef as = node.args[1];
      bool from_upper = from.upper() == from;
      bool from_lower = from.lower() == from;
      if ((from_upper && as.upper() != as) || (from_lower && as.lower() != as)) {
        add("FromAsCasing",
            "'" + as.str() + "' and '" + from.str() + "' keywords' casing do not match",
            node.range);
      }
    }
  }

  /// CMD, ENTRYPOINT and HEALTHCHECK more than once in a stage: the earlier one
  /// is ignored, so it is the one reported.
  void check_used_once(const std::vector<const Node*>& nodes) {
    std::map<std::string, const Node*> seen;
    for (const Node* n : nodes) {
      if (n->keyword == "from") {
        seen.clear();
        continue;
      }
      if (n->keyword != "cmd" && n->keyword != "entrypoint" && n->keyword != "healthcheck") {
        continue;
      }
      auto [it, fresh] = seen.emplace(n->keyword, n);
      if (!fresh) {
        add("MultipleInstructionsDisallowed",
            "Multiple " + llvm::StringRef(n->keyword).upper() +
                " instructions should not be used in the same stage because only the last one "
                "will be used",
            it->second->range);
        it->second = n;
      }
    }
  }

  void check_casing(const std::vector<const Node*>& nodes) {
    int lower = 0;
    int upper = 0;
    for (const Node* n : nodes) {
      llvm::StringRef k = keyword_as_written(*n);
      if (k.lower() == k) {
        ++lower;
      } else if (k.upper() == k) {
        ++upper;
      }
    }
    bool majority_lower = lower > upper;
    for (const Node* n : nodes) {
      llvm::StringRef k = keyword_as_written(*n);
      const char* correct = nullptr;
      if (majority_lower && k.lower() != k) {
        correct = "lowercase";
      } else if (!majority_lower && k.upper() != k) {
        correct = "uppercase";
      }
      if (correct) {
        add("ConsistentInstructionCasing",
            "Command '" + k.str() + "' should match the case of the command majority (" + correct +
                ")",
            n->range);
      }
    }
  }

 private:
  std::vector<LintWarning>& out_;
};

/// The rules a `# check=skip=A,B` directive turns off ("all" for every rule).
std::vector<std::string> skipped_rules(const Ast& ast) {
  std::vector<std::string> out;
  for (const Directive& d : ast.directives) {
    if (d.name != "check") {
      continue;
    }
    llvm::SmallVector<llvm::StringRef, 4> parts;
    llvm::StringRef(d.value).split(parts, ';');
    for (llvm::StringRef part : parts) {
      auto [key, value] = part.trim().split('=');
      if (key.trim() != "skip") {
        continue;
      }
      llvm::SmallVector<llvm::StringRef, 8> rules;
      value.split(rules, ',');
      for (llvm::StringRef r : rules) {
        out.push_back(r.trim().str());
      }
    }
  }
  return out;
}

}  // namespace

const LintRule* find_lint_rule(llvm::StringRef name) {
  for (const auto& r : kRules) {
    if (name == r.name) {
      return &r;
    }
  }
  return nullptr;
}

std::string suggest_name(llvm::StringRef name, const std::vector<std::string>& options) {
  std::string best;
  unsigned best_distance = 3;
  std::string lowered = name.lower();
  for (const auto& option : options) {
    unsigned d = llvm::StringRef(lowered).edit_distance(llvm::StringRef(option).lower());
    if (d < best_distance && d < name.size()) {
      best_distance = d;
      best = option;
    }
  }
  return best;
}

llvm::Expected<std::vector<LintWarning>> lint_dockerfile(const Dockerfile& dockerfile,
                                                         LowerOptions options) {
  std::vector<LintWarning> out;
  SyntaxLinter linter(out);
  for (const ParseWarning& w : dockerfile.ast.warnings) {
    if (w.rule == "NoEmptyContinuation") {
      linter.add(w.rule, "Empty continuation line", w.range);
    }
  }
  std::vector<const Node*> stage_nodes;
  std::vector<std::string> seen_names;
  bool in_stage = false;
  for (const Node& node : dockerfile.ast.nodes) {
    in_stage = in_stage || node.keyword == "from";
    linter.check_node(node);
    if (in_stage) {
      stage_nodes.push_back(&node);
    }
  }
  for (const Stage& stage : dockerfile.stages) {
    const std::string& name = stage.from.name;
    if (name.empty()) {
      continue;
    }
    if (std::find(seen_names.begin(), seen_names.end(), name) != seen_names.end()) {
      linter.add("DuplicateStageName",
                 "Duplicate stage name " + go_quote(name) + ", stage names should be unique",
                 stage.from.range);
    }
    seen_names.push_back(name);
  }
  linter.check_casing(stage_nodes);
  linter.check_used_once(stage_nodes);
  options.all_stages = true;
  options.lint = &out;
  auto lowered = lower(dockerfile, options);
  if (!lowered) {
    return lowered.takeError();
  }
  std::stable_sort(out.begin(), out.end(), [](const LintWarning& a, const LintWarning& b) {
    return a.range.start_line < b.range.start_line;
  });
  std::vector<std::string> skipped = skipped_rules(dockerfile.ast);
  llvm::erase_if(out, [&](const LintWarning& w) {
    return llvm::is_contained(skipped, "all") || llvm::is_contained(skipped, w.rule);
  });
  return out;
}

}  // namespace kiln::frontend

namespace kiln::frontend {
namespace {

/// BuildKit's errdefs.Source.Print of `range` in `source`.
void print_excerpt(std::ostream& os, const std::string& file, const std::string& source,
                   SourceRange range) {
  std::vector<std::string> lines;
  std::stringstream ss(source);
  for (std::string line; std::getline(ss, line);) {
    lines.push_back(line);
  }
  if (source.empty() || source.back() == '\n') {
    lines.emplace_back();  // Go's strings.Split keeps the empty last element.
  }
  int total = static_cast<int>(lines.size());
  int start = range.start_line;
  int end = std::min(range.end_line, total);
  if (start < 1 || start > total) {
    return;
  }
  int pad = start == end ? 4 : 2;
  for (int p = 0; p < pad; ++p) {
    if (start > 1) {
      --start;
      ++p;
    }
    if (end != total) {
      ++end;
      ++p;
    }
  }
  os << file << ":" << range.start_line << "\n--------------------\n";
  for (int i = start; i <= end; ++i) {
    bool marked = i >= range.start_line && i <= range.end_line;
    char num[16];
    std::snprintf(num, sizeof(num), " %3d | ", i);
    os << num << (marked ? ">>> " : "    ") << shown_start(lines[i - 1]) << "\n";
  }
  os << "--------------------\n";
}

}  // namespace

std::string format_lint_warning(const LintWarning& warning, const Ast& ast) {
  std::ostringstream os;
  os << "\nWARNING: " << warning.rule << " - " << warning.url << "\n" << warning.detail << "\n";
  print_excerpt(os, ast.file_name, ast.source ? *ast.source : "", warning.range);
  return os.str();
}

std::string lint_check_text(const std::vector<LintWarning>& warnings, const Ast& ast) {
  if (warnings.empty()) {
    return "Check complete, no warnings found.\n";
  }
  std::string text = warnings.size() == 1 ? "Check complete, 1 warning has been found!\n"
                                          : "Check complete, " + std::to_string(warnings.size()) +
                                                " warnings have been found!\n";
  for (const auto& w : warnings) {
    text += format_lint_warning(w, ast);
  }
  return text;
}

}  // namespace kiln::frontend
