// kiln.db: the store's SQLite database (WAL, busy timeout) and its schema
// migrations. Every module that keeps metadata in kiln.db adds its tables through
// the one migration list in cache/store_migrations.cpp.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <llvm/ADT/ArrayRef.h>
#include <llvm/ADT/STLFunctionalExtras.h>
#include <llvm/ADT/StringRef.h>
#include <llvm/Support/Error.h>

struct sqlite3;
struct sqlite3_stmt;

namespace kiln::cache {

/// One schema step. `version` n brings the schema from n-1 to n; `sql` is run in
/// one transaction together with `PRAGMA user_version = n`.
struct Migration {
  int version;
  const char* sql;
};

/// The migration list, ordered by version (cache/store_migrations.cpp). Append new
/// steps at the end; never edit a step that has shipped.
llvm::ArrayRef<Migration> store_migrations();

/// A prepared statement bound to a StoreDb. Move-only; not thread-safe.
class Statement {
 public:
  Statement(Statement&& other) noexcept : stmt_(other.stmt_), db_(other.db_) {
    other.stmt_ = nullptr;
  }
  Statement& operator=(Statement&&) = delete;
  Statement(const Statement&) = delete;
  ~Statement();

  /// Binds parameter `index` (1-based).
  Statement& bind(int index, llvm::StringRef text);
  Statement& bind(int index, int64_t value);
  /// Steps once: true when a row is available, false when done.
  llvm::Expected<bool> step();
  /// Steps to the end (for statements without result rows).
  llvm::Error run();
  /// Column `index` (0-based) of the current row.
  std::string text(int index) const;
  int64_t integer(int index) const;
  bool is_null(int index) const;

 private:
  friend class StoreDb;
  Statement(sqlite3_stmt* stmt, sqlite3* db) : stmt_(stmt), db_(db) {}
  sqlite3_stmt* stmt_;
  sqlite3* db_;
};

/// An open kiln.db connection. One per thread (SQLite's serialized mode makes a
/// shared one safe but slow); several processes may open the same file at once.
class StoreDb {
 public:
  /// Opens (creating) `path`, sets WAL mode and a busy timeout of `busy_timeout_ms`,
  /// and runs the pending steps of `migrations`. A database whose user_version is
  /// newer than the list is an error (a newer kiln wrote it).
  static llvm::Expected<std::unique_ptr<StoreDb>> open(
      llvm::StringRef path, llvm::ArrayRef<Migration> migrations = store_migrations(),
      int busy_timeout_ms = 60000);
  /// Like open() for a caller that only reads; where open() fails (a full or
  /// read-only file system, on which SQLite cannot set up its WAL index) opens
  /// `path` immutable instead, seeing what the last checkpoint wrote, and never
  /// writes. Fails with open()'s error when that fails too, or when the schema is
  /// not the latest of `migrations`.
  static llvm::Expected<std::unique_ptr<StoreDb>> open_read_only(
      llvm::StringRef path, llvm::ArrayRef<Migration> migrations = store_migrations());
  StoreDb(const StoreDb&) = delete;
  StoreDb& operator=(const StoreDb&) = delete;
  ~StoreDb();

  /// Runs `sql` (one or more statements, no parameters).
  llvm::Error exec(llvm::StringRef sql);
  /// Prepares one statement.
  llvm::Expected<Statement> prepare(llvm::StringRef sql);
  /// Runs the query `sql` (no parameters) and calls `row` with the statement on
  /// each result row.
  llvm::Error for_each_row(llvm::StringRef sql, llvm::function_ref<void(const Statement&)> row);
  /// BEGIN IMMEDIATE (takes the write lock at once, waiting up to the busy timeout).
  llvm::Error begin();
  llvm::Error commit();
  /// Rolls back if a transaction is open; never fails.
  void rollback();
  /// Rows changed by the last INSERT, UPDATE or DELETE.
  int64_t changes() const;
  /// The schema version (PRAGMA user_version).
  llvm::Expected<int> schema_version();
  /// Runs `PRAGMA integrity_check` and returns its first row ("ok" when sound).
  llvm::Expected<std::string> integrity_check();
  const std::string& path() const { return path_; }

 private:
  StoreDb(sqlite3* db, std::string path) : db_(db), path_(std::move(path)) {}
  llvm::Error migrate(llvm::ArrayRef<Migration> migrations);
  sqlite3* db_;
  std::string path_;
};

/// An error for SQLite result `rc` on `db`: "`what`: <sqlite message>".
llvm::Error make_sqlite_error(sqlite3* db, llvm::StringRef what);

}  // namespace kiln::cache
