// Schema migrations of the PostgreSQL store, as numbered SQL scripts.
//
// The numbers are shared with the SQLite store (service/storage/sqlite/migrations.h):
// migration N here makes the same logical change as SQLite's migration N, so
// `schema_migrations.version` means the same thing on both backends. A version, once
// released, is never edited or renumbered (add a new one instead).
//
// PostgresStore::Open applies every migration whose version is not yet recorded in
// `schema_migrations(version INTEGER PRIMARY KEY, applied_at TEXT)`, in order, in one
// transaction that first takes `pg_advisory_xact_lock(kPostgresMigrationLockKey)`: replicas
// starting together apply each migration exactly once, the others wait and then see it.
#ifndef OKR_SERVICE_STORAGE_POSTGRES_MIGRATIONS_H_
#define OKR_SERVICE_STORAGE_POSTGRES_MIGRATIONS_H_

#include <cstdint>

#include "absl/types/span.h"

namespace okr::storage {

struct PostgresMigration {
  int version;              // 1, 2, 3, ... without gaps, as in SqliteMigrations()
  const char* description;  // one line, for humans
  const char* sql;          // one or more statements; runs inside a transaction
};

// The advisory lock (single bigint key space, per database) held while migrating.
inline constexpr int64_t kPostgresMigrationLockKey = 0x6f6b722d6d696772;  // "okr-migr"

// All migrations, ordered by version.
absl::Span<const PostgresMigration> PostgresMigrations();

}  // namespace okr::storage

#endif  // OKR_SERVICE_STORAGE_POSTGRES_MIGRATIONS_H_
