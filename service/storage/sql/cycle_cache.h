// CycleCache: committed cycles served from memory (nearly every call reads one; they
// rarely change), shared by the SQL stores. Entries are tagged with the epoch under
// which they were read; a transaction is served only entries of exactly its own epoch,
// and a newer epoch empties the cache. Only read-only transactions fill it (they see
// committed data only).
//
// Where the epoch comes from is the store's choice:
//  - PostgreSQL (any replica may change a cycle): the value of a cycle_epoch row that
//    every cycle write bumps in its transaction, read in the transaction's first round
//    trip.
//  - SQLite (this process is the only writer): epoch() taken before the snapshot. A
//    write calls BeginChange(id) before it touches the cycle: the epoch moves, and that
//    cycle is neither served nor cached until EndChanges(), which the store calls after
//    the write batch committed or rolled back.
//
// Thread-safe.
#ifndef OKR_SERVICE_STORAGE_SQL_CYCLE_CACHE_H_
#define OKR_SERVICE_STORAGE_SQL_CYCLE_CACHE_H_

#include <cstdint>
#include <optional>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/synchronization/mutex.h"
#include "service/okr/model.h"

namespace okr::storage::sql {

class CycleCache {
 public:
  int64_t epoch() {
    absl::MutexLock lock(&mu_);
    return epoch_;
  }
  std::optional<Cycle> Find(const std::string& id, int64_t epoch) {
    absl::MutexLock lock(&mu_);
    if (epoch != epoch_ || changing_.contains(id)) return std::nullopt;
    auto it = cycles_.find(id);
    if (it == cycles_.end()) return std::nullopt;
    return it->second;
  }
  void Put(const Cycle& cycle, int64_t epoch) {
    absl::MutexLock lock(&mu_);
    if (epoch > epoch_) {
      cycles_.clear();
      epoch_ = epoch;
    }
    if (epoch != epoch_ || changing_.contains(cycle.id)) return;
    if (cycles_.size() < 10000) cycles_.emplace(cycle.id, cycle);
  }
  // The cycle is being changed or deleted by the current write batch (local epochs only).
  void BeginChange(const std::string& id) {
    absl::MutexLock lock(&mu_);
    changing_.insert(id);
    cycles_.erase(id);
    ++epoch_;
  }
  // The write batch ended (committed or not): the cycles it touched may be cached again.
  void EndChanges() {
    absl::MutexLock lock(&mu_);
    if (changing_.empty()) return;
    for (const std::string& id : changing_) cycles_.erase(id);
    changing_.clear();
    ++epoch_;
  }

 private:
  absl::Mutex mu_;
  absl::flat_hash_map<std::string, Cycle> cycles_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_set<std::string> changing_ ABSL_GUARDED_BY(mu_);
  int64_t epoch_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace okr::storage::sql

#endif  // OKR_SERVICE_STORAGE_SQL_CYCLE_CACHE_H_
