// The builtin functions of Go templates and docker's additions (printing ones are in
// go_template_fmt.cpp).

#include <algorithm>
#include <map>

#include "support/error.h"
#include "support/go_template.h"
#include "support/go_template_ast.h"

namespace kiln::support {
namespace go_template_detail {
namespace {

using Args = std::vector<Value>;

llvm::Error arity(const Args& args, size_t want) {
  if (args.size() == want) {
    return llvm::Error::success();
  }
  return make_error("wrong number of args: want " + llvm::Twine(want) + " got " +
                    llvm::Twine(args.size()));
}

llvm::Expected<std::string> string_arg(const Value& value) {
  if (!value.is_string()) {
    return make_error("expected a string, got " + quote(go_print(value)));
  }
  return value.get<std::string>();
}

llvm::Expected<Value> fn_not(Args& args) {
  if (auto err = arity(args, 1)) {
    return err;
  }
  return Value(!truthy(args[0]));
}

llvm::Expected<Value> fn_len(Args& args) {
  if (auto err = arity(args, 1)) {
    return err;
  }
  const Value& v = args[0];
  if (v.is_string()) {
    return Value(static_cast<int64_t>(v.get_ref<const std::string&>().size()));
  }
  if (v.is_array() || v.is_object()) {
    return Value(static_cast<int64_t>(v.size()));
  }
  return make_error("len of " + quote(go_print(v)));
}

llvm::Expected<Value> fn_index(Args& args) {
  if (args.empty()) {
    return make_error("wrong number of args: want at least 1 got 0");
  }
  Value item = args[0];
  for (size_t i = 1; i < args.size(); ++i) {
    if (item.is_array()) {
      if (!args[i].is_number_integer()) {
        return make_error("cannot index slice/array with " + quote(go_print(args[i])));
      }
      int64_t n = args[i].get<int64_t>();
      if (n < 0 || n >= static_cast<int64_t>(item.size())) {
        return make_error("index out of range: " + llvm::Twine(n));
      }
      Value next = item[n];
      item = std::move(next);
    } else if (item.is_object()) {
      if (!args[i].is_string()) {
        return make_error("value has type " + go_type_name(args[i]) + "; should be string");
      }
      auto it = item.find(args[i].get<std::string>());
      if (it == item.end()) {
        // Zero value of the map's element type: "" for a string map such as Labels.
        bool strings =
            std::all_of(item.begin(), item.end(), [](const Value& v) { return v.is_string(); });
        return strings ? Value("") : no_value();
      }
      Value next = *it;
      item = std::move(next);
    } else if (item.is_null() || item.is_discarded()) {
      return make_error("index of untyped nil");
    } else {
      return make_error("can't index item of type " + go_type_name(item));
    }
  }
  return item;
}

// Go's comparison of basic values: numbers by value, strings, bools.
llvm::Expected<int> compare(const Value& a, const Value& b) {
  if (a.is_number() && b.is_number()) {
    if (a.is_number_float() || b.is_number_float()) {
      double x = a.get<double>(), y = b.get<double>();
      return x < y ? -1 : x > y ? 1 : 0;
    }
    int64_t x = a.get<int64_t>(), y = b.get<int64_t>();
    return x < y ? -1 : x > y ? 1 : 0;
  }
  if (a.is_string() && b.is_string()) {
    int c = a.get_ref<const std::string&>().compare(b.get_ref<const std::string&>());
    return c < 0 ? -1 : c > 0 ? 1 : 0;
  }
  if (a.is_boolean() && b.is_boolean()) {
    return a.get<bool>() == b.get<bool>() ? 0 : 2;
  }
  if ((a.is_null() || a.is_discarded()) && (b.is_null() || b.is_discarded())) {
    return 0;
  }
  return make_error("incompatible types for comparison");
}

llvm::Expected<Value> fn_eq(Args& args) {
  if (args.size() < 2) {
    return make_error("missing argument for comparison");
  }
  for (size_t i = 1; i < args.size(); ++i) {
    auto c = compare(args[0], args[i]);
    if (!c) {
      return c.takeError();
    }
    if (*c == 0) {
      return Value(true);
    }
  }
  return Value(false);
}

bool ne_test(int c) { return c != 0; }
bool lt_test(int c) { return c == -1; }
bool le_test(int c) { return c <= 0; }
bool gt_test(int c) { return c == 1; }
bool ge_test(int c) { return c >= 0; }

// ne, lt, le, gt, ge; only ne accepts bools and nil.
template <bool (*Test)(int)>
llvm::Expected<Value> ordered(Args& args) {
  if (auto err = arity(args, 2)) {
    return err;
  }
  bool basic = args[0].is_number() || args[0].is_string();
  if (Test != &ne_test && !basic) {
    return make_error("invalid type for comparison");
  }
  auto c = compare(args[0], args[1]);
  if (!c) {
    return c.takeError();
  }
  return Value(Test(*c));
}

llvm::Expected<Value> fn_json(Args& args) {
  if (auto err = arity(args, 1)) {
    return err;
  }
  if (args[0].is_discarded()) {
    return Value("null");
  }
  return Value(args[0].dump(-1, ' ', false, Value::error_handler_t::replace));
}

llvm::Expected<Value> fn_join(Args& args) {
  if (auto err = arity(args, 2)) {
    return err;
  }
  auto sep = string_arg(args[1]);
  if (!sep) {
    return sep.takeError();
  }
  if (!args[0].is_array()) {
    return make_error("join needs a list of strings, got " + quote(go_print(args[0])));
  }
  std::string out;
  for (size_t i = 0; i < args[0].size(); ++i) {
    auto part = string_arg(args[0][i]);
    if (!part) {
      return part.takeError();
    }
    out += (i > 0 ? *sep : "") + *part;
  }
  return Value(out);
}

llvm::Expected<Value> fn_split(Args& args) {
  if (auto err = arity(args, 2)) {
    return err;
  }
  auto text = string_arg(args[0]);
  auto sep = string_arg(args[1]);
  if (!text || !sep) {
    llvm::consumeError(text.takeError());
    return sep ? make_error("split needs strings") : sep.takeError();
  }
  Value out = Value::array();
  if (sep->empty()) {
    for (char c : *text) {
      out.push_back(std::string(1, c));
    }
    return out;
  }
  size_t start = 0;
  for (size_t at; (at = text->find(*sep, start)) != std::string::npos; start = at + sep->size()) {
    out.push_back(text->substr(start, at - start));
  }
  out.push_back(text->substr(start));
  return out;
}

template <int (*Map)(int)>
llvm::Expected<Value> change_case(Args& args) {
  if (auto err = arity(args, 1)) {
    return err;
  }
  auto text = string_arg(args[0]);
  if (!text) {
    return text.takeError();
  }
  for (char& c : *text) {
    c = static_cast<char>(Map(static_cast<unsigned char>(c)));
  }
  return Value(*text);
}

llvm::Expected<Value> fn_title(Args& args) {
  if (auto err = arity(args, 1)) {
    return err;
  }
  auto text = string_arg(args[0]);
  if (!text) {
    return text.takeError();
  }
  bool start = true;
  for (char& c : *text) {
    if (start && std::islower(static_cast<unsigned char>(c))) {
      c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    }
    start = std::isspace(static_cast<unsigned char>(c)) != 0;
  }
  return Value(*text);
}

// Go's slice: x[i:j] of a string (bytes) or array with 0 to 2 integer bounds.
llvm::Expected<Value> fn_slice(Args& args) {
  if (args.empty() || args.size() > 3) {
    return make_error("wrong number of args: want 1 to 3 got " + llvm::Twine(args.size()));
  }
  const Value& item = args[0];
  if (!item.is_string() && !item.is_array()) {
    return make_error("can't slice item of type " + go_type_name(item));
  }
  int64_t size = item.is_string() ? static_cast<int64_t>(item.get_ref<const std::string&>().size())
                                  : static_cast<int64_t>(item.size());
  int64_t bounds[2] = {0, size};
  for (size_t i = 1; i < args.size(); ++i) {
    if (!args[i].is_number_integer()) {
      return make_error("cannot index slice/array with " + quote(go_print(args[i])));
    }
    bounds[i - 1] = args[i].get<int64_t>();
  }
  if (bounds[0] < 0 || bounds[1] > size || bounds[0] > bounds[1]) {
    return make_error("index out of range: " + llvm::Twine(bounds[0]) + ":" +
                      llvm::Twine(bounds[1]));
  }
  if (item.is_string()) {
    return Value(item.get_ref<const std::string&>().substr(bounds[0], bounds[1] - bounds[0]));
  }
  return Value(Value::array_t(item.begin() + bounds[0], item.begin() + bounds[1]));
}

// docker's pad: `before` spaces, the value, `after` spaces.
llvm::Expected<Value> fn_pad(Args& args) {
  if (auto err = arity(args, 3)) {
    return err;
  }
  if (!args[1].is_number_integer() || !args[2].is_number_integer()) {
    return make_error("pad needs two integers");
  }
  return Value(std::string(std::max<int64_t>(args[1].get<int64_t>(), 0), ' ') + go_print(args[0]) +
               std::string(std::max<int64_t>(args[2].get<int64_t>(), 0), ' '));
}

// docker's truncate: the first `length` bytes.
llvm::Expected<Value> fn_truncate(Args& args) {
  if (auto err = arity(args, 2)) {
    return err;
  }
  auto text = string_arg(args[0]);
  if (!text) {
    return text.takeError();
  }
  if (!args[1].is_number_integer()) {
    return make_error("truncate needs an integer length");
  }
  int64_t length = std::max<int64_t>(args[1].get<int64_t>(), 0);
  return Value(text->substr(0, static_cast<size_t>(length)));
}

}  // namespace

Function find_function(const std::string& name) {
  static const std::map<std::string, Function> functions = {
      {"printf", go_printf},
      {"print", go_sprint},
      {"println", go_sprintln},
      {"not", fn_not},
      {"len", fn_len},
      {"index", fn_index},
      {"slice", fn_slice},
      {"eq", fn_eq},
      {"ne", ordered<ne_test>},
      {"lt", ordered<lt_test>},
      {"le", ordered<le_test>},
      {"gt", ordered<gt_test>},
      {"ge", ordered<ge_test>},
      {"json", fn_json},
      {"join", fn_join},
      {"split", fn_split},
      {"lower", change_case<std::tolower>},
      {"upper", change_case<std::toupper>},
      {"title", fn_title},
      {"pad", fn_pad},
      {"truncate", fn_truncate},
  };
  auto it = functions.find(name);
  return it == functions.end() ? nullptr : it->second;
}

bool truthy(const Value& value) {
  switch (value.type()) {
    case Value::value_t::boolean:
      return value.get<bool>();
    case Value::value_t::string:
      return !value.get_ref<const std::string&>().empty();
    case Value::value_t::number_integer:
    case Value::value_t::number_unsigned:
      return value.get<int64_t>() != 0;
    case Value::value_t::number_float:
      return value.get<double>() != 0;
    case Value::value_t::array:
    case Value::value_t::object:
      return !value.empty();
    default:
      return false;
  }
}

}  // namespace go_template_detail
}  // namespace kiln::support
