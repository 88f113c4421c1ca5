#include "frontend/go_text.h"

#include <cstdio>

namespace kiln::frontend {

int utf8_rune_at(llvm::StringRef text, size_t pos, char32_t* rune) {
  auto byte = [&](size_t i) { return static_cast<unsigned char>(text[i]); };
  unsigned char c = byte(pos);
  *rune = 0xFFFD;
  if (c < 0x80) {
    *rune = c;
    return 1;
  }
  int len = 0;
  char32_t value = 0;
  char32_t min = 0;
  if ((c & 0xE0) == 0xC0) {
    len = 2, value = c & 0x1F, min = 0x80;
  } else if ((c & 0xF0) == 0xE0) {
    len = 3, value = c & 0x0F, min = 0x800;
  } else if ((c & 0xF8) == 0xF0) {
    len = 4, value = c & 0x07, min = 0x10000;
  } else {
    return 1;
  }
  if (pos + len > text.size()) {
    return 1;
  }
  for (int i = 1; i < len; ++i) {
    unsigned char cc = byte(pos + i);
    if ((cc & 0xC0) != 0x80) {
      return 1;
    }
    value = (value << 6) | (cc & 0x3F);
  }
  if (value < min || value > 0x10FFFF || (value >= 0xD800 && value <= 0xDFFF)) {
    return 1;
  }
  *rune = value;
  return len;
}

bool go_is_space(char32_t r) {
  switch (r) {
    case '\t':
    case '\n':
    case '\v':
    case '\f':
    case '\r':
    case ' ':
    case 0x85:
    case 0xA0:
    case 0x1680:
    case 0x2028:
    case 0x2029:
    case 0x202F:
    case 0x205F:
    case 0x3000:
      return true;
    default:
      return r >= 0x2000 && r <= 0x200A;
  }
}

namespace {

bool space_at(llvm::StringRef text, size_t pos, int* len) {
  char32_t r;
  *len = utf8_rune_at(text, pos, &r);
  if (*len == 1 && static_cast<unsigned char>(text[pos]) >= 0x80) {
    return false;
  }
  return go_is_space(r);
}

}  // namespace

llvm::StringRef go_trim_left_space(llvm::StringRef text) {
  size_t pos = 0;
  int len = 0;
  while (pos < text.size() && space_at(text, pos, &len)) {
    pos += len;
  }
  return text.drop_front(pos);
}

llvm::StringRef go_trim_space(llvm::StringRef text) {
  text = go_trim_left_space(text);
  // Trailing: walk forward remembering where the last non-space rune ended.
  size_t end = 0;
  size_t pos = 0;
  int len = 0;
  while (pos < text.size()) {
    bool space = space_at(text, pos, &len);
    pos += len;
    if (!space) {
      end = pos;
    }
  }
  return text.take_front(end);
}

std::string go_quote(llvm::StringRef text) {
  std::string out = "\"";
  size_t pos = 0;
  while (pos < text.size()) {
    char32_t r;
    int len = utf8_rune_at(text, pos, &r);
    unsigned char c = static_cast<unsigned char>(text[pos]);
    char buf[16];
    if (len == 1 && c >= 0x80) {
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    } else if (r == '"' || r == '\\') {
      out += '\\';
      out += static_cast<char>(r);
    } else if (r >= 0x20 && r < 0x7F) {
      out += static_cast<char>(r);
    } else if (r < 0x80) {
      switch (r) {
        case '\a':
          out += "\\a";
          break;
        case '\b':
          out += "\\b";
          break;
        case '\f':
          out += "\\f";
          break;
        case '\n':
          out += "\\n";
          break;
        case '\r':
          out += "\\r";
          break;
        case '\t':
          out += "\\t";
          break;
        case '\v':
          out += "\\v";
          break;
        default:
          std::snprintf(buf, sizeof buf, "\\x%02x", c);
          out += buf;
      }
    } else if (r < 0xA0 || r == 0xAD || r == 0xFEFF || (r >= 0x2028 && r <= 0x2029)) {
      // Not printable in Go's sense (C1 controls, soft hyphen, BOM, separators).
      std::snprintf(buf, sizeof buf, r > 0xFFFF ? "\\U%08x" : "\\u%04x", static_cast<unsigned>(r));
      out += buf;
    } else {
      out.append(text.data() + pos, len);
    }
    pos += len;
  }
  out += '"';
  return out;
}

}  // namespace kiln::frontend
