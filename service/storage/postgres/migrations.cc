#include "service/storage/postgres/migrations.h"

#include "service/storage/sql/shared_migrations.h"

namespace okr::storage {
namespace {

// The same tables as SQLite's migration 1, with the same conventions:
//  - `seq` is an identity column: monotonic, never reused, the paging order. (Unlike
//    SQLite, where writers are serial, concurrent transactions may commit seq values out
//    of order.)
//  - Times are BIGINT microseconds since the Unix epoch; NULL is absl::InfinitePast().
//  - Optional references (team/objective parent) are NULL when the domain says "".
//  - Enums are stored as their integer values from service/okr/model.h; flags are
//    BOOLEAN (SQLite: INTEGER 0/1).
//  - Work items are keyed by (tracker, item_key); links reference that row.
constexpr char kMigration1[] = R"sql(
CREATE TABLE teams (
  seq          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  id           TEXT   NOT NULL UNIQUE,
  display_name TEXT   NOT NULL,
  parent_id    TEXT   REFERENCES teams (id),
  revision     BIGINT NOT NULL,
  create_time  BIGINT,
  update_time  BIGINT
);

CREATE TABLE cycles (
  seq          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  id           TEXT   NOT NULL UNIQUE,
  display_name TEXT   NOT NULL,
  start_time   BIGINT,
  end_time     BIGINT,
  revision     BIGINT NOT NULL,
  create_time  BIGINT,
  update_time  BIGINT
);

CREATE TABLE objectives (
  seq         BIGINT  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  id          TEXT    NOT NULL UNIQUE,
  title       TEXT    NOT NULL,
  description TEXT    NOT NULL,
  team_id     TEXT    NOT NULL REFERENCES teams (id),
  cycle_id    TEXT    NOT NULL REFERENCES cycles (id),
  parent_id   TEXT    REFERENCES objectives (id) ON DELETE SET NULL,
  kind        INTEGER NOT NULL,
  state       INTEGER NOT NULL,
  progress    DOUBLE PRECISION,
  revision    BIGINT  NOT NULL,
  create_time BIGINT,
  update_time BIGINT
);

CREATE TABLE key_results (
  seq            BIGINT  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  objective_id   TEXT    NOT NULL REFERENCES objectives (id) ON DELETE CASCADE,
  id             TEXT    NOT NULL,
  title          TEXT    NOT NULL,
  weight         DOUBLE PRECISION,
  type           INTEGER NOT NULL,
  metric_start   DOUBLE PRECISION,
  metric_target  DOUBLE PRECISION,
  metric_current DOUBLE PRECISION,
  metric_unit    TEXT    NOT NULL,
  milestone_done BOOLEAN NOT NULL,
  item_count     BIGINT  NOT NULL,
  done_count     BIGINT  NOT NULL,
  total_weight   DOUBLE PRECISION,
  done_weight    DOUBLE PRECISION,
  progress       DOUBLE PRECISION,
  raw_progress   DOUBLE PRECISION,
  revision       BIGINT  NOT NULL,
  create_time    BIGINT,
  update_time    BIGINT,
  UNIQUE (objective_id, id)
);

CREATE TABLE check_ins (
  seq           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  objective_id  TEXT   NOT NULL,
  key_result_id TEXT   NOT NULL,
  id            TEXT   NOT NULL,
  value         DOUBLE PRECISION,
  confidence    DOUBLE PRECISION,
  note          TEXT   NOT NULL,
  author        TEXT   NOT NULL,
  revision      BIGINT NOT NULL,
  create_time   BIGINT,
  update_time   BIGINT,
  UNIQUE (objective_id, key_result_id, id),
  FOREIGN KEY (objective_id, key_result_id)
    REFERENCES key_results (objective_id, id) ON DELETE CASCADE
);

CREATE TABLE work_items (
  seq         BIGINT  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  tracker     INTEGER NOT NULL,
  item_key    TEXT    NOT NULL,
  title       TEXT    NOT NULL,
  url         TEXT    NOT NULL,
  done        BOOLEAN NOT NULL,
  weight      DOUBLE PRECISION,
  update_time BIGINT,
  UNIQUE (tracker, item_key)
);

CREATE TABLE work_item_links (
  seq           BIGINT  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  objective_id  TEXT    NOT NULL,
  key_result_id TEXT    NOT NULL,
  id            TEXT    NOT NULL,
  tracker       INTEGER NOT NULL,
  item_key      TEXT    NOT NULL,
  revision      BIGINT  NOT NULL,
  create_time   BIGINT,
  update_time   BIGINT,
  UNIQUE (objective_id, key_result_id, id),
  UNIQUE (objective_id, key_result_id, tracker, item_key),
  FOREIGN KEY (objective_id, key_result_id)
    REFERENCES key_results (objective_id, id) ON DELETE CASCADE,
  FOREIGN KEY (tracker, item_key) REFERENCES work_items (tracker, item_key)
);

CREATE TABLE request_records (
  request_id    TEXT   PRIMARY KEY,
  resource_name TEXT   NOT NULL,
  create_time   BIGINT NOT NULL
);
)sql";

// Secondary indexes: shared with the other backend (sql/shared_migrations.h).
constexpr const char* kMigration2 = sql::kSecondaryIndexesMigration;

// Alignment / lifecycle / scoring fields, tracker scopes, and the tracker sync tables:
// webhook delivery dedupe, the write-back queue and per-item write-back state. As in
// SQLite, list fields (contributes_to, depends_on, gitlab_labels) are stored one value per
// line, agreements one per line as team \t agreed_by \t micros, so rows mean the same on
// both backends.
constexpr char kMigration3[] = R"sql(
ALTER TABLE objectives
  ADD COLUMN progress_source   INTEGER NOT NULL DEFAULT 1,
  ADD COLUMN weight            DOUBLE PRECISION NOT NULL DEFAULT 1,
  ADD COLUMN contributes_to    TEXT    NOT NULL DEFAULT '',
  ADD COLUMN depends_on        TEXT    NOT NULL DEFAULT '',
  ADD COLUMN agreements        TEXT    NOT NULL DEFAULT '',
  ADD COLUMN reopen_reason     TEXT    NOT NULL DEFAULT '',
  ADD COLUMN carried_over_from TEXT    NOT NULL DEFAULT '',
  ADD COLUMN score             DOUBLE PRECISION NOT NULL DEFAULT 0,
  ADD COLUMN scored            BOOLEAN NOT NULL DEFAULT false,
  ADD COLUMN outcome           INTEGER NOT NULL DEFAULT 0;

ALTER TABLE key_results
  ADD COLUMN metric_key       TEXT NOT NULL DEFAULT '',
  ADD COLUMN jira_jql         TEXT NOT NULL DEFAULT '',
  ADD COLUMN gitlab_project   TEXT NOT NULL DEFAULT '',
  ADD COLUMN gitlab_labels    TEXT NOT NULL DEFAULT '',
  ADD COLUMN gitlab_milestone TEXT NOT NULL DEFAULT '',
  ADD COLUMN score            DOUBLE PRECISION,
  ADD COLUMN score_reason     TEXT NOT NULL DEFAULT '';
CREATE INDEX key_results_scoped ON key_results (type)
  WHERE jira_jql <> '' OR gitlab_project <> '';

ALTER TABLE work_items
  ADD COLUMN external_id    TEXT,
  ADD COLUMN source_updated BIGINT;
CREATE UNIQUE INDEX work_items_by_external_id ON work_items (tracker, external_id)
  WHERE external_id IS NOT NULL;

CREATE TABLE webhook_deliveries (
  tracker     INTEGER NOT NULL,
  delivery_id TEXT    NOT NULL,
  received    BIGINT  NOT NULL,
  PRIMARY KEY (tracker, delivery_id)
);
CREATE INDEX webhook_deliveries_by_time ON webhook_deliveries (received);

CREATE TABLE writeback_queue (
  objective_id  TEXT   NOT NULL,
  key_result_id TEXT   NOT NULL,
  since         BIGINT NOT NULL,
  generation    BIGINT NOT NULL,
  PRIMARY KEY (objective_id, key_result_id)
);

CREATE TABLE writeback_state (
  tracker      INTEGER NOT NULL,
  item_key     TEXT    NOT NULL,
  ref          TEXT    NOT NULL,
  content_hash TEXT    NOT NULL,
  written      BIGINT,
  PRIMARY KEY (tracker, item_key)
);
)sql";

constexpr char kMigration4[] = R"sql(
ALTER TABLE teams ADD COLUMN jira_project_key TEXT NOT NULL DEFAULT '';
ALTER TABLE teams ADD COLUMN gitlab_project TEXT NOT NULL DEFAULT '';

CREATE TABLE events (
  seq           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  type          INTEGER NOT NULL,
  time          BIGINT,
  objective_id  TEXT    NOT NULL,
  key_result_id TEXT    NOT NULL,
  team_id       TEXT    NOT NULL,
  cycle_id      TEXT    NOT NULL,
  details       TEXT    NOT NULL
);
CREATE INDEX events_by_objective ON events (objective_id, seq);
CREATE INDEX events_by_team ON events (team_id, seq);
CREATE INDEX events_by_time ON events (time);

CREATE TABLE documents (
  seq         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  kind        TEXT   NOT NULL,
  id          TEXT   NOT NULL,
  payload     TEXT   NOT NULL,
  revision    BIGINT NOT NULL,
  create_time BIGINT,
  update_time BIGINT,
  UNIQUE (kind, id)
);
)sql";

// One row whose epoch grows with every cycle update or delete: every transaction reads it
// in its first round trip, so a replica serves a cycle from memory only while the epoch
// its snapshot sees is the one the cached copy was read under (postgres_store.cc).
constexpr char kMigration5[] = R"sql(
CREATE TABLE cycle_epoch (
  id    INTEGER PRIMARY KEY CHECK (id = 1),
  epoch BIGINT  NOT NULL
);
INSERT INTO cycle_epoch (id, epoch) VALUES (1, 0);
)sql";

// Tracker-keyed fields (service/storage/tracker_fields_codec.h): a team's project and a
// key result's scope per tracker move into JSON text columns keyed by the tracker's slug,
// so a new tracker needs no schema change. The old per-tracker columns stay (unused).
constexpr char kMigration6[] = R"sql(
ALTER TABLE teams ADD COLUMN tracker_projects TEXT NOT NULL DEFAULT '{}';
UPDATE teams SET tracker_projects = jsonb_strip_nulls(jsonb_build_object(
    'gitlab', NULLIF(gitlab_project, ''), 'jira', NULLIF(jira_project_key, '')))::text
  WHERE jira_project_key <> '' OR gitlab_project <> '';

ALTER TABLE key_results ADD COLUMN tracker_scopes TEXT NOT NULL DEFAULT '{}';
UPDATE key_results SET tracker_scopes = jsonb_strip_nulls(jsonb_build_object(
    'gitlab', CASE WHEN gitlab_project = '' THEN NULL ELSE jsonb_build_object(
      'labels', CASE WHEN gitlab_labels = '' THEN '[]'::jsonb
                     ELSE to_jsonb(string_to_array(gitlab_labels, E'\n')) END,
      'milestone', gitlab_milestone, 'project', gitlab_project) END,
    'jira', CASE WHEN jira_jql = '' THEN NULL
                 ELSE jsonb_build_object('query', jira_jql) END))::text
  WHERE jira_jql <> '' OR gitlab_project <> '';
DROP INDEX IF EXISTS key_results_scoped;
CREATE INDEX key_results_scoped ON key_results (type) WHERE tracker_scopes <> '{}';
)sql";

// Fidelity (issue "Tracker fidelity"): partial credit per workflow state and cancelled
// work left out (work_items.partial_credit, status, exclusion; key_results.excluded_count),
// the issue type rules open per team and tracker (teams.tracker_issue_types, JSON by
// tracker slug), and a write-back queue per item, so an item that no longer serves a key
// result (unlinked, key result or objective deleted) gets what the service wrote removed.
constexpr char kMigration7[] = R"sql(
ALTER TABLE work_items ADD COLUMN partial_credit DOUBLE PRECISION NOT NULL DEFAULT 0;
ALTER TABLE work_items ADD COLUMN status TEXT NOT NULL DEFAULT '';
ALTER TABLE work_items ADD COLUMN exclusion TEXT NOT NULL DEFAULT '';
ALTER TABLE key_results ADD COLUMN excluded_count BIGINT NOT NULL DEFAULT 0;
ALTER TABLE teams ADD COLUMN tracker_issue_types TEXT NOT NULL DEFAULT '{}';
CREATE TABLE writeback_items (
  tracker    INTEGER NOT NULL,
  item_key   TEXT    NOT NULL,
  since      BIGINT NOT NULL,
  generation BIGINT NOT NULL,
  PRIMARY KEY (tracker, item_key)
);
)sql";

// Write-back backoff (issue "Hardening"): a failed write of an item schedules its next
// attempt (writeback_state.failures, next_attempt, last_code, last_error), and a queue entry
// whose items all back off moves on (writeback_queue.due, writeback_items.due) so it does
// not hold the head of the queue. Existing rows are due at once (0).
constexpr char kMigration8[] = R"sql(
ALTER TABLE writeback_state ADD COLUMN failures BIGINT NOT NULL DEFAULT 0;
ALTER TABLE writeback_state ADD COLUMN next_attempt BIGINT;
ALTER TABLE writeback_state ADD COLUMN last_code INTEGER NOT NULL DEFAULT 0;
ALTER TABLE writeback_state ADD COLUMN last_error TEXT NOT NULL DEFAULT '';
ALTER TABLE writeback_queue ADD COLUMN due BIGINT NOT NULL DEFAULT 0;
ALTER TABLE writeback_items ADD COLUMN due BIGINT NOT NULL DEFAULT 0;
CREATE INDEX writeback_queue_by_due ON writeback_queue (due);
CREATE INDEX writeback_items_by_due ON writeback_items (due);
)sql";

constexpr PostgresMigration kMigrations[] = {
    {1,
     "tables for teams, cycles, objectives, key results, check-ins, work items, links, "
     "request records",
     kMigration1},
    {2, "indexes for list filters, child listings and foreign keys", kMigration2},
    {3, "alignment, lifecycle and scoring fields; tracker scopes; tracker sync tables",
     kMigration3},
    {4, "events outbox, documents (subscriptions, rules), team tracker projects", kMigration4},
    {5, "cycle epoch: cycles become editable and replicas cache them by epoch", kMigration5},
    {6, "tracker-keyed team projects and key result scopes (JSON by tracker slug)", kMigration6},
    {7, "partial credit and exclusions of work items, team issue types, write-back per item",
     kMigration7},
    {8, "write-back backoff per item; queue entries due later while their items back off",
     kMigration8},
};

}  // namespace

absl::Span<const PostgresMigration> PostgresMigrations() { return kMigrations; }

}  // namespace okr::storage
