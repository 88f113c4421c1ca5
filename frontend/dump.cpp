// BuildKit's AST dump format and source errors for a parsed file.
#include "frontend/ast.h"
#include "frontend/go_text.h"

namespace kiln::frontend {

std::string dump_node(const Node& node) {
  std::string out = "(" + node.keyword;
  if (!node.flags.empty()) {
    out += " [";
    for (size_t i = 0; i < node.flags.size(); ++i) {
      out += (i ? " " : "") + go_quote(node.flags[i]);
    }
    out += "]";
  }
  for (const Node& child : node.children) {
    out += " " + dump_node(child);
  }
  for (const std::string& arg : node.args) {
    out += " " + go_quote(arg);
  }
  return out + ")";
}

std::string dump_ast(const Ast& ast) {
  std::string out;
  for (const Node& node : ast.nodes) {
    out += dump_node(node) + "\n";
  }
  return out;
}

llvm::Error make_source_error(const Ast& ast, const llvm::Twine& message, SourceRange range) {
  return llvm::make_error<SourceError>(message.str(), ast.file_name,
                                       std::vector<SourceRange>{range}, ast.source);
}

}  // namespace kiln::frontend
