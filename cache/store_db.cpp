#include "cache/store_db.h"

#include <sqlite3.h>

#include "support/error.h"

namespace kiln::cache {

llvm::Error make_sqlite_error(sqlite3* db, llvm::StringRef what) {
  return make_error(what + ": " + (db ? sqlite3_errmsg(db) : "out of memory"));
}

Statement::~Statement() {
  if (stmt_ != nullptr) {
    sqlite3_finalize(stmt_);
  }
}

Statement& Statement::bind(int index, llvm::StringRef text) {
  sqlite3_bind_text(stmt_, index, text.data(), static_cast<int>(text.size()), SQLITE_TRANSIENT);
  return *this;
}

Statement& Statement::bind(int index, int64_t value) {
  sqlite3_bind_int64(stmt_, index, value);
  return *this;
}

llvm::Expected<bool> Statement::step() {
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) {
    return true;
  }
  if (rc == SQLITE_DONE) {
    return false;
  }
  return make_sqlite_error(db_, "database");
}

llvm::Error Statement::run() {
  while (true) {
    auto row = step();
    if (!row) {
      return row.takeError();
    }
    if (!*row) {
      return llvm::Error::success();
    }
  }
}

std::string Statement::text(int index) const {
  const unsigned char* p = sqlite3_column_text(stmt_, index);
  int n = sqlite3_column_bytes(stmt_, index);
  return p ? std::string(reinterpret_cast<const char*>(p), static_cast<size_t>(n)) : std::string();
}

int64_t Statement::integer(int index) const { return sqlite3_column_int64(stmt_, index); }

bool Statement::is_null(int index) const {
  return sqlite3_column_type(stmt_, index) == SQLITE_NULL;
}

llvm::Expected<std::unique_ptr<StoreDb>> StoreDb::open(llvm::StringRef path,
                                                       llvm::ArrayRef<Migration> migrations,
                                                       int busy_timeout_ms) {
  sqlite3* raw = nullptr;
  int rc =
      sqlite3_open_v2(path.str().c_str(), &raw,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    llvm::Error err = make_sqlite_error(raw, "open database " + quote(path));
    sqlite3_close(raw);
    return err;
  }
  std::unique_ptr<StoreDb> db(new StoreDb(raw, path.str()));
  sqlite3_busy_timeout(raw, busy_timeout_ms);
  // journal_mode=WAL needs the write lock the first time; the busy timeout covers it.
  if (auto err = db->exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; "
                          "PRAGMA foreign_keys=ON;")) {
    return with_context(std::move(err), "open database " + quote(path));
  }
  if (auto err = db->migrate(migrations)) {
    return with_context(std::move(err), "open database " + quote(path));
  }
  return db;
}

llvm::Expected<std::unique_ptr<StoreDb>> StoreDb::open_read_only(
    llvm::StringRef path, llvm::ArrayRef<Migration> migrations) {
  auto db = open(path, migrations);
  if (db) {
    return db;
  }
  std::string uri = "file:";
  for (char c : path) {
    if (c == '?' || c == '#' || c == '%') {
      static const char kHex[] = "0123456789abcdef";
      uri += {'%', kHex[(c >> 4) & 0xf], kHex[c & 0xf]};
    } else {
      uri += c;
    }
  }
  uri += "?immutable=1";
  sqlite3* raw = nullptr;
  int rc = sqlite3_open_v2(uri.c_str(), &raw,
                           SQLITE_OPEN_READONLY | SQLITE_OPEN_URI | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    sqlite3_close(raw);
    return db;
  }
  std::unique_ptr<StoreDb> immutable(new StoreDb(raw, path.str()));
  auto version = immutable->schema_version();
  int latest = migrations.empty() ? 0 : migrations.back().version;
  if (!version || *version != latest) {
    llvm::consumeError(version ? llvm::Error::success() : version.takeError());
    return db;
  }
  llvm::consumeError(db.takeError());
  return immutable;
}

StoreDb::~StoreDb() { sqlite3_close_v2(db_); }

llvm::Error StoreDb::exec(llvm::StringRef sql) {
  char* message = nullptr;
  int rc = sqlite3_exec(db_, sql.str().c_str(), nullptr, nullptr, &message);
  if (rc != SQLITE_OK) {
    std::string text = message ? message : sqlite3_errstr(rc);
    sqlite3_free(message);
    return make_error("database: " + text);
  }
  return llvm::Error::success();
}

llvm::Error StoreDb::for_each_row(llvm::StringRef sql,
                                  llvm::function_ref<void(const Statement&)> row) {
  auto st = prepare(sql);
  if (!st) {
    return st.takeError();
  }
  while (true) {
    auto more = st->step();
    if (!more) {
      return more.takeError();
    }
    if (!*more) {
      return llvm::Error::success();
    }
    row(*st);
  }
}

llvm::Expected<Statement> StoreDb::prepare(llvm::StringRef sql) {
  sqlite3_stmt* stmt = nullptr;
  int rc = sqlite3_prepare_v2(db_, sql.data(), static_cast<int>(sql.size()), &stmt, nullptr);
  if (rc != SQLITE_OK) {
    return make_sqlite_error(db_, "database");
  }
  return Statement(stmt, db_);
}

llvm::Error StoreDb::begin() { return exec("BEGIN IMMEDIATE"); }

llvm::Error StoreDb::commit() { return exec("COMMIT"); }

void StoreDb::rollback() {
  if (!sqlite3_get_autocommit(db_)) {
    sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
  }
}

int64_t StoreDb::changes() const { return sqlite3_changes64(db_); }

llvm::Expected<int> StoreDb::schema_version() {
  auto stmt = prepare("PRAGMA user_version");
  if (!stmt) {
    return stmt.takeError();
  }
  auto row = stmt->step();
  if (!row) {
    return row.takeError();
  }
  return *row ? static_cast<int>(stmt->integer(0)) : 0;
}

llvm::Expected<std::string> StoreDb::integrity_check() {
  auto stmt = prepare("PRAGMA integrity_check");
  if (!stmt) {
    return stmt.takeError();
  }
  auto row = stmt->step();
  if (!row) {
    return row.takeError();
  }
  return *row ? stmt->text(0) : std::string();
}

llvm::Error StoreDb::migrate(llvm::ArrayRef<Migration> migrations) {
  auto current = schema_version();
  if (!current) {
    return current.takeError();
  }
  int latest = migrations.empty() ? 0 : migrations.back().version;
  if (*current >= latest) {
    if (*current > latest) {
      return make_error("schema version " + llvm::Twine(*current) +
                        " is newer than this kiln knows (" + llvm::Twine(latest) + ")");
    }
    return llvm::Error::success();
  }
  if (auto err = begin()) {
    return err;
  }
  // Another process may have migrated while we waited for the write lock.
  auto version = schema_version();
  if (!version) {
    rollback();
    return version.takeError();
  }
  for (const Migration& m : migrations) {
    if (m.version <= *version) {
      continue;
    }
    llvm::Error err = exec(m.sql);
    if (!err) {
      err = exec(("PRAGMA user_version = " + llvm::Twine(m.version)).str());
    }
    if (err) {
      rollback();
      return with_context(std::move(err), "schema migration " + llvm::Twine(m.version));
    }
  }
  return commit();
}

}  // namespace kiln::cache
