// Early return of a failed llvm::Expected or llvm::Error, so that a call that
// can fail takes one line instead of four:
//
//   KILN_TRY(auto store, ContainerStore::open(root));   // store: the value
//   KILN_CHECK(store.rename(id, name));                 // returns the error
//
// Both return from the enclosing function, whose return type is llvm::Error or
// an llvm::Expected<T> (a lambda says so: `-> llvm::Expected<int>`).
#pragma once

#include <utility>

#include <llvm/Support/Error.h>

/// Evaluates `expr`, an llvm::Expected<T>. A failure is returned from the
/// enclosing function; a value is moved into the declaration `decl` (`auto x`,
/// `std::string x`, `auto&& x`). At most one KILN_TRY per line.
#define KILN_TRY(decl, expr) KILN_TRY_IMPL_(KILN_TRY_CAT_(kiln_try_, __LINE__), decl, expr)

/// Evaluates `expr`, an llvm::Error, and returns it from the enclosing function
/// when it is a failure.
#define KILN_CHECK(expr)                  \
  do {                                    \
    if (llvm::Error kiln_err_ = (expr)) { \
      return kiln_err_;                   \
    }                                     \
  } while (false)

#define KILN_TRY_IMPL_(tmp, decl, expr) \
  auto tmp = (expr);                    \
  if (!tmp) {                           \
    return tmp.takeError();             \
  }                                     \
  decl = std::move(*tmp)
#define KILN_TRY_CAT_(a, b) KILN_TRY_CAT2_(a, b)
#define KILN_TRY_CAT2_(a, b) a##b
