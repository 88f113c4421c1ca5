// Merging normalized services and the small text helpers the loader shares.
#include <algorithm>

#include <llvm/ADT/SmallString.h>
#include <llvm/Support/Path.h>

#include "compose/normalize.h"
#include "support/error.h"

namespace kiln::compose {

llvm::Expected<std::vector<std::string>> split_command(llvm::StringRef text) {
  std::vector<std::string> words;
  std::string word;
  bool in_word = false;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == ' ' || c == '\t' || c == '\n') {
      if (in_word) {
        words.push_back(word);
        word.clear();
        in_word = false;
      }
      continue;
    }
    in_word = true;
    if (c == '\\' && i + 1 < text.size()) {
      word += text[++i];
    } else if (c == '\'' || c == '"') {
      size_t end = i + 1;
      while (end < text.size() && text[end] != c) {
        if (c == '"' && text[end] == '\\' && end + 1 < text.size()) {
          word += text[++end];
          ++end;
          continue;
        }
        word += text[end++];
      }
      if (end >= text.size()) {
        return make_error("invalid command line string " + quote(text) + ": unterminated quote");
      }
      i = end;
    } else {
      word += c;
    }
  }
  if (in_word) {
    words.push_back(word);
  }
  return words;
}

std::string absolute_path(llvm::StringRef path, llvm::StringRef base_dir, const Environment& env) {
  llvm::SmallString<256> out;
  if (path == "~" || path.startswith("~/")) {
    auto home = env.find("HOME");
    out = home == env.end() ? "/" : home->second;
    llvm::sys::path::append(out, path.drop_front(1));
  } else if (path.startswith("/")) {
    out = path;
  } else {
    out = base_dir;
    llvm::sys::path::append(out, path);
  }
  llvm::sys::path::remove_dots(out, true);
  std::string s(out.str());
  while (s.size() > 1 && s.back() == '/') {
    s.pop_back();
  }
  return s;
}

namespace {

bool same(const Node& a, const Node& b) { return emit_yaml(a) == emit_yaml(b); }

}  // namespace

void merge_service(Node& base, const Node& over) {
  for (const auto& [key, value] : over.entries) {
    Node* existing = base.find(key);
    if (!existing || existing->kind != value.kind || value.is_scalar() || value.is_null() ||
        key == "command" || key == "entrypoint" || key == "test" || key == "profiles") {
      base.set(key, value);
      continue;
    }
    if (value.is_map()) {
      merge_service(*existing, value);
      continue;
    }
    if (key == "volumes" || key == "secrets" || key == "configs") {
      // Unique by target (volumes) or source (secrets/configs): the override wins.
      const char* id = key == "volumes" ? "target" : "source";
      for (const Node& item : value.items) {
        bool replaced = false;
        for (Node& have : existing->items) {
          const Node* a = have.find(id);
          const Node* b = item.find(id);
          if (a && b && a->text == b->text) {
            have = item;
            replaced = true;
          }
        }
        if (!replaced) {
          existing->items.push_back(item);
        }
      }
      continue;
    }
    for (const Node& item : value.items) {
      bool dup = std::any_of(existing->items.begin(), existing->items.end(),
                             [&](const Node& have) { return same(have, item); });
      if (!dup) {
        existing->items.push_back(item);
      }
    }
  }
}

void sort_keys(Node& node) {
  if (!node.is_map()) {
    return;
  }
  std::stable_sort(node.entries.begin(), node.entries.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  node.key_lines.clear();
}

}  // namespace kiln::compose
