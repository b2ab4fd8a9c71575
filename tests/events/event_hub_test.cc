// EventHub: the bounded live tail of the outbox (real SQLite file): readers get events in
// sequence order from the ring, learn when their position has left it (and then read the
// store), and listeners hear about new events.
#include "service/events/event_hub.h"

#include <atomic>
#include <memory>
#include <vector>

#include "gtest/gtest.h"
#include "service/storage/sqlite/sqlite_store.h"
#include "tests/testing/fake_clock.h"
#include "tests/testing/temp_dir.h"

namespace okr::events {
namespace {

class CountingListener final : public EventListener {
 public:
  void OnNewEvents() override { ++calls; }
  std::atomic<int> calls{0};
};

class EventHubTest : public ::testing::Test {
 protected:
  void SetUp() override {
    storage::SqliteOptions options;
    options.path = dir_.File("okr.db");
    options.sync = storage::SqliteOptions::Sync::kNormal;
    auto store = storage::SqliteStore::Open(options);
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = std::move(*store);
    events_ = std::make_unique<core::EventsCore>(*store_, clock_);
  }

  // Appends `n` events straight to the outbox; returns their sequences.
  std::vector<int64_t> Append(int n) {
    std::vector<int64_t> sequences;
    absl::Status s = store_->RunInTransaction([&](storage::OkrTransaction& tx) -> absl::Status {
      for (int i = 0; i < n; ++i) {
        Event e;
        e.type = EventType::kProgressChanged;
        e.objective_id = "o";
        e.team_id = "t";
        e.cycle_id = "c";
        absl::Status appended = tx.AppendEvent(e);
        if (!appended.ok()) return appended;
        sequences.push_back(e.sequence);
      }
      return absl::OkStatus();
    });
    EXPECT_TRUE(s.ok()) << s;
    return sequences;
  }

  okr::testing::TempDir dir_;
  okr::testing::FakeClock clock_{absl::FromUnixSeconds(1'790'000'000)};
  std::unique_ptr<storage::SqliteStore> store_;
  std::unique_ptr<core::EventsCore> events_;
};

TEST_F(EventHubTest, ReadSince_ServesTheRingInOrder_AndRefusesPositionsThatLeftIt) {
  std::vector<int64_t> before = Append(3);  // before Start: only in the store
  EventHubOptions options;
  options.ring_capacity = 4;
  EventHub hub(*events_, options);
  ASSERT_TRUE(hub.PollOnce().ok());  // not started: the ring starts at 0
  hub.Stop();

  EventHub started(*events_, options);
  ASSERT_TRUE(started.Start().ok());
  started.Stop();  // polled by hand below
  CountingListener listener;
  started.AddListener(&listener);
  EXPECT_EQ(started.head(), before.back());
  std::vector<Event> out;
  EXPECT_FALSE(started.ReadSince(0, 10, &out));  // history: read the store
  EXPECT_TRUE(started.ReadSince(before.back(), 10, &out));
  EXPECT_TRUE(out.empty());  // caught up

  std::vector<int64_t> live = Append(3);
  ASSERT_TRUE(started.PollOnce().ok());
  EXPECT_EQ(listener.calls.load(), 1);
  EXPECT_EQ(started.head(), live.back());
  out.clear();
  ASSERT_TRUE(started.ReadSince(before.back(), 2, &out));
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].sequence, live[0]);
  EXPECT_EQ(out[1].sequence, live[1]);

  // Four more: the ring keeps the newest four, so a reader at live[0] fell out of it.
  std::vector<int64_t> more = Append(4);
  ASSERT_TRUE(started.PollOnce().ok());
  EXPECT_EQ(listener.calls.load(), 2);
  out.clear();
  EXPECT_FALSE(started.ReadSince(live[0], 10, &out));
  ASSERT_TRUE(started.ReadSince(more[0] - 1, 10, &out));
  ASSERT_EQ(out.size(), 4u);
  EXPECT_EQ(out.back().sequence, more.back());

  started.RemoveListener(&listener);
  Append(1);
  ASSERT_TRUE(started.PollOnce().ok());
  EXPECT_EQ(listener.calls.load(), 2);  // removed: not called again
}

}  // namespace
}  // namespace okr::events
