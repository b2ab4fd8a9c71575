// CommittedRowCache: committed rows served from memory, shared by the SQL stores:
// CycleCache (nearly every call reads a cycle; they rarely change) and, for SQLite only,
// ObjectiveCache (the read model behind GetObjective: no SQL on a hit). Entries are tagged
// with the epoch under which they were read; a transaction is served only entries of
// exactly its own epoch, and a newer epoch empties the cache. Only read-only transactions
// fill it (they see committed data only). NOT_FOUND is never cached.
//
// Where the epoch comes from is the store's choice:
//  - PostgreSQL (any replica may change a cycle): the value of a cycle_epoch row that
//    every cycle write bumps in its transaction, read in the transaction's first round
//    trip. Objectives change far too often for a cluster-wide epoch: not cached there.
//  - SQLite (this process is the only writer): epoch() taken before the snapshot. A
//    write calls BeginChange(id) before it touches the row (BeginChangeAll() before a
//    write whose effect on other rows is not tracked, e.g. a delete that clears the parent
//    of its children): the epoch moves, and that row (every row) is neither served nor
//    cached until EndChanges(), which the store calls after the write batch committed or
//    rolled back -- before any writer of the batch is acknowledged, so a read after an
//    acknowledged write sees it.
//
// At most `capacity` rows are kept; beyond it reads go to the database.
// Thread-safe.
#ifndef OKR_SERVICE_STORAGE_SQL_CYCLE_CACHE_H_
#define OKR_SERVICE_STORAGE_SQL_CYCLE_CACHE_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/synchronization/mutex.h"
#include "service/okr/model.h"

namespace okr::storage::sql {

template <typename Row>
class CommittedRowCache {
 public:
  explicit CommittedRowCache(size_t capacity) : capacity_(capacity) {}

  int64_t epoch() {
    absl::MutexLock lock(&mu_);
    return epoch_;
  }
  std::optional<Row> Find(const std::string& id, int64_t epoch) {
    absl::MutexLock lock(&mu_);
    if (epoch != epoch_ || all_changing_ || changing_.contains(id)) return std::nullopt;
    auto it = rows_.find(id);
    if (it == rows_.end()) return std::nullopt;
    return it->second;
  }
  void Put(const Row& row, int64_t epoch) {
    absl::MutexLock lock(&mu_);
    if (epoch > epoch_) {
      rows_.clear();
      epoch_ = epoch;
    }
    if (epoch != epoch_ || all_changing_ || changing_.contains(row.id)) return;
    if (rows_.size() < capacity_) rows_.insert_or_assign(row.id, row);
  }
  // The row is being changed or deleted by the current write batch (local epochs only).
  void BeginChange(const std::string& id) {
    absl::MutexLock lock(&mu_);
    changing_.insert(id);
    rows_.erase(id);
    ++epoch_;
  }
  // Any row may change in the current write batch (local epochs only).
  void BeginChangeAll() {
    absl::MutexLock lock(&mu_);
    all_changing_ = true;
    rows_.clear();
    ++epoch_;
  }
  // The write batch ended (committed or not): the rows it touched may be cached again.
  void EndChanges() {
    absl::MutexLock lock(&mu_);
    if (changing_.empty() && !all_changing_) return;
    if (all_changing_) rows_.clear();
    for (const std::string& id : changing_) rows_.erase(id);
    changing_.clear();
    all_changing_ = false;
    ++epoch_;
  }
  size_t size() {
    absl::MutexLock lock(&mu_);
    return rows_.size();
  }

 private:
  const size_t capacity_;
  absl::Mutex mu_;
  absl::flat_hash_map<std::string, Row> rows_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_set<std::string> changing_ ABSL_GUARDED_BY(mu_);
  bool all_changing_ ABSL_GUARDED_BY(mu_) = false;
  int64_t epoch_ ABSL_GUARDED_BY(mu_) = 0;
};

class CycleCache : public CommittedRowCache<Cycle> {
 public:
  CycleCache() : CommittedRowCache<Cycle>(10000) {}
};

// At most 100k objectives are kept (a bound on memory; reads beyond it go to SQLite).
class ObjectiveCache : public CommittedRowCache<Objective> {
 public:
  ObjectiveCache() : CommittedRowCache<Objective>(100000) {}
};

}  // namespace okr::storage::sql

#endif  // OKR_SERVICE_STORAGE_SQL_CYCLE_CACHE_H_
