#include "service/storage/sqlite/migrations.h"

namespace okr::storage {
namespace {

// Conventions:
//  - `seq` is an AUTOINCREMENT rowid: monotonic, never reused, the paging order.
//  - Times are int64 microseconds since the Unix epoch; NULL is absl::InfinitePast().
//  - Optional references (team/objective parent) are NULL when the domain says "".
//  - Enums are stored as their integer values from service/okr/model.h.
//  - Work items are keyed by (tracker, item_key); links reference that row.
constexpr char kMigration1[] = R"sql(
CREATE TABLE teams (
  seq          INTEGER PRIMARY KEY AUTOINCREMENT,
  id           TEXT    NOT NULL UNIQUE,
  display_name TEXT    NOT NULL,
  parent_id    TEXT    REFERENCES teams (id),
  revision     INTEGER NOT NULL,
  create_time  INTEGER,
  update_time  INTEGER
);

CREATE TABLE cycles (
  seq          INTEGER PRIMARY KEY AUTOINCREMENT,
  id           TEXT    NOT NULL UNIQUE,
  display_name TEXT    NOT NULL,
  start_time   INTEGER,
  end_time     INTEGER,
  revision     INTEGER NOT NULL,
  create_time  INTEGER,
  update_time  INTEGER
);

CREATE TABLE objectives (
  seq         INTEGER PRIMARY KEY AUTOINCREMENT,
  id          TEXT    NOT NULL UNIQUE,
  title       TEXT    NOT NULL,
  description TEXT    NOT NULL,
  team_id     TEXT    NOT NULL REFERENCES teams (id),
  cycle_id    TEXT    NOT NULL REFERENCES cycles (id),
  parent_id   TEXT    REFERENCES objectives (id) ON DELETE SET NULL,
  kind        INTEGER NOT NULL,
  state       INTEGER NOT NULL,
  progress    REAL,
  revision    INTEGER NOT NULL,
  create_time INTEGER,
  update_time INTEGER
);

CREATE TABLE key_results (
  seq            INTEGER PRIMARY KEY AUTOINCREMENT,
  objective_id   TEXT    NOT NULL REFERENCES objectives (id) ON DELETE CASCADE,
  id             TEXT    NOT NULL,
  title          TEXT    NOT NULL,
  weight         REAL,
  type           INTEGER NOT NULL,
  metric_start   REAL,
  metric_target  REAL,
  metric_current REAL,
  metric_unit    TEXT    NOT NULL,
  milestone_done INTEGER NOT NULL,
  item_count     INTEGER NOT NULL,
  done_count     INTEGER NOT NULL,
  total_weight   REAL,
  done_weight    REAL,
  progress       REAL,
  raw_progress   REAL,
  revision       INTEGER NOT NULL,
  create_time    INTEGER,
  update_time    INTEGER,
  UNIQUE (objective_id, id)
);

CREATE TABLE check_ins (
  seq           INTEGER PRIMARY KEY AUTOINCREMENT,
  objective_id  TEXT    NOT NULL,
  key_result_id TEXT    NOT NULL,
  id            TEXT    NOT NULL,
  value         REAL,
  confidence    REAL,
  note          TEXT    NOT NULL,
  author        TEXT    NOT NULL,
  revision      INTEGER NOT NULL,
  create_time   INTEGER,
  update_time   INTEGER,
  UNIQUE (objective_id, key_result_id, id),
  FOREIGN KEY (objective_id, key_result_id)
    REFERENCES key_results (objective_id, id) ON DELETE CASCADE
);

CREATE TABLE work_items (
  seq         INTEGER PRIMARY KEY AUTOINCREMENT,
  tracker     INTEGER NOT NULL,
  item_key    TEXT    NOT NULL,
  title       TEXT    NOT NULL,
  url         TEXT    NOT NULL,
  done        INTEGER NOT NULL,
  weight      REAL,
  update_time INTEGER,
  UNIQUE (tracker, item_key)
);

CREATE TABLE work_item_links (
  seq           INTEGER PRIMARY KEY AUTOINCREMENT,
  objective_id  TEXT    NOT NULL,
  key_result_id TEXT    NOT NULL,
  id            TEXT    NOT NULL,
  tracker       INTEGER NOT NULL,
  item_key      TEXT    NOT NULL,
  revision      INTEGER NOT NULL,
  create_time   INTEGER,
  update_time   INTEGER,
  UNIQUE (objective_id, key_result_id, id),
  UNIQUE (objective_id, key_result_id, tracker, item_key),
  FOREIGN KEY (objective_id, key_result_id)
    REFERENCES key_results (objective_id, id) ON DELETE CASCADE,
  FOREIGN KEY (tracker, item_key) REFERENCES work_items (tracker, item_key)
);

CREATE TABLE request_records (
  request_id    TEXT    PRIMARY KEY,
  resource_name TEXT    NOT NULL,
  create_time   INTEGER NOT NULL
);
)sql";

// Secondary indexes: list filters, seq-ordered child listings, and the child side of
// every foreign key (so cascades and SET NULL do not scan).
constexpr char kMigration2[] = R"sql(
CREATE INDEX teams_by_parent ON teams (parent_id);
CREATE INDEX objectives_by_team ON objectives (team_id);
CREATE INDEX objectives_by_team_cycle ON objectives (team_id, cycle_id);
CREATE INDEX objectives_by_cycle ON objectives (cycle_id);
CREATE INDEX objectives_by_parent ON objectives (parent_id);
CREATE INDEX key_results_by_objective ON key_results (objective_id);
CREATE INDEX check_ins_by_key_result ON check_ins (objective_id, key_result_id);
CREATE INDEX work_item_links_by_key_result ON work_item_links (objective_id, key_result_id);
CREATE INDEX work_item_links_by_item ON work_item_links (tracker, item_key);
CREATE INDEX request_records_by_time ON request_records (create_time);
)sql";

constexpr SqliteMigration kMigrations[] = {
    {1,
     "tables for teams, cycles, objectives, key results, check-ins, work items, links, "
     "request records",
     kMigration1},
    {2, "indexes for list filters, child listings and foreign keys", kMigration2},
};

}  // namespace

absl::Span<const SqliteMigration> SqliteMigrations() { return kMigrations; }

}  // namespace okr::storage
