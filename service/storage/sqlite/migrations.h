// Schema migrations of the SQLite store, as numbered SQL scripts.
//
// Versions start at 1 and grow by one; a version, once released, is never edited or
// renumbered (add a new one instead). The numbers are meant to be shared with other
// backends: migration N of the PostgreSQL store makes the same logical change as
// migration N here, so `schema_migrations.version` means the same thing everywhere.
//
// SqliteStore::Open applies every migration whose version is not yet recorded in
// `schema_migrations(version INTEGER PRIMARY KEY, applied_at TEXT)`, in order, each in
// its own transaction together with the row that records it.
#ifndef OKR_SERVICE_STORAGE_SQLITE_MIGRATIONS_H_
#define OKR_SERVICE_STORAGE_SQLITE_MIGRATIONS_H_

#include "absl/types/span.h"

namespace okr::storage {

struct SqliteMigration {
  int version;              // 1, 2, 3, ... without gaps
  const char* description;  // one line, for humans
  const char* sql;          // one or more statements; runs inside a transaction
};

// All migrations, ordered by version.
absl::Span<const SqliteMigration> SqliteMigrations();

}  // namespace okr::storage

#endif  // OKR_SERVICE_STORAGE_SQLITE_MIGRATIONS_H_
