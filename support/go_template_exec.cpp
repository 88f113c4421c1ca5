// Evaluation of a parsed Go template over a JSON tree.

#include "support/error.h"
#include "support/go_template.h"
#include "support/go_template_ast.h"

namespace kiln::support {
namespace go_template_detail {
namespace {

enum class Flow { normal, break_, continue_ };

class Executor {
 public:
  Executor(const Value& root, GoTemplate::Functions functions) : functions_(functions) {
    vars_.emplace_back("$", root);
  }

  llvm::Expected<Flow> run(const List& list, const Value& dot) {
    for (const Node& node : list.nodes) {
      auto flow = run_node(node, dot);
      if (!flow) {
        return flow.takeError();
      }
      if (*flow != Flow::normal) {
        return *flow;
      }
    }
    return Flow::normal;
  }

  std::string out;

 private:
  llvm::Error fail(const Pipeline& pipe, const llvm::Twine& message) const {
    return make_error("line " + llvm::Twine(pipe.line) + ": " + message);
  }

  llvm::Expected<Flow> run_node(const Node& node, const Value& dot) {
    switch (node.kind) {
      case Node::Kind::text:
        out += node.text;
        return Flow::normal;
      case Node::Kind::break_:
        return Flow::break_;
      case Node::Kind::continue_:
        return Flow::continue_;
      case Node::Kind::action: {
        auto value = pipeline(node.pipe, dot);
        if (!value) {
          return value.takeError();
        }
        if (node.pipe.vars.empty()) {
          out += go_print(*value);
        }
        return Flow::normal;
      }
      case Node::Kind::range:
        return run_range(node, dot);
      case Node::Kind::if_:
      case Node::Kind::with:
        break;
    }
    size_t scope = vars_.size();
    auto value = pipeline(node.pipe, dot);
    if (!value) {
      return value.takeError();
    }
    llvm::Expected<Flow> flow = Flow::normal;
    if (truthy(*value)) {
      flow = run(*node.body, node.kind == Node::Kind::with ? *value : dot);
    } else if (node.else_body) {
      flow = run(*node.else_body, dot);
    }
    vars_.resize(scope);
    return flow;
  }

  llvm::Expected<Flow> run_range(const Node& node, const Value& dot) {
    size_t scope = vars_.size();
    Pipeline pipe = node.pipe;
    std::vector<std::string> names = std::move(pipe.vars);
    pipe.vars.clear();
    auto value = pipeline(pipe, dot);
    if (!value) {
      return value.takeError();
    }
    std::vector<std::pair<Value, const Value*>> items;  // key or index, element
    if (value->is_array()) {
      for (size_t i = 0; i < value->size(); ++i) {
        items.emplace_back(static_cast<int64_t>(i), &(*value)[i]);
      }
    } else if (value->is_object()) {
      for (const auto& [key, element] : value->items()) {
        items.emplace_back(key, &element);
      }
      std::sort(items.begin(), items.end(),
                [](const auto& a, const auto& b) { return a.first < b.first; });
    } else if (!value->is_null() && !value->is_discarded()) {
      return fail(node.pipe, "range can't iterate over " + quote(go_print(*value)));
    }
    for (const auto& [key, element] : items) {
      vars_.resize(scope);
      if (names.size() == 1) {
        vars_.emplace_back(names[0], *element);
      } else if (names.size() == 2) {
        vars_.emplace_back(names[0], key);
        vars_.emplace_back(names[1], *element);
      }
      auto flow = run(*node.body, *element);
      if (!flow) {
        return flow.takeError();
      }
      if (*flow == Flow::break_) {
        break;
      }
    }
    vars_.resize(scope);
    if (items.empty() && node.else_body) {
      return run(*node.else_body, dot);
    }
    return Flow::normal;
  }

  // Evaluates `pipe`, binding or assigning its variables.
  llvm::Expected<Value> pipeline(const Pipeline& pipe, const Value& dot) {
    std::optional<Value> piped;
    for (const Command& command : pipe.commands) {
      auto value = run_command(pipe, command, dot, piped);
      if (!value) {
        return value.takeError();
      }
      piped = std::move(*value);
    }
    if (!pipe.vars.empty()) {
      if (pipe.assign) {
        for (auto it = vars_.rbegin(); it != vars_.rend(); ++it) {
          if (it->first == pipe.vars[0]) {
            it->second = *piped;
            break;
          }
        }
      } else {
        vars_.emplace_back(pipe.vars[0], *piped);
      }
    }
    return std::move(*piped);
  }

  llvm::Expected<Value> run_command(const Pipeline& pipe, const Command& command, const Value& dot,
                                    std::optional<Value>& piped) {
    const Operand& head = command.args[0];
    if (head.kind != Operand::Kind::function) {
      if (command.args.size() > 1 || piped) {
        return fail(pipe, "can't give argument to non-function");
      }
      return operand(pipe, head, dot);
    }
    if (head.name == "and" || head.name == "or") {
      return logic(pipe, command, dot, piped);
    }
    std::vector<Value> args;
    for (size_t i = 1; i < command.args.size(); ++i) {
      auto value = operand(pipe, command.args[i], dot);
      if (!value) {
        return value.takeError();
      }
      args.push_back(std::move(*value));
    }
    if (piped) {
      args.push_back(std::move(*piped));
    }
    auto result = function(head.name)(args);
    if (!result) {
      return fail(pipe, "error calling " + head.name + ": " + error_message(result.takeError()));
    }
    return result;
  }

  // `and`/`or`: stop at the first false/true argument and return it.
  llvm::Expected<Value> logic(const Pipeline& pipe, const Command& command, const Value& dot,
                              std::optional<Value>& piped) {
    size_t count = command.args.size() - 1 + (piped ? 1 : 0);
    if (count == 0) {
      return fail(pipe, "wrong number of args for " + command.args[0].name);
    }
    bool want = command.args[0].name == "or";
    Value value;
    for (size_t i = 1; i <= count; ++i) {
      if (i < command.args.size()) {
        auto next = operand(pipe, command.args[i], dot);
        if (!next) {
          return next.takeError();
        }
        value = std::move(*next);
      } else {
        value = std::move(*piped);
      }
      if (truthy(value) == want) {
        break;
      }
    }
    return value;
  }

  llvm::Expected<Value> operand(const Pipeline& pipe, const Operand& op, const Value& dot) {
    Value base;
    switch (op.kind) {
      case Operand::Kind::literal:
        return op.literal;
      case Operand::Kind::function: {
        std::vector<Value> none;
        auto result = function(op.name)(none);
        if (!result) {
          return fail(pipe, "error calling " + op.name + ": " + error_message(result.takeError()));
        }
        return result;
      }
      case Operand::Kind::field:
        base = dot;
        break;
      case Operand::Kind::variable:
        for (auto it = vars_.rbegin(); it != vars_.rend(); ++it) {
          if (it->first == op.name) {
            base = it->second;
            break;
          }
        }
        break;
      case Operand::Kind::pipeline: {
        auto value = pipeline(*op.sub, dot);
        if (!value) {
          return value.takeError();
        }
        base = std::move(*value);
        break;
      }
    }
    for (const std::string& field : op.fields) {
      if (base.is_discarded() || base.is_null()) {
        return no_value();
      }
      if (!base.is_object()) {
        return fail(pipe, "can't evaluate field " + field + " in " + quote(go_print(base)));
      }
      auto it = base.find(field);
      Value next = it == base.end() ? no_value() : *it;
      base = std::move(next);
    }
    return base;
  }

  // The function `name`, or the identity in header mode for docker's functions.
  Function function(const std::string& name) const {
    static const char* const kHeaderIdentity[] = {"json",  "join",  "split", "lower",
                                                  "upper", "title", "pad",   "truncate"};
    if (functions_ == GoTemplate::Functions::header &&
        std::find(std::begin(kHeaderIdentity), std::end(kHeaderIdentity), name) !=
            std::end(kHeaderIdentity)) {
      return [](std::vector<Value>& args) -> llvm::Expected<Value> {
        return args.empty() ? Value("") : Value(go_print(args[0]));
      };
    }
    return find_function(name);
  }

  GoTemplate::Functions functions_;
  std::vector<std::pair<std::string, Value>> vars_;
};

}  // namespace
}  // namespace go_template_detail

llvm::Expected<std::string> GoTemplate::execute(const nlohmann::ordered_json& data,
                                                Functions functions) const {
  go_template_detail::Executor executor(data, functions);
  auto flow = executor.run(*root_, data);
  if (!flow) {
    return flow.takeError();
  }
  return std::move(executor.out);
}

}  // namespace kiln::support
