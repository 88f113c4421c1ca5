// The syntax tree of a parsed Go template and the builtin functions; private to
// support/go_template*.cpp.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <llvm/Support/Error.h>
#include <nlohmann/json.hpp>

namespace kiln::support::go_template_detail {

using Value = nlohmann::ordered_json;

/// The value of a missing member: prints as "<no value>".
inline Value no_value() { return Value(Value::value_t::discarded); }

struct Pipeline;

/// One operand of a command: `.A.B`, `$x.A`, `"text"`, `3`, `true`, `nil`, a
/// function name, or `(pipeline).A`.
struct Operand {
  enum class Kind { field, variable, literal, function, pipeline };
  Kind kind = Kind::literal;
  std::string name;                 // variable ("$x", "$") or function name
  std::vector<std::string> fields;  // field chain after the base
  Value literal;                    // Kind::literal
  std::shared_ptr<Pipeline> sub;    // Kind::pipeline
};

struct Command {
  std::vector<Operand> args;
};

struct Pipeline {
  std::vector<std::string> vars;  // "$i", "$e" of `$i, $e :=`
  bool assign = false;            // `$x = ...` rather than `$x := ...`
  std::vector<Command> commands;
  int line = 1;
};

struct Node;

struct List {
  std::vector<Node> nodes;
};

struct Node {
  enum class Kind { text, action, if_, range, with, break_, continue_ };
  Kind kind = Kind::text;
  std::string text;
  Pipeline pipe;
  std::shared_ptr<List> body, else_body;
};

/// A builtin function: takes the evaluated arguments.
using Function = llvm::Expected<Value> (*)(std::vector<Value>& args);

/// The builtin function `name` (Go's builtins and docker's), or null. `and` and
/// `or` are evaluated lazily by the executor and are not listed here.
Function find_function(const std::string& name);

/// Go's type name of a value in messages: "string", "int", "float64", "bool", ...
std::string go_type_name(const Value& value);
/// fmt.Sprintf (args[0] is the format), fmt.Sprint and fmt.Sprintln over values.
llvm::Expected<Value> go_printf(std::vector<Value>& args);
llvm::Expected<Value> go_sprint(std::vector<Value>& args);
llvm::Expected<Value> go_sprintln(std::vector<Value>& args);

/// Go's truth: false, 0, nil, "" and empty arrays and objects are false.
bool truthy(const Value& value);

}  // namespace kiln::support::go_template_detail
