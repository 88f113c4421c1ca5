// Go's fmt over JSON values: default printing (%v), printf's verbs, print, println.

#include <cmath>
#include <cstdio>
#include <cstring>
#include <map>

#include "support/error.h"
#include "support/go_template.h"
#include "support/go_template_ast.h"

namespace kiln::support {
namespace go_template_detail {
namespace {

using Args = std::vector<Value>;

// Go's %v of a float64: shortest digits, exponent form below 1e-4 and from 1e6.
std::string go_float(double value) {
  if (std::isinf(value)) {
    return value > 0 ? "+Inf" : "-Inf";
  }
  if (std::isnan(value)) {
    return "NaN";
  }
  char buf[64];
  for (int precision = 1; precision <= 17; ++precision) {
    std::snprintf(buf, sizeof buf, "%.*e", precision - 1, value);
    if (std::strtod(buf, nullptr) == value) {
      break;
    }
  }
  std::string text = buf;  // d.ddde±XX
  size_t e = text.find('e');
  int exponent = std::atoi(text.c_str() + e + 1);
  std::string digits = text.substr(0, e);
  bool negative = digits[0] == '-';
  if (negative) {
    digits.erase(0, 1);
  }
  digits.erase(std::remove(digits.begin(), digits.end(), '.'), digits.end());
  std::string out = negative ? "-" : "";
  if (exponent < -4 || exponent >= 6) {
    out += digits.substr(0, 1);
    if (digits.size() > 1) {
      out += "." + digits.substr(1);
    }
    std::snprintf(buf, sizeof buf, "e%c%02d", exponent < 0 ? '-' : '+', std::abs(exponent));
    return out + buf;
  }
  if (exponent < 0) {
    return out + "0." + std::string(-exponent - 1, '0') + digits;
  }
  if (static_cast<int>(digits.size()) <= exponent + 1) {
    return out + digits + std::string(exponent + 1 - digits.size(), '0');
  }
  return out + digits.substr(0, exponent + 1) + "." + digits.substr(exponent + 1);
}

// Go's type name of a value in fmt's "%!verb(type=value)" complaints.
std::string go_type(const Value& value) {
  switch (value.type()) {
    case Value::value_t::string:
      return "string";
    case Value::value_t::boolean:
      return "bool";
    case Value::value_t::number_float:
      return "float64";
    case Value::value_t::number_integer:
    case Value::value_t::number_unsigned:
      return "int";
    case Value::value_t::array:
      return "[]interface {}";
    case Value::value_t::object:
      return "map[string]interface {}";
    default:
      return "<nil>";
  }
}

size_t code_points(const std::string& text) {
  return static_cast<size_t>(std::count_if(text.begin(), text.end(), [](char c) {
    return (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  }));
}

struct Spec {
  bool minus = false, plus = false, zero = false, space = false, sharp = false;
  int width = -1, precision = -1;
  char verb = 'v';
};

std::string pad(const Spec& spec, std::string text) {
  size_t length = code_points(text);
  if (spec.width < 0 || length >= static_cast<size_t>(spec.width)) {
    return text;
  }
  size_t fill = spec.width - length;
  if (spec.minus) {
    return text + std::string(fill, ' ');
  }
  if (spec.zero && !text.empty() && (text[0] == '-' || text[0] == '+')) {
    return text.substr(0, 1) + std::string(fill, '0') + text.substr(1);
  }
  return std::string(fill, spec.zero ? '0' : ' ') + text;
}

std::string bad_verb(const Spec& spec, const Value& value) {
  if (value.is_null() || value.is_discarded()) {
    return std::string("%!") + spec.verb + "(<nil>)";
  }
  return std::string("%!") + spec.verb + "(" + go_type(value) + "=" + go_print(value) + ")";
}

// %d, %x, %X: integers, and %x/%X of a string's bytes.
std::string format_integer(const Spec& spec, const Value& value) {
  char buf[64];
  if (value.is_number_integer()) {
    int64_t n = value.get<int64_t>();
    const char* form = spec.verb == 'd' ? "%lld" : spec.verb == 'x' ? "%llx" : "%llX";
    std::snprintf(buf, sizeof buf, form, static_cast<long long>(std::llabs(n)));
    std::string text = std::string(n < 0 ? "-" : spec.plus ? "+" : "") + buf;
    return pad(spec, text);
  }
  if (spec.verb != 'd' && value.is_string()) {
    std::string text;
    for (unsigned char c : value.get<std::string>()) {
      std::snprintf(buf, sizeof buf, spec.verb == 'x' ? "%02x" : "%02X", c);
      text += buf;
    }
    return pad(spec, text);
  }
  return bad_verb(spec, value);
}

// %f, %F, %e, %g of a float.
std::string format_float(const Spec& spec, const Value& value) {
  char buf[512];
  if (value.is_number_float()) {
    std::string form = std::string("%") + (spec.plus ? "+" : "") + "." +
                       std::to_string(spec.precision < 0 ? 6 : spec.precision) +
                       (spec.verb == 'F' ? 'f' : spec.verb);
    if (spec.verb == 'g' && spec.precision < 0) {
      return pad(spec, go_float(value.get<double>()));
    }
    std::snprintf(buf, sizeof buf, form.c_str(), value.get<double>());
    return pad(spec, buf);
  }
  return bad_verb(spec, value);
}

std::string format_one(const Spec& spec, const Value& value) {
  switch (spec.verb) {
    case 'v':
    case 's':
      if (spec.verb == 's' && (value.is_number() || value.is_boolean())) {
        return bad_verb(spec, value);
      }
      if (spec.precision >= 0 && value.is_string()) {
        std::string text = value.get<std::string>();
        size_t points = 0, i = 0;
        for (; i < text.size(); ++i) {
          if ((static_cast<unsigned char>(text[i]) & 0xC0) != 0x80 &&
              points++ == static_cast<size_t>(spec.precision)) {
            break;
          }
        }
        return pad(spec, text.substr(0, i));
      }
      return pad(spec, go_print(value));
    case 'q':
      return value.is_string() ? pad(spec, support::go_quote(value.get<std::string>()))
                               : bad_verb(spec, value);
    case 't':
      return value.is_boolean() ? pad(spec, value.get<bool>() ? "true" : "false")
                                : bad_verb(spec, value);
    case 'd':
    case 'x':
    case 'X':
      return format_integer(spec, value);
    case 'f':
    case 'F':
    case 'e':
    case 'g':
      return format_float(spec, value);
    default:
      return std::string("%!") + spec.verb + "(" + go_type(value) + "=" + go_print(value) + ")";
  }
}

llvm::Expected<Value> fn_printf(Args& args) {
  if (args.empty() || !args[0].is_string()) {
    return make_error("printf needs a format string");
  }
  std::string format = args[0].get<std::string>(), out;
  size_t next = 1;
  for (size_t i = 0; i < format.size(); ++i) {
    if (format[i] != '%') {
      out += format[i];
      continue;
    }
    Spec spec;
    for (++i; i < format.size() && std::strchr("-+0 #", format[i]); ++i) {
      spec.minus |= format[i] == '-';
      spec.plus |= format[i] == '+';
      spec.zero |= format[i] == '0';
    }
    auto number = [&](int& into) {
      if (i < format.size() && format[i] == '*' && next < args.size() &&
          args[next].is_number_integer()) {
        into = static_cast<int>(args[next++].get<int64_t>());
        ++i;
        return;
      }
      for (; i < format.size() && std::isdigit(static_cast<unsigned char>(format[i])); ++i) {
        into = (into < 0 ? 0 : into) * 10 + (format[i] - '0');
      }
    };
    number(spec.width);
    if (i < format.size() && format[i] == '.') {
      ++i;
      spec.precision = 0;
      number(spec.precision);
    }
    if (i >= format.size()) {
      out += "%!(NOVERB)";
      break;
    }
    spec.verb = format[i];
    if (spec.verb == '%') {
      out += '%';
      continue;
    }
    if (next >= args.size()) {
      out += std::string("%!") + spec.verb + "(MISSING)";
      continue;
    }
    out += format_one(spec, args[next++]);
  }
  if (next < args.size()) {
    out += "%!(EXTRA ";
    for (size_t i = next; i < args.size(); ++i) {
      out += (i > next ? ", " : "") + go_type(args[i]) + "=" + go_print(args[i]);
    }
    out += ")";
  }
  return Value(out);
}

// fmt.Sprint: a space between operands when neither side is a string.
llvm::Expected<Value> fn_print(Args& args) {
  std::string out;
  for (size_t i = 0; i < args.size(); ++i) {
    if (i > 0 && !args[i].is_string() && !args[i - 1].is_string()) {
      out += ' ';
    }
    out += go_print(args[i]);
  }
  return Value(out);
}

llvm::Expected<Value> fn_println(Args& args) {
  std::string out;
  for (size_t i = 0; i < args.size(); ++i) {
    out += (i > 0 ? " " : "") + go_print(args[i]);
  }
  return Value(out + "\n");
}

}  // namespace

std::string go_type_name(const Value& value) { return go_type(value); }
llvm::Expected<Value> go_printf(std::vector<Value>& args) { return fn_printf(args); }
llvm::Expected<Value> go_sprint(std::vector<Value>& args) { return fn_print(args); }
llvm::Expected<Value> go_sprintln(std::vector<Value>& args) { return fn_println(args); }

}  // namespace go_template_detail

std::string go_quote(const std::string& text) {
  std::string out = "\"";
  for (unsigned char c : text) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\r':
        out += "\\r";
        break;
      default:
        if (c < 0x20 || c == 0x7f) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\x%02x", c);
          out += buf;
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  return out + "\"";
}

std::string go_print(const nlohmann::ordered_json& value) {
  using go_template_detail::Value;
  switch (value.type()) {
    case Value::value_t::string:
      return value.get<std::string>();
    case Value::value_t::boolean:
      return value.get<bool>() ? "true" : "false";
    case Value::value_t::number_integer:
      return std::to_string(value.get<int64_t>());
    case Value::value_t::number_unsigned:
      return std::to_string(value.get<uint64_t>());
    case Value::value_t::number_float:
      return go_template_detail::go_float(value.get<double>());
    case Value::value_t::array: {
      std::string out = "[";
      for (size_t i = 0; i < value.size(); ++i) {
        out += (i > 0 ? " " : "") + go_print(value[i]);
      }
      return out + "]";
    }
    case Value::value_t::object: {
      std::map<std::string, std::string> sorted;
      for (const auto& [key, element] : value.items()) {
        sorted[key] = go_print(element);
      }
      std::string out = "map[";
      for (const auto& [key, text] : sorted) {
        out += (out.size() > 4 ? " " : "") + key + ":" + text;
      }
      return out + "]";
    }
    case Value::value_t::null:
      return "<nil>";
    default:
      return "<no value>";
  }
}

}  // namespace kiln::support
