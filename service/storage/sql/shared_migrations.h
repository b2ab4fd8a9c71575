// Schema migrations whose SQL is the same on SQLite and PostgreSQL, written once and
// listed by both stores' migration tables under the same version (sqlite/migrations.h,
// postgres/migrations.h). Like every migration, a released text is never edited.
#ifndef OKR_SERVICE_STORAGE_SQL_SHARED_MIGRATIONS_H_
#define OKR_SERVICE_STORAGE_SQL_SHARED_MIGRATIONS_H_

namespace okr::storage::sql {

// Migration 2: secondary indexes for list filters, seq-ordered child listings, and the
// child side of every foreign key (so cascades and SET NULL do not scan). Same index names
// on both backends.
inline constexpr char kSecondaryIndexesMigration[] = R"sql(
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

}  // namespace okr::storage::sql

#endif  // OKR_SERVICE_STORAGE_SQL_SHARED_MIGRATIONS_H_
