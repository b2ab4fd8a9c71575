// Retention on every backend (StoreConformanceTest, tests/storage/store_conformance.h):
// PruneEvents, PruneDeliveries and PruneRequestRecords delete only rows older than the
// cutoff, at most `limit` per call, oldest first; CountDocuments counts one kind.
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "service/okr/events.h"
#include "service/storage/okr_store.h"
#include "tests/storage/store_conformance.h"

namespace okr::storage::conformance {
namespace {

const absl::Time kT0 = absl::FromUnixSeconds(1'790'000'000);

#define RC_ASSERT_OK(expr)             \
  do {                                 \
    const absl::Status rc_s_ = (expr); \
    ASSERT_TRUE(rc_s_.ok()) << rc_s_;  \
  } while (0)

// Runs `fn` in a transaction and returns what it counted.
template <typename Fn>
absl::StatusOr<int64_t> Count(OkrStore& store, Fn fn) {
  int64_t n = -1;
  absl::Status s = store.RunInTransaction([&](OkrTransaction& tx) -> absl::Status {
    absl::StatusOr<int64_t> got = fn(tx);
    if (!got.ok()) return got.status();
    n = *got;
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  return n;
}

std::vector<int64_t> EventSequences(OkrStore& store) {
  std::vector<int64_t> out;
  absl::Status s = store.RunReadOnly([&](OkrTransaction& tx) -> absl::Status {
    absl::StatusOr<std::vector<Event>> all =
        tx.ListEvents(OkrTransaction::EventQuery{0, 1000, "", "", ""});
    if (!all.ok()) return all.status();
    for (const Event& e : *all) out.push_back(e.sequence);
    return absl::OkStatus();
  });
  EXPECT_TRUE(s.ok()) << s;
  return out;
}

TEST_P(StoreConformanceTest, PruneEvents_DeletesOnlyOldDeliveredEvents_InBatches) {
  // Events at t0 + 0..5 minutes.
  std::vector<int64_t> seq;
  RC_ASSERT_OK(store().RunInTransaction([&](OkrTransaction& tx) -> absl::Status {
    for (int i = 0; i < 6; ++i) {
      Event e;
      e.type = EventType::kProgressChanged;
      e.time = kT0 + absl::Minutes(i);
      e.objective_id = "o";
      e.key_result_id = "k";
      e.team_id = "t";
      e.cycle_id = "c";
      if (absl::Status s = tx.AppendEvent(e); !s.ok()) return s;
      seq.push_back(e.sequence);
    }
    return absl::OkStatus();
  }));
  const int64_t all_delivered = seq.back();
  // Older than t0 + 4m: events 0..3. A batch of 2 takes the two lowest sequences.
  absl::StatusOr<int64_t> n = Count(store(), [&](OkrTransaction& tx) {
    return tx.PruneEvents(kT0 + absl::Minutes(4), all_delivered, 2);
  });
  ASSERT_TRUE(n.ok()) << n.status();
  EXPECT_EQ(*n, 2);
  EXPECT_EQ(EventSequences(store()), (std::vector<int64_t>{seq[2], seq[3], seq[4], seq[5]}));
  // Only delivered through seq[2]: event 3 stays although old.
  n = Count(store(), [&](OkrTransaction& tx) {
    return tx.PruneEvents(kT0 + absl::Minutes(4), seq[2], 500);
  });
  ASSERT_TRUE(n.ok()) << n.status();
  EXPECT_EQ(*n, 1);
  EXPECT_EQ(EventSequences(store()), (std::vector<int64_t>{seq[3], seq[4], seq[5]}));
  n = Count(store(), [&](OkrTransaction& tx) {
    return tx.PruneEvents(kT0 + absl::Minutes(4), all_delivered, 500);
  });
  ASSERT_TRUE(n.ok()) << n.status();
  EXPECT_EQ(*n, 1);
  EXPECT_EQ(EventSequences(store()), (std::vector<int64_t>{seq[4], seq[5]}));
  // The sequence keeps growing after a prune.
  absl::StatusOr<int64_t> last =
      Count(store(), [](OkrTransaction& tx) { return tx.LastEventSequence(); });
  ASSERT_TRUE(last.ok());
  EXPECT_EQ(*last, seq[5]);
}

TEST_P(StoreConformanceTest, PruneDeliveries_DeletesOnlyOldOnes_OldestFirst_InBatches) {
  RC_ASSERT_OK(store().RunInTransaction([&](OkrTransaction& tx) -> absl::Status {
    for (int i = 0; i < 5; ++i) {
      absl::Status s = tx.RecordDelivery(i % 2 ? Tracker::kGitLab : Tracker::kJira,
                                         absl::StrCat("d", i), kT0 + absl::Minutes(i));
      if (!s.ok()) return s;
    }
    return absl::OkStatus();
  }));
  // Older than t0 + 3m: d0, d1, d2; a batch of 2 takes d0 and d1.
  absl::StatusOr<int64_t> n = Count(
      store(), [&](OkrTransaction& tx) { return tx.PruneDeliveries(kT0 + absl::Minutes(3), 2); });
  ASSERT_TRUE(n.ok()) << n.status();
  EXPECT_EQ(*n, 2);
  auto seen = [&](Tracker t, const std::string& id) {
    absl::Status s = store().RunInTransaction(
        [&](OkrTransaction& tx) { return tx.RecordDelivery(t, id, kT0 + absl::Hours(1)); });
    // Recording again fails ALREADY_EXISTS while remembered (and then rolls back).
    return absl::IsAlreadyExists(s);
  };
  EXPECT_TRUE(seen(Tracker::kJira, "d2"));
  EXPECT_TRUE(seen(Tracker::kGitLab, "d3"));
  EXPECT_TRUE(seen(Tracker::kJira, "d4"));
  n = Count(store(),
            [&](OkrTransaction& tx) { return tx.PruneDeliveries(kT0 + absl::Minutes(3), 500); });
  ASSERT_TRUE(n.ok()) << n.status();
  EXPECT_EQ(*n, 1);                          // d2
  EXPECT_FALSE(seen(Tracker::kJira, "d0"));  // forgotten: recorded anew now
  EXPECT_FALSE(seen(Tracker::kJira, "d2"));
  EXPECT_TRUE(seen(Tracker::kGitLab, "d3"));
}

TEST_P(StoreConformanceTest, PruneRequestRecords_DeletesOnlyOldOnes_InBatches) {
  RC_ASSERT_OK(store().RunInTransaction([&](OkrTransaction& tx) -> absl::Status {
    for (int i = 0; i < 4; ++i) {
      absl::Status s = tx.PutRequestRecord(absl::StrCat("CreateTeam/r", i),
                                           absl::StrCat("teams/t", i), kT0 + absl::Minutes(i));
      if (!s.ok()) return s;
    }
    return absl::OkStatus();
  }));
  absl::StatusOr<int64_t> n = Count(store(), [&](OkrTransaction& tx) {
    return tx.PruneRequestRecords(kT0 + absl::Minutes(3), 2);
  });
  ASSERT_TRUE(n.ok()) << n.status();
  EXPECT_EQ(*n, 2);
  auto recorded = [&](const std::string& id) {
    bool found = false;
    absl::Status s = store().RunReadOnly([&](OkrTransaction& tx) -> absl::Status {
      absl::StatusOr<std::optional<std::string>> got = tx.GetRequestRecord(id);
      if (!got.ok()) return got.status();
      found = got->has_value();
      return absl::OkStatus();
    });
    EXPECT_TRUE(s.ok()) << s;
    return found;
  };
  EXPECT_FALSE(recorded("CreateTeam/r0"));
  EXPECT_FALSE(recorded("CreateTeam/r1"));
  EXPECT_TRUE(recorded("CreateTeam/r2"));
  EXPECT_TRUE(recorded("CreateTeam/r3"));
  n = Count(store(), [&](OkrTransaction& tx) {
    return tx.PruneRequestRecords(kT0 + absl::Minutes(3), 500);
  });
  ASSERT_TRUE(n.ok()) << n.status();
  EXPECT_EQ(*n, 1);
  EXPECT_FALSE(recorded("CreateTeam/r2"));
  EXPECT_TRUE(recorded("CreateTeam/r3"));
}

TEST_P(StoreConformanceTest, CountDocuments_CountsOneKind) {
  RC_ASSERT_OK(store().RunInTransaction([&](OkrTransaction& tx) -> absl::Status {
    for (const auto& [kind, id] : std::vector<std::pair<std::string, std::string>>{
             {"rule", "a"}, {"rule", "b"}, {"subscription", "a"}}) {
      OkrTransaction::Document d{kind, id, "{}", {}};
      d.meta.revision = 1;
      d.meta.create_time = kT0;
      d.meta.update_time = kT0;
      if (absl::Status s = tx.InsertDocument(d); !s.ok()) return s;
    }
    return absl::OkStatus();
  }));
  for (const auto& kind_want :
       std::vector<std::pair<std::string, int64_t>>{{"rule", 2}, {"subscription", 1}, {"x", 0}}) {
    // Not a structured binding: the lambda below captures it (clang before 16 rejects that).
    const std::string& kind = kind_want.first;
    const int64_t want = kind_want.second;
    int64_t got = -1;
    RC_ASSERT_OK(store().RunReadOnly([&](OkrTransaction& tx) -> absl::Status {
      absl::StatusOr<int64_t> n = tx.CountDocuments(kind);
      if (!n.ok()) return n.status();
      got = *n;
      return absl::OkStatus();
    }));
    EXPECT_EQ(got, want) << kind;
  }
}

}  // namespace
}  // namespace okr::storage::conformance
