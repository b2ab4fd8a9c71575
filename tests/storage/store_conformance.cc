#include "tests/storage/store_conformance.h"

#include <atomic>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "service/okr/model.h"
#include "service/okr/status_macros.h"
#include "service/storage/okr_store.h"

namespace okr::storage::conformance {

std::string StoreFactoryName(const ::testing::TestParamInfo<StoreFactory>& info) {
  return info.param.name;
}

void StoreConformanceTest::SetUp() {
  absl::StatusOr<std::unique_ptr<OkrStore>> store = GetParam().open();
  ASSERT_TRUE(store.ok()) << store.status();
  store_ = std::move(*store);
}

void StoreConformanceTest::TearDown() { store_.reset(); }

namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

// --- Status helpers ----------------------------------------------------------------------

absl::Status StatusOf(const absl::Status& status) { return status; }
template <typename T>
absl::Status StatusOf(const absl::StatusOr<T>& status_or) {
  return status_or.status();
}

// The status has `code` and its message contains every fragment.
::testing::AssertionResult HasStatus(const absl::Status& status, absl::StatusCode code,
                                     std::initializer_list<absl::string_view> fragments) {
  if (status.code() != code) {
    return ::testing::AssertionFailure()
           << "expected " << absl::StatusCodeToString(code) << ", got " << status;
  }
  for (absl::string_view fragment : fragments) {
    if (!absl::StrContains(status.message(), fragment)) {
      return ::testing::AssertionFailure()
             << "message of " << status << " lacks \"" << fragment << "\"";
    }
  }
  return ::testing::AssertionSuccess();
}

#define EXPECT_OK(expr)                         \
  do {                                          \
    const absl::Status okr_s_ = StatusOf(expr); \
    EXPECT_TRUE(okr_s_.ok()) << okr_s_;         \
  } while (0)
#define ASSERT_OK(expr)                         \
  do {                                          \
    const absl::Status okr_s_ = StatusOf(expr); \
    ASSERT_TRUE(okr_s_.ok()) << okr_s_;         \
  } while (0)
#define EXPECT_STATUS(expr, code, ...) \
  EXPECT_TRUE(HasStatus(StatusOf(expr), absl::StatusCode::code, {__VA_ARGS__}))

// --- Fixture data ------------------------------------------------------------------------

// Times with microsecond parts, before and after the epoch.
const absl::Time kT0 = absl::FromUnixMicros(1'700'000'000'123'456);
const absl::Time kT1 = absl::FromUnixMicros(1'700'000'360'654'321);
const absl::Time kBeforeEpoch = absl::FromUnixMicros(-86'400'000'001);

EntityMeta Meta(int64_t revision = 1) {
  EntityMeta meta;
  meta.revision = revision;
  meta.create_time = kT0;
  meta.update_time = kT1;
  return meta;
}

Team MakeTeam(const std::string& id, const std::string& parent_id = "") {
  Team t;
  t.id = id;
  t.display_name = "Team " + id;
  t.parent_id = parent_id;
  t.meta = Meta();
  t.projects[Tracker::kJira] = "OKRX";
  t.projects[Tracker::kGitLab] = "acme/" + id;
  return t;
}

Cycle MakeCycle(const std::string& id) {
  Cycle c;
  c.id = id;
  c.display_name = "Cycle " + id;
  c.start_time = kT0;
  c.end_time = kT0 + absl::Hours(24 * 90);
  c.meta = Meta();
  return c;
}

Objective MakeObjective(const std::string& id, const std::string& team_id = "t",
                        const std::string& cycle_id = "c", const std::string& parent_id = "") {
  Objective o;
  o.id = id;
  o.title = "Objective " + id;
  o.description = "Why " + id + " matters";
  o.team_id = team_id;
  o.cycle_id = cycle_id;
  o.parent_id = parent_id;
  o.kind = ObjectiveKind::kAspirational;
  o.state = ObjectiveState::kProposed;
  o.progress = 0.375;
  o.meta = Meta();
  return o;
}

KeyResult MakeKeyResult(const std::string& objective_id, const std::string& id) {
  KeyResult kr;
  kr.objective_id = objective_id;
  kr.id = id;
  kr.title = "Key result " + id;
  kr.weight = 2.5;
  kr.type = KeyResultType::kMetric;
  kr.metric = {10, 110, 35.5, "ms"};
  kr.progress = 0.255;
  kr.raw_progress = 0.255;
  kr.meta = Meta();
  return kr;
}

CheckIn MakeCheckIn(const std::string& objective_id, const std::string& kr_id,
                    const std::string& id) {
  CheckIn c;
  c.objective_id = objective_id;
  c.key_result_id = kr_id;
  c.id = id;
  c.value = 42.25;
  c.confidence = 0.8;
  c.note = "note " + id;
  c.author = "alice";
  c.meta = Meta();
  return c;
}

WorkItem MakeItem(Tracker tracker, const std::string& key, bool done = false, double weight = 1) {
  WorkItem w;
  w.tracker = tracker;
  w.key = key;
  w.title = "Item " + key;
  w.url = "https://tracker.example/" + key;
  w.done = done;
  w.weight = weight;
  w.update_time = kT1;
  return w;
}

WorkItemLink MakeLink(const std::string& objective_id, const std::string& kr_id,
                      const std::string& id, const WorkItem& item) {
  WorkItemLink l;
  l.objective_id = objective_id;
  l.key_result_id = kr_id;
  l.id = id;
  l.item = item;
  l.meta = Meta();
  return l;
}

// --- Printing, for exact comparisons with readable diffs ---------------------------------

std::string Str(absl::Time t) {
  return absl::FormatTime(absl::RFC3339_full, t, absl::UTCTimeZone());
}
std::string Str(double d) { return absl::StrFormat("%.17g", d); }
std::string Str(std::optional<double> d) { return d.has_value() ? Str(*d) : "none"; }
std::string Str(const EntityMeta& m) {
  return absl::StrCat("rev=", m.revision, " create=", Str(m.create_time),
                      " update=", Str(m.update_time));
}
// `seq` is left out: it is storage-assigned and checked separately.
std::string Dump(const Team& t) {
  return absl::StrCat("team{", t.id, "|", t.display_name, "|parent=", t.parent_id, "|", Str(t.meta),
                      "|jira=", TeamProject(t, Tracker::kJira),
                      "|gitlab=", TeamProject(t, Tracker::kGitLab), "}");
}
std::string Dump(const Cycle& c) {
  return absl::StrCat("cycle{", c.id, "|", c.display_name, "|", Str(c.start_time), "|",
                      Str(c.end_time), "|", Str(c.meta), "}");
}
std::string Dump(const Objective& o) {
  return absl::StrCat("objective{", o.id, "|", o.title, "|", o.description, "|team=", o.team_id,
                      "|cycle=", o.cycle_id, "|parent=", o.parent_id,
                      "|kind=", static_cast<int>(o.kind), "|state=", static_cast<int>(o.state),
                      "|progress=", Str(o.progress), "|", Str(o.meta), "}");
}
std::string Dump(const KeyResult& k) {
  return absl::StrCat(
      "kr{", k.objective_id, "/", k.id, "|", k.title, "|w=", Str(k.weight),
      "|type=", static_cast<int>(k.type), "|metric=", Str(k.metric.start_value), ",",
      Str(k.metric.target_value), ",", Str(k.metric.current_value), ",", k.metric.unit,
      "|milestone=", k.milestone_done, "|totals=", k.totals.item_count, ",", k.totals.done_count,
      ",", Str(k.totals.total_weight), ",", Str(k.totals.done_weight),
      "|progress=", Str(k.progress), ",", Str(k.raw_progress), "|", Str(k.meta), "}");
}
std::string Dump(const CheckIn& c) {
  return absl::StrCat("checkin{", c.objective_id, "/", c.key_result_id, "/", c.id,
                      "|value=", Str(c.value), "|confidence=", Str(c.confidence), "|", c.note, "|",
                      c.author, "|", Str(c.meta), "}");
}
std::string Dump(const WorkItem& w) {
  return absl::StrCat("item{", static_cast<int>(w.tracker), ":", w.key, "|", w.title, "|", w.url,
                      "|done=", w.done, "|w=", Str(w.weight), "|", Str(w.update_time),
                      "|credit=", Str(w.partial_credit), "|status=", w.status,
                      "|exclusion=", w.exclusion, "}");
}
std::string Dump(const WorkItemLink& l) {
  return absl::StrCat("link{", l.objective_id, "/", l.key_result_id, "/", l.id, "|", Dump(l.item),
                      "|", Str(l.meta), "}");
}

template <typename T>
std::vector<std::string> Ids(const std::vector<T>& items) {
  std::vector<std::string> ids;
  for (const T& item : items) ids.push_back(item.id);
  return ids;
}

// --- Transaction helpers -----------------------------------------------------------------

// Runs `fn` (returning Status or StatusOr<T>) in a transaction and returns its result, or
// the transaction's error.
template <typename Fn>
auto InTx(OkrStore& store, bool read_only, Fn fn)
    -> std::decay_t<decltype(fn(std::declval<OkrTransaction&>()))> {
  using Result = std::decay_t<decltype(fn(std::declval<OkrTransaction&>()))>;
  std::optional<Result> result;
  auto body = [&](OkrTransaction& tx) -> absl::Status {
    result.emplace(fn(tx));
    return StatusOf(*result);
  };
  absl::Status status = read_only ? store.RunReadOnly(body) : store.RunInTransaction(body);
  if (!status.ok() || !result.has_value()) return Result(status);
  return std::move(*result);
}

template <typename Fn>
auto Write(OkrStore& store, Fn fn) {
  return InTx(store, /*read_only=*/false, std::move(fn));
}
template <typename Fn>
auto Read(OkrStore& store, Fn fn) {
  return InTx(store, /*read_only=*/true, std::move(fn));
}

// Team "t" and cycle "c".
absl::Status SeedTeamAndCycle(OkrStore& store) {
  return store.RunInTransaction([](OkrTransaction& tx) -> absl::Status {
    if (absl::Status s = tx.InsertTeam(MakeTeam("t")); !s.ok()) return s;
    return tx.InsertCycle(MakeCycle("c"));
  });
}

// Team "t" and cycle "c" (if missing), objective `objective_id` with key results `kr_ids`.
absl::Status SeedKeyResults(OkrStore& store, const std::string& objective_id,
                            const std::vector<std::string>& kr_ids) {
  return store.RunInTransaction([&](OkrTransaction& tx) -> absl::Status {
    if (!tx.GetTeam("t").ok()) {
      if (absl::Status s = tx.InsertTeam(MakeTeam("t")); !s.ok()) return s;
      if (absl::Status s = tx.InsertCycle(MakeCycle("c")); !s.ok()) return s;
    }
    if (absl::Status s = tx.InsertObjective(MakeObjective(objective_id)); !s.ok()) return s;
    for (const std::string& id : kr_ids) {
      if (absl::Status s = tx.InsertKeyResult(MakeKeyResult(objective_id, id)); !s.ok()) {
        return s;
      }
    }
    return absl::OkStatus();
  });
}

// Upserts `item`, then inserts `link`.
absl::Status InsertLinked(OkrStore& store, const WorkItem& item, const WorkItemLink& link) {
  return store.RunInTransaction([&](OkrTransaction& tx) -> absl::Status {
    if (absl::Status s = tx.UpsertWorkItem(item); !s.ok()) return s;
    return tx.InsertWorkItemLink(link);
  });
}

// Walks every page with `limit`; returns the ids of each page and its has_more flag.
struct PageTrace {
  std::vector<std::vector<std::string>> ids;
  std::vector<bool> has_more;
};

template <typename T, typename ListFn>
PageTrace WalkPages(OkrStore& store, int limit, ListFn list) {
  PageTrace trace;
  PageQuery q;
  q.limit = limit;
  for (int guard = 0; guard < 100; ++guard) {
    absl::StatusOr<Page<T>> page =
        InTx(store, /*read_only=*/true, [&](OkrTransaction& tx) { return list(tx, q); });
    EXPECT_TRUE(page.ok()) << page.status();
    if (!page.ok()) break;
    trace.ids.push_back(Ids(page->items));
    trace.has_more.push_back(page->has_more);
    if (!page->has_more || page->items.empty()) break;
    q.after_seq = page->items.back().meta.seq;
  }
  return trace;
}

// --- Teams -------------------------------------------------------------------------------

TEST_P(StoreConformanceTest, InsertTeam_ThenGetTeam_ReturnsEveryFieldAndAssignsSeq) {
  Team root = MakeTeam("root");
  root.meta.seq = 999;  // ignored: the store assigns seq
  Team child = MakeTeam("child", "root");
  ASSERT_OK(Write(store(), [&](OkrTransaction& tx) -> absl::Status {
    if (absl::Status s = tx.InsertTeam(root); !s.ok()) return s;
    return tx.InsertTeam(child);
  }));
  absl::StatusOr<Team> got_root =
      Read(store(), [](OkrTransaction& tx) { return tx.GetTeam("root"); });
  absl::StatusOr<Team> got_child =
      Read(store(), [](OkrTransaction& tx) { return tx.GetTeam("child"); });
  ASSERT_OK(got_root);
  ASSERT_OK(got_child);
  EXPECT_EQ(Dump(*got_root), Dump(root));
  EXPECT_EQ(Dump(*got_child), Dump(child));
  EXPECT_GT(got_root->meta.seq, 0);
  EXPECT_GT(got_child->meta.seq, got_root->meta.seq);
}

TEST_P(StoreConformanceTest, InsertTeam_DuplicateId_FailsAlreadyExists) {
  ASSERT_OK(Write(store(), [](OkrTransaction& tx) { return tx.InsertTeam(MakeTeam("a")); }));
  EXPECT_STATUS(Write(store(), [](OkrTransaction& tx) { return tx.InsertTeam(MakeTeam("a")); }),
                kAlreadyExists, "team", "\"a\"");
}

TEST_P(StoreConformanceTest, GetTeam_Missing_FailsNotFound) {
  EXPECT_STATUS(Read(store(), [](OkrTransaction& tx) { return tx.GetTeam("nope"); }), kNotFound,
                "team", "\"nope\"");
}

TEST_P(StoreConformanceTest, ListTeams_WithParent_ReturnsOnlyItsChildren) {
  ASSERT_OK(Write(store(), [](OkrTransaction& tx) -> absl::Status {
    for (const Team& t : {MakeTeam("p"), MakeTeam("q"), MakeTeam("p1", "p"), MakeTeam("q1", "q"),
                          MakeTeam("p2", "p")}) {
      if (absl::Status s = tx.InsertTeam(t); !s.ok()) return s;
    }
    return absl::OkStatus();
  }));
  absl::StatusOr<Page<Team>> children =
      Read(store(), [](OkrTransaction& tx) { return tx.ListTeams("p", PageQuery{}); });
  ASSERT_OK(children);
  EXPECT_THAT(Ids(children->items), ElementsAre("p1", "p2"));
  EXPECT_FALSE(children->has_more);
  absl::StatusOr<Page<Team>> all =
      Read(store(), [](OkrTransaction& tx) { return tx.ListTeams("", PageQuery{}); });
  ASSERT_OK(all);
  EXPECT_THAT(Ids(all->items), ElementsAre("p", "q", "p1", "q1", "p2"));
}

TEST_P(StoreConformanceTest, ListTeams_ThreePages_ReturnsRowsInInsertionOrder) {
  ASSERT_OK(Write(store(), [](OkrTransaction& tx) -> absl::Status {
    for (const char* id : {"g", "f", "e", "d", "c", "b", "a"}) {
      if (absl::Status s = tx.InsertTeam(MakeTeam(id)); !s.ok()) return s;
    }
    return absl::OkStatus();
  }));
  PageTrace trace = WalkPages<Team>(
      store(), 3, [](OkrTransaction& tx, const PageQuery& q) { return tx.ListTeams("", q); });
  EXPECT_THAT(trace.ids, ElementsAre(ElementsAre("g", "f", "e"), ElementsAre("d", "c", "b"),
                                     ElementsAre("a")));
  EXPECT_THAT(trace.has_more, ElementsAre(true, true, false));
}

TEST_P(StoreConformanceTest, ListTeams_PageEndingExactlyAtLastRow_HasNoMore) {
  ASSERT_OK(Write(store(), [](OkrTransaction& tx) -> absl::Status {
    for (const char* id : {"a", "b", "c", "d"}) {
      if (absl::Status s = tx.InsertTeam(MakeTeam(id)); !s.ok()) return s;
    }
    return absl::OkStatus();
  }));
  PageTrace trace = WalkPages<Team>(
      store(), 2, [](OkrTransaction& tx, const PageQuery& q) { return tx.ListTeams("", q); });
  EXPECT_THAT(trace.ids, ElementsAre(ElementsAre("a", "b"), ElementsAre("c", "d")));
  EXPECT_THAT(trace.has_more, ElementsAre(true, false));
}

// --- Cycles ------------------------------------------------------------------------------

TEST_P(StoreConformanceTest, InsertCycle_ThenGetCycle_RoundTripsTimesToTheMicrosecond) {
  Cycle c = MakeCycle("q1");
  c.start_time = kBeforeEpoch;
  c.end_time = absl::FromUnixMicros(4'102'444'800'000'001);  // 2100-01-01 + 1us
  c.meta.create_time = absl::InfinitePast();
  c.meta.update_time = absl::FromUnixMicros(1);
  ASSERT_OK(Write(store(), [&](OkrTransaction& tx) { return tx.InsertCycle(c); }));
  absl::StatusOr<Cycle> got = Read(store(), [](OkrTransaction& tx) { return tx.GetCycle("q1"); });
  ASSERT_OK(got);
  EXPECT_EQ(Dump(*got), Dump(c));
  EXPECT_EQ(got->start_time, c.start_time);
  EXPECT_EQ(got->end_time, c.end_time);
  EXPECT_EQ(got->meta.create_time, absl::InfinitePast());
  EXPECT_GT(got->meta.seq, 0);
}

TEST_P(StoreConformanceTest, InsertCycle_DuplicateId_FailsAlreadyExists) {
  ASSERT_OK(Write(store(), [](OkrTransaction& tx) { return tx.InsertCycle(MakeCycle("q1")); }));
  EXPECT_STATUS(Write(store(), [](OkrTransaction& tx) { return tx.InsertCycle(MakeCycle("q1")); }),
                kAlreadyExists, "cycle", "\"q1\"");
}

TEST_P(StoreConformanceTest, GetCycle_Missing_FailsNotFound) {
  EXPECT_STATUS(Read(store(), [](OkrTransaction& tx) { return tx.GetCycle("nope"); }), kNotFound,
                "cycle", "\"nope\"");
}

TEST_P(StoreConformanceTest, ListCycles_ThreePages_ReturnsRowsInInsertionOrder) {
  ASSERT_OK(Write(store(), [](OkrTransaction& tx) -> absl::Status {
    for (const char* id : {"c1", "c2", "c3", "c4", "c5"}) {
      if (absl::Status s = tx.InsertCycle(MakeCycle(id)); !s.ok()) return s;
    }
    return absl::OkStatus();
  }));
  PageTrace trace = WalkPages<Cycle>(
      store(), 2, [](OkrTransaction& tx, const PageQuery& q) { return tx.ListCycles(q); });
  EXPECT_THAT(trace.ids,
              ElementsAre(ElementsAre("c1", "c2"), ElementsAre("c3", "c4"), ElementsAre("c5")));
  EXPECT_THAT(trace.has_more, ElementsAre(true, true, false));
}

// --- Team and cycle updates and deletes -----------------------------------------------

TEST_P(StoreConformanceTest, UpdateTeam_MatchingRevision_StoresEveryField) {
  ASSERT_OK(Write(store(), [](OkrTransaction& tx) -> absl::Status {
    if (absl::Status s = tx.InsertTeam(MakeTeam("root")); !s.ok()) return s;
    if (absl::Status s = tx.InsertTeam(MakeTeam("other")); !s.ok()) return s;
    return tx.InsertTeam(MakeTeam("t", "root"));
  }));
  Team t = MakeTeam("t", "other");
  t.display_name = "Renamed";
  t.projects[Tracker::kJira] = "PAY";
  t.projects[Tracker::kGitLab] = "acme/payments";
  t.meta = Meta(2);
  t.meta.update_time = kBeforeEpoch;
  ASSERT_OK(Write(store(), [&](OkrTransaction& tx) { return tx.UpdateTeam(t, 1); }));
  absl::StatusOr<Team> got = Read(store(), [](OkrTransaction& tx) { return tx.GetTeam("t"); });
  ASSERT_OK(got);
  EXPECT_EQ(Dump(*got), Dump(t));
  // To a root and back: an empty parent is stored as none.
  t.parent_id = "";
  t.meta.revision = 3;
  ASSERT_OK(Write(store(), [&](OkrTransaction& tx) { return tx.UpdateTeam(t, 2); }));
  absl::StatusOr<Page<Team>> roots =
      Read(store(), [](OkrTransaction& tx) { return tx.ListTeams("other", PageQuery{}); });
  ASSERT_OK(roots);
  EXPECT_THAT(Ids(roots->items), IsEmpty());
  got = Read(store(), [](OkrTransaction& tx) { return tx.GetTeam("t"); });
  ASSERT_OK(got);
  EXPECT_EQ(got->parent_id, "");
}

TEST_P(StoreConformanceTest, UpdateTeam_StaleRevisionMissingTeamOrParent_FailsWithoutWriting) {
  ASSERT_OK(Write(store(), [](OkrTransaction& tx) { return tx.InsertTeam(MakeTeam("t")); }));
  Team t = MakeTeam("t");
  t.display_name = "Changed";
  t.meta = Meta(2);
  EXPECT_STATUS(Write(store(), [&](OkrTransaction& tx) { return tx.UpdateTeam(t, 7); }), kAborted,
                "\"t\"");
  Team missing = MakeTeam("nope");
  EXPECT_STATUS(Write(store(), [&](OkrTransaction& tx) { return tx.UpdateTeam(missing, 1); }),
                kNotFound, "\"nope\"");
  Team orphan = MakeTeam("t", "ghost");
  orphan.meta = Meta(2);
  EXPECT_STATUS(Write(store(), [&](OkrTransaction& tx) { return tx.UpdateTeam(orphan, 1); }),
                kFailedPrecondition, "\"ghost\"");
  absl::StatusOr<Team> got = Read(store(), [](OkrTransaction& tx) { return tx.GetTeam("t"); });
  ASSERT_OK(got);
  EXPECT_EQ(Dump(*got), Dump(MakeTeam("t")));
}

TEST_P(StoreConformanceTest, DeleteTeam_RefusedWhileReferenced_ThenDeletes) {
  ASSERT_OK(Write(store(), [](OkrTransaction& tx) -> absl::Status {
    if (absl::Status s = tx.InsertTeam(MakeTeam("t")); !s.ok()) return s;
    if (absl::Status s = tx.InsertTeam(MakeTeam("child", "t")); !s.ok()) return s;
    if (absl::Status s = tx.InsertCycle(MakeCycle("c")); !s.ok()) return s;
    return tx.InsertObjective(MakeObjective("o", "t", "c"));
  }));
  EXPECT_STATUS(Write(store(), [](OkrTransaction& tx) { return tx.DeleteTeam("t", 1); }),
                kFailedPrecondition, "\"o\"");
  ASSERT_OK(Write(store(), [](OkrTransaction& tx) { return tx.DeleteObjective("o"); }));
  EXPECT_STATUS(Write(store(), [](OkrTransaction& tx) { return tx.DeleteTeam("t", 1); }),
                kFailedPrecondition, "\"child\"");
  Team child = MakeTeam("child");
  child.meta = Meta(2);
  ASSERT_OK(Write(store(), [&](OkrTransaction& tx) { return tx.UpdateTeam(child, 1); }));
  EXPECT_STATUS(Write(store(), [](OkrTransaction& tx) { return tx.DeleteTeam("t", 3); }), kAborted,
                "\"t\"");
  ASSERT_OK(Write(store(), [](OkrTransaction& tx) { return tx.DeleteTeam("t", 1); }));
  EXPECT_STATUS(Read(store(), [](OkrTransaction& tx) { return tx.GetTeam("t"); }), kNotFound,
                "\"t\"");
  EXPECT_STATUS(Write(store(), [](OkrTransaction& tx) { return tx.DeleteTeam("t", 1); }), kNotFound,
                "\"t\"");
}

TEST_P(StoreConformanceTest, UpdateCycle_MatchingRevision_StoresEveryField_StaleFailsAborted) {
  ASSERT_OK(Write(store(), [](OkrTransaction& tx) { return tx.InsertCycle(MakeCycle("q1")); }));
  Cycle c = MakeCycle("q1");
  c.display_name = "Renamed";
  c.start_time = kBeforeEpoch;
  c.end_time = kT1;
  c.meta = Meta(2);
  ASSERT_OK(Write(store(), [&](OkrTransaction& tx) { return tx.UpdateCycle(c, 1); }));
  absl::StatusOr<Cycle> got = Read(store(), [](OkrTransaction& tx) { return tx.GetCycle("q1"); });
  ASSERT_OK(got);
  EXPECT_EQ(Dump(*got), Dump(c));
  EXPECT_STATUS(Write(store(), [&](OkrTransaction& tx) { return tx.UpdateCycle(c, 1); }), kAborted,
                "\"q1\"");
  Cycle missing = MakeCycle("nope");
  EXPECT_STATUS(Write(store(), [&](OkrTransaction& tx) { return tx.UpdateCycle(missing, 1); }),
                kNotFound, "\"nope\"");
}

// Stores may keep cycles in memory (they were immutable once): an update or delete must
// be visible to every later read, read-only or not, and a failed write changes nothing.
TEST_P(StoreConformanceTest, UpdateCycle_AfterCachedReads_NeverServesTheOldCycle) {
  ASSERT_OK(Write(store(), [](OkrTransaction& tx) { return tx.InsertCycle(MakeCycle("q1")); }));
  for (int i = 0; i < 3; ++i) {  // warm any cache
    ASSERT_OK(Read(store(), [](OkrTransaction& tx) { return tx.GetCycle("q1"); }));
    ASSERT_OK(Write(store(), [](OkrTransaction& tx) { return tx.GetCycle("q1"); }));
  }
  Cycle c = MakeCycle("q1");
  c.display_name = "Second";
  c.meta = Meta(2);
  // The write itself reads its own change.
  absl::StatusOr<Cycle> in_tx = Write(store(), [&](OkrTransaction& tx) -> absl::StatusOr<Cycle> {
    if (absl::Status s = tx.UpdateCycle(c, 1); !s.ok()) return s;
    return tx.GetCycle("q1");
  });
  ASSERT_OK(in_tx);
  EXPECT_EQ(in_tx->display_name, "Second");
  absl::StatusOr<Cycle> read = Read(store(), [](OkrTransaction& tx) { return tx.GetCycle("q1"); });
  ASSERT_OK(read);
  EXPECT_EQ(read->display_name, "Second");
  absl::StatusOr<Cycle> written =
      Write(store(), [](OkrTransaction& tx) { return tx.GetCycle("q1"); });
  ASSERT_OK(written);
  EXPECT_EQ(written->display_name, "Second");
  // A rolled-back update leaves the committed cycle in place.
  Cycle third = c;
  third.display_name = "Third";
  third.meta = Meta(3);
  EXPECT_STATUS(Write(store(),
                      [&](OkrTransaction& tx) -> absl::Status {
                        if (absl::Status s = tx.UpdateCycle(third, 2); !s.ok()) return s;
                        return absl::CancelledError("roll back");
                      }),
                kCancelled, "roll back");
  read = Read(store(), [](OkrTransaction& tx) { return tx.GetCycle("q1"); });
  ASSERT_OK(read);
  EXPECT_EQ(read->display_name, "Second");
  EXPECT_EQ(read->meta.revision, 2);
  // Deleted: gone for readers and writers alike.
  ASSERT_OK(Write(store(), [](OkrTransaction& tx) { return tx.DeleteCycle("q1", 2); }));
  EXPECT_STATUS(Read(store(), [](OkrTransaction& tx) { return tx.GetCycle("q1"); }), kNotFound,
                "\"q1\"");
  EXPECT_STATUS(Write(store(), [](OkrTransaction& tx) { return tx.GetCycle("q1"); }), kNotFound,
                "\"q1\"");
}

TEST_P(StoreConformanceTest, DeleteCycle_RefusedWhileObjectivesReferToIt_StaleFailsAborted) {
  ASSERT_OK(Write(store(), [](OkrTransaction& tx) -> absl::Status {
    if (absl::Status s = tx.InsertTeam(MakeTeam("t")); !s.ok()) return s;
    if (absl::Status s = tx.InsertCycle(MakeCycle("c")); !s.ok()) return s;
    return tx.InsertObjective(MakeObjective("o", "t", "c"));
  }));
  EXPECT_STATUS(Write(store(), [](OkrTransaction& tx) { return tx.DeleteCycle("c", 1); }),
                kFailedPrecondition, "\"o\"");
  ASSERT_OK(Write(store(), [](OkrTransaction& tx) { return tx.DeleteObjective("o"); }));
  EXPECT_STATUS(Write(store(), [](OkrTransaction& tx) { return tx.DeleteCycle("c", 4); }), kAborted,
                "\"c\"");
  ASSERT_OK(Write(store(), [](OkrTransaction& tx) { return tx.DeleteCycle("c", 1); }));
  EXPECT_STATUS(Write(store(), [](OkrTransaction& tx) { return tx.DeleteCycle("c", 1); }),
                kNotFound, "\"c\"");
}

// --- Objectives --------------------------------------------------------------------------

TEST_P(StoreConformanceTest, InsertObjective_ThenGetObjective_RoundTripsStoredFields) {
  ASSERT_OK(SeedTeamAndCycle(store()));
  Objective parent = MakeObjective("parent");
  Objective o = MakeObjective("o", "t", "c", "parent");
  o.expected_progress = 0.9;  // derived: not stored
  o.health = Health::kOffTrack;
  ASSERT_OK(Write(store(), [&](OkrTransaction& tx) -> absl::Status {
    if (absl::Status s = tx.InsertObjective(parent); !s.ok()) return s;
    return tx.InsertObjective(o);
  }));
  absl::StatusOr<Objective> got =
      Read(store(), [](OkrTransaction& tx) { return tx.GetObjective("o"); });
  ASSERT_OK(got);
  EXPECT_EQ(Dump(*got), Dump(o));
  EXPECT_EQ(got->parent_id, "parent");
  EXPECT_EQ(got->kind, ObjectiveKind::kAspirational);
  EXPECT_EQ(got->state, ObjectiveState::kProposed);
  EXPECT_EQ(got->progress, 0.375);
  EXPECT_EQ(got->expected_progress, 0);
  EXPECT_EQ(got->health, Health::kNotStarted);
  absl::StatusOr<Objective> got_parent =
      Read(store(), [](OkrTransaction& tx) { return tx.GetObjective("parent"); });
  ASSERT_OK(got_parent);
  EXPECT_EQ(got_parent->parent_id, "");
  EXPECT_GT(got->meta.seq, got_parent->meta.seq);
}

TEST_P(StoreConformanceTest, InsertObjective_DuplicateId_FailsAlreadyExists) {
  ASSERT_OK(SeedTeamAndCycle(store()));
  ASSERT_OK(
      Write(store(), [](OkrTransaction& tx) { return tx.InsertObjective(MakeObjective("o")); }));
  EXPECT_STATUS(
      Write(store(), [](OkrTransaction& tx) { return tx.InsertObjective(MakeObjective("o")); }),
      kAlreadyExists, "objective", "\"o\"");
}

TEST_P(StoreConformanceTest, GetObjective_Missing_FailsNotFound) {
  EXPECT_STATUS(Read(store(), [](OkrTransaction& tx) { return tx.GetObjective("nope"); }),
                kNotFound, "objective", "\"nope\"");
}

TEST_P(StoreConformanceTest, UpdateObjective_MatchingRevision_StoresEntityAsGiven) {
  ASSERT_OK(SeedTeamAndCycle(store()));
  ASSERT_OK(Write(store(), [](OkrTransaction& tx) -> absl::Status {
    if (absl::Status s = tx.InsertTeam(MakeTeam("t2")); !s.ok()) return s;
    if (absl::Status s = tx.InsertObjective(MakeObjective("p")); !s.ok()) return s;
    return tx.InsertObjective(MakeObjective("o"));
  }));
  absl::StatusOr<Objective> before =
      Read(store(), [](OkrTransaction& tx) { return tx.GetObjective("o"); });
  ASSERT_OK(before);
  Objective changed = *before;
  changed.title = "New title";
  changed.description = "";
  changed.team_id = "t2";
  changed.parent_id = "p";
  changed.kind = ObjectiveKind::kCommitted;
  changed.state = ObjectiveState::kClosed;
  changed.progress = 1;
  changed.meta.revision = 2;
  changed.meta.update_time = kT1 + absl::Microseconds(7);
  ASSERT_OK(Write(store(), [&](OkrTransaction& tx) { return tx.UpdateObjective(changed, 1); }));
  absl::StatusOr<Objective> after =
      Read(store(), [](OkrTransaction& tx) { return tx.GetObjective("o"); });
  ASSERT_OK(after);
  EXPECT_EQ(Dump(*after), Dump(changed));
  EXPECT_EQ(after->meta.seq, before->meta.seq);
}

TEST_P(StoreConformanceTest, UpdateObjective_StaleRevision_FailsAbortedAndKeepsRow) {
  ASSERT_OK(SeedTeamAndCycle(store()));
  ASSERT_OK(
      Write(store(), [](OkrTransaction& tx) { return tx.InsertObjective(MakeObjective("o")); }));
  Objective stale = MakeObjective("o");
  stale.title = "Lost update";
  stale.meta.revision = 6;
  EXPECT_STATUS(Write(store(), [&](OkrTransaction& tx) { return tx.UpdateObjective(stale, 5); }),
                kAborted, "objective", "\"o\"");
  absl::StatusOr<Objective> got =
      Read(store(), [](OkrTransaction& tx) { return tx.GetObjective("o"); });
  ASSERT_OK(got);
  EXPECT_EQ(got->title, "Objective o");
  EXPECT_EQ(got->meta.revision, 1);
}

TEST_P(StoreConformanceTest, UpdateObjective_Missing_FailsNotFound) {
  ASSERT_OK(SeedTeamAndCycle(store()));
  EXPECT_STATUS(
      Write(store(),
            [](OkrTransaction& tx) { return tx.UpdateObjective(MakeObjective("ghost"), 1); }),
      kNotFound, "objective", "\"ghost\"");
}

TEST_P(StoreConformanceTest, DeleteObjective_Missing_FailsNotFound) {
  EXPECT_STATUS(Write(store(), [](OkrTransaction& tx) { return tx.DeleteObjective("ghost"); }),
                kNotFound, "objective", "\"ghost\"");
}

TEST_P(StoreConformanceTest, DeleteObjective_DeletesKeyResultsCheckInsAndLinksButNotWorkItems) {
  ASSERT_OK(SeedKeyResults(store(), "o", {"k1", "k2"}));
  ASSERT_OK(SeedKeyResults(store(), "other", {"k1"}));
  const WorkItem item = MakeItem(Tracker::kJira, "OKR-1");
  ASSERT_OK(Write(store(), [&](OkrTransaction& tx) -> absl::Status {
    for (const char* obj : {"o", "other"}) {
      if (absl::Status s = tx.InsertCheckIn(MakeCheckIn(obj, "k1", "c1")); !s.ok()) return s;
    }
    if (absl::Status s = tx.UpsertWorkItem(item); !s.ok()) return s;
    if (absl::Status s = tx.InsertWorkItemLink(MakeLink("o", "k2", "l1", item)); !s.ok()) {
      return s;
    }
    return tx.InsertWorkItemLink(MakeLink("other", "k1", "l1", item));
  }));

  ASSERT_OK(Write(store(), [](OkrTransaction& tx) { return tx.DeleteObjective("o"); }));

  EXPECT_STATUS(Read(store(), [](OkrTransaction& tx) { return tx.GetObjective("o"); }), kNotFound);
  EXPECT_STATUS(Read(store(), [](OkrTransaction& tx) { return tx.GetKeyResult("o", "k1"); }),
                kNotFound);
  EXPECT_STATUS(Read(store(), [](OkrTransaction& tx) { return tx.GetCheckIn("o", "k1", "c1"); }),
                kNotFound);
  EXPECT_STATUS(
      Read(store(), [](OkrTransaction& tx) { return tx.GetWorkItemLink("o", "k2", "l1"); }),
      kNotFound);
  absl::StatusOr<std::vector<WorkItemLink>> links =
      Read(store(), [](OkrTransaction& tx) { return tx.LinksToWorkItem(Tracker::kJira, "OKR-1"); });
  ASSERT_OK(links);
  ASSERT_EQ(links->size(), 1u);
  EXPECT_EQ((*links)[0].objective_id, "other");
  // The other objective's children and the shared work item are untouched.
  EXPECT_OK(Read(store(), [](OkrTransaction& tx) { return tx.GetCheckIn("other", "k1", "c1"); }));
  absl::StatusOr<std::optional<WorkItem>> still =
      Read(store(), [](OkrTransaction& tx) { return tx.GetWorkItem(Tracker::kJira, "OKR-1"); });
  ASSERT_OK(still);
  EXPECT_TRUE(still->has_value());
}

TEST_P(StoreConformanceTest, DeleteObjective_ClearsParentOfAlignedObjectives) {
  ASSERT_OK(SeedTeamAndCycle(store()));
  ASSERT_OK(Write(store(), [](OkrTransaction& tx) -> absl::Status {
    if (absl::Status s = tx.InsertObjective(MakeObjective("top")); !s.ok()) return s;
    if (absl::Status s = tx.InsertObjective(MakeObjective("a", "t", "c", "top")); !s.ok()) {
      return s;
    }
    return tx.InsertObjective(MakeObjective("b", "t", "c", "top"));
  }));
  ASSERT_OK(Write(store(), [](OkrTransaction& tx) { return tx.DeleteObjective("top"); }));
  for (const char* id : {"a", "b"}) {
    absl::StatusOr<Objective> got =
        Read(store(), [&](OkrTransaction& tx) { return tx.GetObjective(id); });
    ASSERT_OK(got);
    EXPECT_EQ(got->parent_id, "") << id;
  }
  ObjectiveFilter by_parent;
  by_parent.parent_id = "top";
  absl::StatusOr<Page<Objective>> aligned =
      Read(store(), [&](OkrTransaction& tx) { return tx.ListObjectives(by_parent, PageQuery{}); });
  ASSERT_OK(aligned);
  EXPECT_THAT(aligned->items, IsEmpty());
}

TEST_P(StoreConformanceTest, ListObjectives_FiltersByTeamCycleAndParent) {
  ASSERT_OK(Write(store(), [](OkrTransaction& tx) -> absl::Status {
    for (const char* t : {"t1", "t2"}) {
      if (absl::Status s = tx.InsertTeam(MakeTeam(t)); !s.ok()) return s;
    }
    for (const char* c : {"c1", "c2"}) {
      if (absl::Status s = tx.InsertCycle(MakeCycle(c)); !s.ok()) return s;
    }
    for (const Objective& o : {MakeObjective("a", "t1", "c1"), MakeObjective("b", "t1", "c2", "a"),
                               MakeObjective("c", "t2", "c1", "a"), MakeObjective("d", "t2", "c2"),
                               MakeObjective("e", "t1", "c1", "d")}) {
      if (absl::Status s = tx.InsertObjective(o); !s.ok()) return s;
    }
    return absl::OkStatus();
  }));
  auto list = [&](std::string team, std::string cycle, std::string parent) {
    ObjectiveFilter f{team, cycle, parent};
    absl::StatusOr<Page<Objective>> page =
        Read(store(), [&](OkrTransaction& tx) { return tx.ListObjectives(f, PageQuery{}); });
    EXPECT_TRUE(page.ok()) << page.status();
    return page.ok() ? Ids(page->items) : std::vector<std::string>{"<error>"};
  };
  EXPECT_THAT(list("", "", ""), ElementsAre("a", "b", "c", "d", "e"));
  EXPECT_THAT(list("t1", "", ""), ElementsAre("a", "b", "e"));
  EXPECT_THAT(list("", "c1", ""), ElementsAre("a", "c", "e"));
  EXPECT_THAT(list("", "", "a"), ElementsAre("b", "c"));
  EXPECT_THAT(list("t1", "c1", ""), ElementsAre("a", "e"));
  EXPECT_THAT(list("t2", "c1", "a"), ElementsAre("c"));
  EXPECT_THAT(list("t1", "", "d"), ElementsAre("e"));
  EXPECT_THAT(list("t9", "", ""), IsEmpty());
}

TEST_P(StoreConformanceTest, ListObjectives_ThreePagesWithFilter_SkipsOtherRows) {
  ASSERT_OK(Write(store(), [](OkrTransaction& tx) -> absl::Status {
    for (const char* t : {"t1", "t2"}) {
      if (absl::Status s = tx.InsertTeam(MakeTeam(t)); !s.ok()) return s;
    }
    if (absl::Status s = tx.InsertCycle(MakeCycle("c")); !s.ok()) return s;
    // o0..o13 alternate between t1 and t2; t1 gets o0, o2, ..., o12 (7 rows).
    for (int i = 0; i < 14; ++i) {
      Objective o = MakeObjective(absl::StrCat("o", i), i % 2 == 0 ? "t1" : "t2", "c");
      if (absl::Status s = tx.InsertObjective(o); !s.ok()) return s;
    }
    return absl::OkStatus();
  }));
  ObjectiveFilter f;
  f.team_id = "t1";
  PageTrace trace = WalkPages<Objective>(
      store(), 3, [&](OkrTransaction& tx, const PageQuery& q) { return tx.ListObjectives(f, q); });
  EXPECT_THAT(trace.ids, ElementsAre(ElementsAre("o0", "o2", "o4"), ElementsAre("o6", "o8", "o10"),
                                     ElementsAre("o12")));
  EXPECT_THAT(trace.has_more, ElementsAre(true, true, false));
}

// --- Key results -------------------------------------------------------------------------

TEST_P(StoreConformanceTest, InsertKeyResult_ThenGetKeyResult_RoundTripsStoredFields) {
  ASSERT_OK(SeedKeyResults(store(), "o", {}));
  KeyResult metric = MakeKeyResult("o", "metric");
  metric.raw_progress = -0.125;  // unclamped values survive
  KeyResult milestone = MakeKeyResult("o", "milestone");
  milestone.type = KeyResultType::kMilestone;
  milestone.milestone_done = true;
  milestone.progress = 1;
  KeyResult items = MakeKeyResult("o", "items");
  items.type = KeyResultType::kWorkItems;
  items.totals = {3, 1, 6.5, 2.5};
  items.progress = 2.5 / 6.5;
  items.raw_progress = 2.5 / 6.5;
  items.expected_progress = 0.5;  // derived: not stored
  ASSERT_OK(Write(store(), [&](OkrTransaction& tx) -> absl::Status {
    for (const KeyResult& kr : {metric, milestone, items}) {
      if (absl::Status s = tx.InsertKeyResult(kr); !s.ok()) return s;
    }
    return absl::OkStatus();
  }));
  items.expected_progress = 0;
  for (const KeyResult& want : {metric, milestone, items}) {
    absl::StatusOr<KeyResult> got =
        Read(store(), [&](OkrTransaction& tx) { return tx.GetKeyResult("o", want.id); });
    ASSERT_OK(got);
    EXPECT_EQ(Dump(*got), Dump(want));
    EXPECT_EQ(got->expected_progress, 0);
    EXPECT_GT(got->meta.seq, 0);
  }
}

TEST_P(StoreConformanceTest, InsertKeyResult_DuplicateIdInSameObjective_FailsAlreadyExists) {
  ASSERT_OK(SeedKeyResults(store(), "o", {"k"}));
  EXPECT_STATUS(
      Write(store(),
            [](OkrTransaction& tx) { return tx.InsertKeyResult(MakeKeyResult("o", "k")); }),
      kAlreadyExists, "key result", "\"k\"");
}

TEST_P(StoreConformanceTest, InsertKeyResult_SameIdInAnotherObjective_Succeeds) {
  ASSERT_OK(SeedKeyResults(store(), "o1", {"k"}));
  ASSERT_OK(SeedKeyResults(store(), "o2", {"k"}));
  EXPECT_OK(Read(store(), [](OkrTransaction& tx) { return tx.GetKeyResult("o1", "k"); }));
  EXPECT_OK(Read(store(), [](OkrTransaction& tx) { return tx.GetKeyResult("o2", "k"); }));
}

TEST_P(StoreConformanceTest, GetKeyResult_Missing_FailsNotFound) {
  ASSERT_OK(SeedKeyResults(store(), "o1", {"k"}));
  ASSERT_OK(SeedKeyResults(store(), "o2", {}));
  EXPECT_STATUS(Read(store(), [](OkrTransaction& tx) { return tx.GetKeyResult("o1", "nope"); }),
                kNotFound, "key result", "\"nope\"");
  EXPECT_STATUS(Read(store(), [](OkrTransaction& tx) { return tx.GetKeyResult("o2", "k"); }),
                kNotFound, "key result", "\"k\"");
}

TEST_P(StoreConformanceTest, UpdateKeyResult_MatchingRevision_StoresEntityAsGiven) {
  ASSERT_OK(SeedKeyResults(store(), "o", {"k"}));
  absl::StatusOr<KeyResult> before =
      Read(store(), [](OkrTransaction& tx) { return tx.GetKeyResult("o", "k"); });
  ASSERT_OK(before);
  KeyResult changed = *before;
  changed.title = "Renamed";
  changed.weight = 0;
  changed.type = KeyResultType::kWorkItems;
  changed.metric = {0, 1, 0, ""};
  changed.totals = {4, 4, 8, 8};
  changed.progress = 1;
  changed.raw_progress = 1;
  changed.meta.revision = 2;
  changed.meta.update_time = kT1 + absl::Seconds(1);
  ASSERT_OK(Write(store(), [&](OkrTransaction& tx) { return tx.UpdateKeyResult(changed, 1); }));
  absl::StatusOr<KeyResult> after =
      Read(store(), [](OkrTransaction& tx) { return tx.GetKeyResult("o", "k"); });
  ASSERT_OK(after);
  EXPECT_EQ(Dump(*after), Dump(changed));
  EXPECT_EQ(after->meta.seq, before->meta.seq);
}

TEST_P(StoreConformanceTest, UpdateKeyResult_StaleRevision_FailsAborted) {
  ASSERT_OK(SeedKeyResults(store(), "o", {"k"}));
  KeyResult kr = MakeKeyResult("o", "k");
  kr.meta.revision = 3;
  EXPECT_STATUS(Write(store(), [&](OkrTransaction& tx) { return tx.UpdateKeyResult(kr, 2); }),
                kAborted, "key result", "\"k\"");
}

TEST_P(StoreConformanceTest, UpdateKeyResult_Missing_FailsNotFound) {
  ASSERT_OK(SeedKeyResults(store(), "o", {}));
  EXPECT_STATUS(
      Write(store(),
            [](OkrTransaction& tx) { return tx.UpdateKeyResult(MakeKeyResult("o", "ghost"), 1); }),
      kNotFound, "key result", "\"ghost\"");
}

TEST_P(StoreConformanceTest, DeleteKeyResult_DeletesItsCheckInsAndLinksOnly) {
  ASSERT_OK(SeedKeyResults(store(), "o", {"k1", "k2"}));
  const WorkItem item = MakeItem(Tracker::kGitLab, "group/app#7");
  ASSERT_OK(Write(store(), [&](OkrTransaction& tx) -> absl::Status {
    if (absl::Status s = tx.UpsertWorkItem(item); !s.ok()) return s;
    for (const char* kr : {"k1", "k2"}) {
      if (absl::Status s = tx.InsertCheckIn(MakeCheckIn("o", kr, "c")); !s.ok()) return s;
      if (absl::Status s = tx.InsertWorkItemLink(MakeLink("o", kr, "l", item)); !s.ok()) return s;
    }
    return absl::OkStatus();
  }));
  ASSERT_OK(Write(store(), [](OkrTransaction& tx) { return tx.DeleteKeyResult("o", "k1"); }));
  EXPECT_STATUS(Read(store(), [](OkrTransaction& tx) { return tx.GetKeyResult("o", "k1"); }),
                kNotFound);
  EXPECT_STATUS(Read(store(), [](OkrTransaction& tx) { return tx.GetCheckIn("o", "k1", "c"); }),
                kNotFound);
  EXPECT_STATUS(
      Read(store(), [](OkrTransaction& tx) { return tx.GetWorkItemLink("o", "k1", "l"); }),
      kNotFound);
  EXPECT_OK(Read(store(), [](OkrTransaction& tx) { return tx.GetObjective("o"); }));
  EXPECT_OK(Read(store(), [](OkrTransaction& tx) { return tx.GetCheckIn("o", "k2", "c"); }));
  EXPECT_OK(Read(store(), [](OkrTransaction& tx) { return tx.GetWorkItemLink("o", "k2", "l"); }));
}

TEST_P(StoreConformanceTest, DeleteKeyResult_Missing_FailsNotFound) {
  ASSERT_OK(SeedKeyResults(store(), "o", {}));
  EXPECT_STATUS(Write(store(), [](OkrTransaction& tx) { return tx.DeleteKeyResult("o", "ghost"); }),
                kNotFound, "key result", "\"ghost\"");
}

TEST_P(StoreConformanceTest, ListKeyResults_ThreePages_ReturnsOnlyThatObjectivesRows) {
  ASSERT_OK(SeedKeyResults(store(), "o", {"k1", "k2"}));
  ASSERT_OK(SeedKeyResults(store(), "other", {"x1"}));
  ASSERT_OK(Write(store(), [](OkrTransaction& tx) -> absl::Status {
    for (const char* id : {"k3", "k4", "k5"}) {
      if (absl::Status s = tx.InsertKeyResult(MakeKeyResult("o", id)); !s.ok()) return s;
    }
    return tx.InsertKeyResult(MakeKeyResult("other", "x2"));
  }));
  PageTrace trace = WalkPages<KeyResult>(
      store(), 2, [](OkrTransaction& tx, const PageQuery& q) { return tx.ListKeyResults("o", q); });
  EXPECT_THAT(trace.ids,
              ElementsAre(ElementsAre("k1", "k2"), ElementsAre("k3", "k4"), ElementsAre("k5")));
  EXPECT_THAT(trace.has_more, ElementsAre(true, true, false));
}

TEST_P(StoreConformanceTest, AllKeyResults_ReturnsEveryRowInSeqOrderBeyondOnePage) {
  std::vector<std::string> ids;
  for (int i = 0; i < 60; ++i) ids.push_back(absl::StrCat("k", 59 - i));
  ASSERT_OK(SeedKeyResults(store(), "o", ids));
  ASSERT_OK(SeedKeyResults(store(), "other", {"k0"}));
  absl::StatusOr<std::vector<KeyResult>> all =
      Read(store(), [](OkrTransaction& tx) { return tx.AllKeyResults("o"); });
  ASSERT_OK(all);
  EXPECT_EQ(Ids(*all), ids);
  absl::StatusOr<std::vector<KeyResult>> none =
      Read(store(), [](OkrTransaction& tx) { return tx.AllKeyResults("missing"); });
  ASSERT_OK(none);
  EXPECT_THAT(*none, IsEmpty());
}

// --- Check-ins ---------------------------------------------------------------------------

TEST_P(StoreConformanceTest, InsertCheckIn_ThenGetCheckIn_RoundTripsEveryField) {
  ASSERT_OK(SeedKeyResults(store(), "o", {"k"}));
  CheckIn with_values = MakeCheckIn("o", "k", "c1");
  CheckIn without = MakeCheckIn("o", "k", "c2");
  without.value.reset();
  without.confidence.reset();
  without.note = "";
  ASSERT_OK(Write(store(), [&](OkrTransaction& tx) -> absl::Status {
    if (absl::Status s = tx.InsertCheckIn(with_values); !s.ok()) return s;
    return tx.InsertCheckIn(without);
  }));
  for (const CheckIn& want : {with_values, without}) {
    absl::StatusOr<CheckIn> got =
        Read(store(), [&](OkrTransaction& tx) { return tx.GetCheckIn("o", "k", want.id); });
    ASSERT_OK(got);
    EXPECT_EQ(Dump(*got), Dump(want));
    EXPECT_GT(got->meta.seq, 0);
  }
}

TEST_P(StoreConformanceTest, InsertCheckIn_DuplicateId_FailsAlreadyExists) {
  ASSERT_OK(SeedKeyResults(store(), "o", {"k"}));
  ASSERT_OK(Write(store(),
                  [](OkrTransaction& tx) { return tx.InsertCheckIn(MakeCheckIn("o", "k", "c")); }));
  EXPECT_STATUS(
      Write(store(),
            [](OkrTransaction& tx) { return tx.InsertCheckIn(MakeCheckIn("o", "k", "c")); }),
      kAlreadyExists, "check-in", "\"c\"");
}

TEST_P(StoreConformanceTest, GetCheckIn_Missing_FailsNotFound) {
  ASSERT_OK(SeedKeyResults(store(), "o", {"k"}));
  EXPECT_STATUS(Read(store(), [](OkrTransaction& tx) { return tx.GetCheckIn("o", "k", "nope"); }),
                kNotFound, "check-in", "\"nope\"");
}

TEST_P(StoreConformanceTest, ListCheckIns_ThreePages_ReturnsOnlyThatKeyResultsRows) {
  ASSERT_OK(SeedKeyResults(store(), "o", {"k", "other"}));
  ASSERT_OK(Write(store(), [](OkrTransaction& tx) -> absl::Status {
    for (int i = 1; i <= 7; ++i) {
      if (absl::Status s = tx.InsertCheckIn(MakeCheckIn("o", "k", absl::StrCat("c", i))); !s.ok()) {
        return s;
      }
      if (absl::Status s = tx.InsertCheckIn(MakeCheckIn("o", "other", absl::StrCat("c", i)));
          !s.ok()) {
        return s;
      }
    }
    return absl::OkStatus();
  }));
  PageTrace trace = WalkPages<CheckIn>(store(), 3, [](OkrTransaction& tx, const PageQuery& q) {
    return tx.ListCheckIns("o", "k", q);
  });
  EXPECT_THAT(trace.ids, ElementsAre(ElementsAre("c1", "c2", "c3"), ElementsAre("c4", "c5", "c6"),
                                     ElementsAre("c7")));
  EXPECT_THAT(trace.has_more, ElementsAre(true, true, false));
}

// --- Work items and links ----------------------------------------------------------------

TEST_P(StoreConformanceTest, GetWorkItem_Missing_ReturnsNullopt) {
  absl::StatusOr<std::optional<WorkItem>> got =
      Read(store(), [](OkrTransaction& tx) { return tx.GetWorkItem(Tracker::kJira, "OKR-404"); });
  ASSERT_OK(got);
  EXPECT_FALSE(got->has_value());
}

TEST_P(StoreConformanceTest, UpsertWorkItem_InsertsThenReplacesState) {
  WorkItem item = MakeItem(Tracker::kJira, "OKR-1", false, 2);
  ASSERT_OK(Write(store(), [&](OkrTransaction& tx) { return tx.UpsertWorkItem(item); }));
  absl::StatusOr<std::optional<WorkItem>> got =
      Read(store(), [](OkrTransaction& tx) { return tx.GetWorkItem(Tracker::kJira, "OKR-1"); });
  ASSERT_OK(got);
  ASSERT_TRUE(got->has_value());
  EXPECT_EQ(Dump(**got), Dump(item));

  item.title = "Renamed";
  item.url = "";
  item.done = true;
  item.weight = 0.5;
  item.update_time = kT1 + absl::Microseconds(1);
  item.partial_credit = 0.25;
  item.status = "Closed";
  item.exclusion = "Won't Do";
  ASSERT_OK(Write(store(), [&](OkrTransaction& tx) { return tx.UpsertWorkItem(item); }));
  got = Read(store(), [](OkrTransaction& tx) { return tx.GetWorkItem(Tracker::kJira, "OKR-1"); });
  ASSERT_OK(got);
  ASSERT_TRUE(got->has_value());
  EXPECT_EQ(Dump(**got), Dump(item));
  // Same key on another tracker is another item.
  absl::StatusOr<std::optional<WorkItem>> gitlab =
      Read(store(), [](OkrTransaction& tx) { return tx.GetWorkItem(Tracker::kGitLab, "OKR-1"); });
  ASSERT_OK(gitlab);
  EXPECT_FALSE(gitlab->has_value());
}

TEST_P(StoreConformanceTest, GetWorkItemLink_ReadsItemFromTheCurrentWorkItemRow) {
  ASSERT_OK(SeedKeyResults(store(), "o", {"k"}));
  WorkItem item = MakeItem(Tracker::kJira, "OKR-1");
  WorkItemLink link = MakeLink("o", "k", "l", item);
  ASSERT_OK(InsertLinked(store(), item, link));
  absl::StatusOr<WorkItemLink> got =
      Read(store(), [](OkrTransaction& tx) { return tx.GetWorkItemLink("o", "k", "l"); });
  ASSERT_OK(got);
  EXPECT_EQ(Dump(*got), Dump(link));
  EXPECT_GT(got->meta.seq, 0);

  item.done = true;
  item.title = "Closed now";
  item.partial_credit = 0.5;
  item.status = "In Review";
  item.exclusion = "duplicate";
  ASSERT_OK(Write(store(), [&](OkrTransaction& tx) { return tx.UpsertWorkItem(item); }));
  got = Read(store(), [](OkrTransaction& tx) { return tx.GetWorkItemLink("o", "k", "l"); });
  ASSERT_OK(got);
  EXPECT_EQ(Dump(got->item), Dump(item));
}

TEST_P(StoreConformanceTest, InsertWorkItemLink_WithoutWorkItemRow_FailsFailedPrecondition) {
  ASSERT_OK(SeedKeyResults(store(), "o", {"k"}));
  EXPECT_STATUS(Write(store(),
                      [](OkrTransaction& tx) {
                        return tx.InsertWorkItemLink(
                            MakeLink("o", "k", "l", MakeItem(Tracker::kJira, "OKR-9")));
                      }),
                kFailedPrecondition, "OKR-9");
}

TEST_P(StoreConformanceTest, InsertWorkItemLink_SameItemTwiceOnOneKeyResult_FailsAlreadyExists) {
  ASSERT_OK(SeedKeyResults(store(), "o", {"k"}));
  const WorkItem item = MakeItem(Tracker::kJira, "OKR-1");
  ASSERT_OK(InsertLinked(store(), item, MakeLink("o", "k", "l1", item)));
  EXPECT_STATUS(InsertLinked(store(), item, MakeLink("o", "k", "l2", item)), kAlreadyExists,
                "OKR-1");
  absl::StatusOr<Page<WorkItemLink>> links =
      Read(store(), [](OkrTransaction& tx) { return tx.ListWorkItemLinks("o", "k", PageQuery{}); });
  ASSERT_OK(links);
  EXPECT_THAT(Ids(links->items), ElementsAre("l1"));
}

TEST_P(StoreConformanceTest, InsertWorkItemLink_DuplicateLinkId_FailsAlreadyExists) {
  ASSERT_OK(SeedKeyResults(store(), "o", {"k"}));
  const WorkItem a = MakeItem(Tracker::kJira, "OKR-1");
  const WorkItem b = MakeItem(Tracker::kJira, "OKR-2");
  ASSERT_OK(InsertLinked(store(), a, MakeLink("o", "k", "l", a)));
  EXPECT_STATUS(InsertLinked(store(), b, MakeLink("o", "k", "l", b)), kAlreadyExists, "\"l\"");
}

TEST_P(StoreConformanceTest, FindWorkItemLink_MatchesTrackerAndKey) {
  ASSERT_OK(SeedKeyResults(store(), "o", {"k"}));
  const WorkItem item = MakeItem(Tracker::kGitLab, "group/app#7");
  ASSERT_OK(InsertLinked(store(), item, MakeLink("o", "k", "l", item)));
  absl::StatusOr<WorkItemLink> found = Read(store(), [](OkrTransaction& tx) {
    return tx.FindWorkItemLink("o", "k", Tracker::kGitLab, "group/app#7");
  });
  ASSERT_OK(found);
  EXPECT_EQ(found->id, "l");
  EXPECT_EQ(Dump(found->item), Dump(item));
  EXPECT_STATUS(Read(store(),
                     [](OkrTransaction& tx) {
                       return tx.FindWorkItemLink("o", "k", Tracker::kJira, "group/app#7");
                     }),
                kNotFound, "group/app#7");
  EXPECT_STATUS(Read(store(),
                     [](OkrTransaction& tx) {
                       return tx.FindWorkItemLink("o", "other", Tracker::kGitLab, "group/app#7");
                     }),
                kNotFound);
}

TEST_P(StoreConformanceTest, GetWorkItemLink_Missing_FailsNotFound) {
  ASSERT_OK(SeedKeyResults(store(), "o", {"k"}));
  EXPECT_STATUS(
      Read(store(), [](OkrTransaction& tx) { return tx.GetWorkItemLink("o", "k", "nope"); }),
      kNotFound, "link", "\"nope\"");
}

TEST_P(StoreConformanceTest, DeleteWorkItemLink_RemovesLinkAndKeepsWorkItem) {
  ASSERT_OK(SeedKeyResults(store(), "o", {"k"}));
  const WorkItem item = MakeItem(Tracker::kJira, "OKR-1");
  ASSERT_OK(InsertLinked(store(), item, MakeLink("o", "k", "l", item)));
  ASSERT_OK(
      Write(store(), [](OkrTransaction& tx) { return tx.DeleteWorkItemLink("o", "k", "l"); }));
  EXPECT_STATUS(Read(store(), [](OkrTransaction& tx) { return tx.GetWorkItemLink("o", "k", "l"); }),
                kNotFound);
  absl::StatusOr<std::optional<WorkItem>> still =
      Read(store(), [](OkrTransaction& tx) { return tx.GetWorkItem(Tracker::kJira, "OKR-1"); });
  ASSERT_OK(still);
  EXPECT_TRUE(still->has_value());
  // The item can be linked again afterwards.
  EXPECT_OK(InsertLinked(store(), item, MakeLink("o", "k", "l2", item)));
}

TEST_P(StoreConformanceTest, DeleteWorkItemLink_Missing_FailsNotFound) {
  ASSERT_OK(SeedKeyResults(store(), "o", {"k"}));
  EXPECT_STATUS(
      Write(store(), [](OkrTransaction& tx) { return tx.DeleteWorkItemLink("o", "k", "nope"); }),
      kNotFound, "link", "\"nope\"");
}

TEST_P(StoreConformanceTest, ListWorkItemLinks_ThreePages_ReturnsOnlyThatKeyResultsLinks) {
  ASSERT_OK(SeedKeyResults(store(), "o", {"k", "other"}));
  ASSERT_OK(Write(store(), [](OkrTransaction& tx) -> absl::Status {
    for (int i = 1; i <= 5; ++i) {
      WorkItem item = MakeItem(Tracker::kJira, absl::StrCat("OKR-", i));
      if (absl::Status s = tx.UpsertWorkItem(item); !s.ok()) return s;
      if (absl::Status s = tx.InsertWorkItemLink(MakeLink("o", "k", absl::StrCat("l", i), item));
          !s.ok()) {
        return s;
      }
      if (absl::Status s =
              tx.InsertWorkItemLink(MakeLink("o", "other", absl::StrCat("x", i), item));
          !s.ok()) {
        return s;
      }
    }
    return absl::OkStatus();
  }));
  PageTrace trace = WalkPages<WorkItemLink>(store(), 2, [](OkrTransaction& tx, const PageQuery& q) {
    return tx.ListWorkItemLinks("o", "k", q);
  });
  EXPECT_THAT(trace.ids,
              ElementsAre(ElementsAre("l1", "l2"), ElementsAre("l3", "l4"), ElementsAre("l5")));
  EXPECT_THAT(trace.has_more, ElementsAre(true, true, false));
}

TEST_P(StoreConformanceTest, LinksToWorkItem_ReturnsLinksAcrossKeyResultsInSeqOrder) {
  ASSERT_OK(SeedKeyResults(store(), "o1", {"k1", "k2"}));
  ASSERT_OK(SeedKeyResults(store(), "o2", {"k1"}));
  const WorkItem shared = MakeItem(Tracker::kJira, "OKR-7", true, 3);
  const WorkItem other = MakeItem(Tracker::kJira, "OKR-8");
  ASSERT_OK(Write(store(), [&](OkrTransaction& tx) -> absl::Status {
    for (const WorkItem& w : {shared, other}) {
      if (absl::Status s = tx.UpsertWorkItem(w); !s.ok()) return s;
    }
    for (const WorkItemLink& l :
         {MakeLink("o2", "k1", "b", shared), MakeLink("o1", "k1", "x", other),
          MakeLink("o1", "k2", "a", shared), MakeLink("o1", "k1", "c", shared)}) {
      if (absl::Status s = tx.InsertWorkItemLink(l); !s.ok()) return s;
    }
    return absl::OkStatus();
  }));
  absl::StatusOr<std::vector<WorkItemLink>> links =
      Read(store(), [](OkrTransaction& tx) { return tx.LinksToWorkItem(Tracker::kJira, "OKR-7"); });
  ASSERT_OK(links);
  std::vector<std::string> where;
  for (const WorkItemLink& l : *links) {
    where.push_back(absl::StrCat(l.objective_id, "/", l.key_result_id, "/", l.id));
    EXPECT_EQ(Dump(l.item), Dump(shared));
  }
  EXPECT_THAT(where, ElementsAre("o2/k1/b", "o1/k2/a", "o1/k1/c"));
  absl::StatusOr<std::vector<WorkItemLink>> none = Read(
      store(), [](OkrTransaction& tx) { return tx.LinksToWorkItem(Tracker::kGitLab, "OKR-7"); });
  ASSERT_OK(none);
  EXPECT_THAT(*none, IsEmpty());
}

TEST_P(StoreConformanceTest, ComputeWorkItemTotals_SumsOnlyTheKeyResultsLinkedItems) {
  ASSERT_OK(SeedKeyResults(store(), "o", {"k", "other"}));
  const WorkItem a = MakeItem(Tracker::kJira, "OKR-1", false, 1);
  const WorkItem b = MakeItem(Tracker::kJira, "OKR-2", true, 2.5);
  const WorkItem c = MakeItem(Tracker::kGitLab, "group/app#3", false, 3);
  const WorkItem unrelated = MakeItem(Tracker::kJira, "OKR-4", true, 100);
  ASSERT_OK(Write(store(), [&](OkrTransaction& tx) -> absl::Status {
    for (const WorkItem& w : {a, b, c, unrelated}) {
      if (absl::Status s = tx.UpsertWorkItem(w); !s.ok()) return s;
    }
    for (const WorkItemLink& l :
         {MakeLink("o", "k", "1", a), MakeLink("o", "k", "2", b), MakeLink("o", "k", "3", c),
          MakeLink("o", "other", "4", unrelated)}) {
      if (absl::Status s = tx.InsertWorkItemLink(l); !s.ok()) return s;
    }
    return absl::OkStatus();
  }));
  absl::StatusOr<WorkItemTotals> totals =
      Read(store(), [](OkrTransaction& tx) { return tx.ComputeWorkItemTotals("o", "k"); });
  ASSERT_OK(totals);
  EXPECT_EQ(totals->item_count, 3);
  EXPECT_EQ(totals->done_count, 1);
  EXPECT_EQ(totals->total_weight, 6.5);
  EXPECT_EQ(totals->done_weight, 2.5);
}

TEST_P(StoreConformanceTest, ComputeWorkItemTotals_NoLinks_ReturnsZeros) {
  ASSERT_OK(SeedKeyResults(store(), "o", {"k"}));
  absl::StatusOr<WorkItemTotals> totals =
      Read(store(), [](OkrTransaction& tx) { return tx.ComputeWorkItemTotals("o", "k"); });
  ASSERT_OK(totals);
  EXPECT_EQ(totals->item_count, 0);
  EXPECT_EQ(totals->done_count, 0);
  EXPECT_EQ(totals->total_weight, 0);
  EXPECT_EQ(totals->done_weight, 0);
}

// --- Request records ---------------------------------------------------------------------

TEST_P(StoreConformanceTest, GetRequestRecord_Absent_ReturnsNullopt) {
  absl::StatusOr<std::optional<std::string>> got =
      Read(store(), [](OkrTransaction& tx) { return tx.GetRequestRecord("req-1"); });
  ASSERT_OK(got);
  EXPECT_FALSE(got->has_value());
}

TEST_P(StoreConformanceTest, PutRequestRecord_ThenGet_ReturnsResourceName) {
  ASSERT_OK(Write(store(), [](OkrTransaction& tx) {
    return tx.PutRequestRecord("CreateTeam/req-1", "teams/t");
  }));
  absl::StatusOr<std::optional<std::string>> got =
      Read(store(), [](OkrTransaction& tx) { return tx.GetRequestRecord("CreateTeam/req-1"); });
  ASSERT_OK(got);
  EXPECT_EQ(*got, std::optional<std::string>("teams/t"));
}

TEST_P(StoreConformanceTest, PutRequestRecord_Duplicate_FailsAlreadyExists) {
  ASSERT_OK(Write(store(), [](OkrTransaction& tx) { return tx.PutRequestRecord("r", "teams/a"); }));
  EXPECT_STATUS(
      Write(store(), [](OkrTransaction& tx) { return tx.PutRequestRecord("r", "teams/b"); }),
      kAlreadyExists, "\"r\"");
  absl::StatusOr<std::optional<std::string>> got =
      Read(store(), [](OkrTransaction& tx) { return tx.GetRequestRecord("r"); });
  ASSERT_OK(got);
  EXPECT_EQ(*got, std::optional<std::string>("teams/a"));
}

// --- Transactions ------------------------------------------------------------------------

TEST_P(StoreConformanceTest, RunInTransaction_CallbackError_ReturnsItAndWritesNothing) {
  ASSERT_OK(SeedKeyResults(store(), "o", {"k"}));
  const WorkItem item = MakeItem(Tracker::kJira, "OKR-1");
  absl::Status status = store().RunInTransaction([&](OkrTransaction& tx) -> absl::Status {
    EXPECT_OK(tx.InsertTeam(MakeTeam("t2")));
    EXPECT_OK(tx.InsertCycle(MakeCycle("c2")));
    EXPECT_OK(tx.InsertObjective(MakeObjective("o2")));
    EXPECT_OK(tx.InsertKeyResult(MakeKeyResult("o", "k2")));
    EXPECT_OK(tx.InsertCheckIn(MakeCheckIn("o", "k", "c")));
    EXPECT_OK(tx.UpsertWorkItem(item));
    EXPECT_OK(tx.InsertWorkItemLink(MakeLink("o", "k", "l", item)));
    EXPECT_OK(tx.PutRequestRecord("r", "teams/t2"));
    EXPECT_OK(tx.DeleteObjective("o"));
    return absl::PermissionDeniedError("callback says no");
  });
  EXPECT_EQ(status, absl::PermissionDeniedError("callback says no"));

  EXPECT_STATUS(Read(store(), [](OkrTransaction& tx) { return tx.GetTeam("t2"); }), kNotFound);
  EXPECT_STATUS(Read(store(), [](OkrTransaction& tx) { return tx.GetCycle("c2"); }), kNotFound);
  EXPECT_STATUS(Read(store(), [](OkrTransaction& tx) { return tx.GetObjective("o2"); }), kNotFound);
  EXPECT_STATUS(Read(store(), [](OkrTransaction& tx) { return tx.GetKeyResult("o", "k2"); }),
                kNotFound);
  EXPECT_STATUS(Read(store(), [](OkrTransaction& tx) { return tx.GetCheckIn("o", "k", "c"); }),
                kNotFound);
  EXPECT_STATUS(Read(store(), [](OkrTransaction& tx) { return tx.GetWorkItemLink("o", "k", "l"); }),
                kNotFound);
  EXPECT_OK(Read(store(), [](OkrTransaction& tx) { return tx.GetObjective("o"); }));
  EXPECT_OK(Read(store(), [](OkrTransaction& tx) { return tx.GetKeyResult("o", "k"); }));
  absl::StatusOr<std::optional<WorkItem>> got_item =
      Read(store(), [](OkrTransaction& tx) { return tx.GetWorkItem(Tracker::kJira, "OKR-1"); });
  ASSERT_OK(got_item);
  EXPECT_FALSE(got_item->has_value());
  absl::StatusOr<std::optional<std::string>> record =
      Read(store(), [](OkrTransaction& tx) { return tx.GetRequestRecord("r"); });
  ASSERT_OK(record);
  EXPECT_FALSE(record->has_value());
}

TEST_P(StoreConformanceTest,
       RunInTransaction_AfterFailedStatement_CommitsTheRestWhenCallbackReturnsOk) {
  // A failed operation (here ALREADY_EXISTS) leaves the transaction usable: the callback
  // may handle the error and go on. (PostgreSQL: ON CONFLICT DO NOTHING or savepoints.)
  ASSERT_OK(Write(store(), [](OkrTransaction& tx) { return tx.InsertTeam(MakeTeam("a")); }));
  ASSERT_OK(store().RunInTransaction([](OkrTransaction& tx) -> absl::Status {
    EXPECT_STATUS(tx.InsertTeam(MakeTeam("a")), kAlreadyExists);
    return tx.InsertTeam(MakeTeam("b"));
  }));
  EXPECT_OK(Read(store(), [](OkrTransaction& tx) { return tx.GetTeam("b"); }));
}

TEST_P(StoreConformanceTest, RunInTransaction_SeesItsOwnUncommittedWrites) {
  ASSERT_OK(SeedTeamAndCycle(store()));
  ASSERT_OK(store().RunInTransaction([](OkrTransaction& tx) -> absl::Status {
    EXPECT_OK(tx.InsertObjective(MakeObjective("o")));
    EXPECT_OK(tx.InsertKeyResult(MakeKeyResult("o", "k")));
    absl::StatusOr<std::vector<KeyResult>> krs = tx.AllKeyResults("o");
    EXPECT_OK(krs);
    if (krs.ok()) {
      EXPECT_THAT(Ids(*krs), ElementsAre("k"));
    }
    return tx.GetObjective("o").status();
  }));
}

TEST_P(StoreConformanceTest, RunReadOnly_EveryWrite_FailsFailedPrecondition) {
  ASSERT_OK(SeedKeyResults(store(), "o", {"k"}));
  const WorkItem item = MakeItem(Tracker::kJira, "OKR-1");
  ASSERT_OK(InsertLinked(store(), item, MakeLink("o", "k", "l", item)));
  ASSERT_OK(store().RunReadOnly([&](OkrTransaction& tx) -> absl::Status {
    EXPECT_STATUS(tx.InsertTeam(MakeTeam("t2")), kFailedPrecondition);
    EXPECT_STATUS(tx.InsertCycle(MakeCycle("c2")), kFailedPrecondition);
    EXPECT_STATUS(tx.InsertObjective(MakeObjective("o2")), kFailedPrecondition);
    EXPECT_STATUS(tx.UpdateObjective(MakeObjective("o"), 1), kFailedPrecondition);
    EXPECT_STATUS(tx.DeleteObjective("o"), kFailedPrecondition);
    EXPECT_STATUS(tx.InsertKeyResult(MakeKeyResult("o", "k2")), kFailedPrecondition);
    EXPECT_STATUS(tx.UpdateKeyResult(MakeKeyResult("o", "k"), 1), kFailedPrecondition);
    EXPECT_STATUS(tx.DeleteKeyResult("o", "k"), kFailedPrecondition);
    EXPECT_STATUS(tx.InsertCheckIn(MakeCheckIn("o", "k", "c")), kFailedPrecondition);
    EXPECT_STATUS(tx.UpsertWorkItem(MakeItem(Tracker::kJira, "OKR-2")), kFailedPrecondition);
    EXPECT_STATUS(tx.InsertWorkItemLink(MakeLink("o", "k", "l2", item)), kFailedPrecondition);
    EXPECT_STATUS(tx.DeleteWorkItemLink("o", "k", "l"), kFailedPrecondition);
    EXPECT_STATUS(tx.PutRequestRecord("r", "teams/t"), kFailedPrecondition);
    return absl::OkStatus();
  }));
  EXPECT_OK(Read(store(), [](OkrTransaction& tx) { return tx.GetObjective("o"); }));
  EXPECT_OK(Read(store(), [](OkrTransaction& tx) { return tx.GetKeyResult("o", "k"); }));
  EXPECT_OK(Read(store(), [](OkrTransaction& tx) { return tx.GetWorkItemLink("o", "k", "l"); }));
  EXPECT_STATUS(Read(store(), [](OkrTransaction& tx) { return tx.GetTeam("t2"); }), kNotFound);
}

TEST_P(StoreConformanceTest, RunReadOnly_KeepsOneSnapshotWhileAWriterCommits) {
  ASSERT_OK(Write(store(), [](OkrTransaction& tx) { return tx.InsertTeam(MakeTeam("before")); }));
  ASSERT_OK(store().RunReadOnly([&](OkrTransaction& tx) -> absl::Status {
    EXPECT_OK(tx.GetTeam("before"));  // the snapshot starts here at the latest
    absl::Status written;
    std::thread writer([&] {
      written = store().RunInTransaction(
          [](OkrTransaction& w) { return w.InsertTeam(MakeTeam("after")); });
    });
    writer.join();
    EXPECT_OK(written);
    EXPECT_STATUS(tx.GetTeam("after"), kNotFound);
    absl::StatusOr<Page<Team>> teams = tx.ListTeams("", PageQuery{});
    EXPECT_OK(teams);
    if (teams.ok()) {
      EXPECT_THAT(Ids(teams->items), ElementsAre("before"));
    }
    return absl::OkStatus();
  }));
  EXPECT_OK(Read(store(), [](OkrTransaction& tx) { return tx.GetTeam("after"); }));
}

TEST_P(StoreConformanceTest, RunReadOnly_DuringOpenWriteTransaction_ReadsLastCommitWithoutWaiting) {
  ASSERT_OK(
      Write(store(), [](OkrTransaction& tx) { return tx.InsertTeam(MakeTeam("committed")); }));
  ASSERT_OK(store().RunInTransaction([&](OkrTransaction& tx) -> absl::Status {
    EXPECT_OK(tx.InsertTeam(MakeTeam("pending")));
    absl::StatusOr<Page<Team>> seen;
    std::thread reader([&] {
      seen = InTx(store(), /*read_only=*/true,
                  [](OkrTransaction& r) { return r.ListTeams("", PageQuery{}); });
    });
    reader.join();
    EXPECT_OK(seen);
    if (seen.ok()) {
      EXPECT_THAT(Ids(seen->items), ElementsAre("committed"));
    }
    return absl::OkStatus();
  }));
  EXPECT_OK(Read(store(), [](OkrTransaction& tx) { return tx.GetTeam("pending"); }));
}

TEST_P(StoreConformanceTest, RunInTransaction_ConcurrentReadModifyWrite_LosesNoUpdate) {
  ASSERT_OK(SeedTeamAndCycle(store()));
  ASSERT_OK(Write(store(),
                  [](OkrTransaction& tx) { return tx.InsertObjective(MakeObjective("counter")); }));
  constexpr int kThreads = 4;
  constexpr int kIncrements = 50;
  std::vector<absl::Status> failures(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kIncrements; ++i) {
        absl::Status s = store().RunInTransaction([](OkrTransaction& tx) -> absl::Status {
          absl::StatusOr<Objective> o = tx.GetObjective("counter");
          if (!o.ok()) return o.status();
          const int64_t revision = o->meta.revision;
          o->meta.revision = revision + 1;
          o->progress = static_cast<double>(revision);
          return tx.UpdateObjective(*o, revision);
        });
        if (!s.ok() && failures[t].ok()) failures[t] = s;
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  for (const absl::Status& s : failures) EXPECT_OK(s);
  absl::StatusOr<Objective> counter =
      Read(store(), [](OkrTransaction& tx) { return tx.GetObjective("counter"); });
  ASSERT_OK(counter);
  EXPECT_EQ(counter->meta.revision, 1 + kThreads * kIncrements);
  EXPECT_EQ(counter->progress, kThreads * kIncrements);
}

TEST_P(StoreConformanceTest, Seq_GrowsAcrossTransactionsAndIsNotReusedAfterDelete) {
  ASSERT_OK(SeedTeamAndCycle(store()));
  ASSERT_OK(Write(store(), [](OkrTransaction& tx) -> absl::Status {
    if (absl::Status s = tx.InsertObjective(MakeObjective("a")); !s.ok()) return s;
    return tx.InsertObjective(MakeObjective("b"));
  }));
  absl::StatusOr<Objective> b =
      Read(store(), [](OkrTransaction& tx) { return tx.GetObjective("b"); });
  ASSERT_OK(b);
  ASSERT_OK(Write(store(), [](OkrTransaction& tx) { return tx.DeleteObjective("b"); }));
  ASSERT_OK(
      Write(store(), [](OkrTransaction& tx) { return tx.InsertObjective(MakeObjective("c")); }));
  absl::StatusOr<Objective> c =
      Read(store(), [](OkrTransaction& tx) { return tx.GetObjective("c"); });
  ASSERT_OK(c);
  EXPECT_GT(c->meta.seq, b->meta.seq);
  // A page cursor taken at the deleted row still continues correctly.
  PageQuery q;
  q.after_seq = b->meta.seq;
  absl::StatusOr<Page<Objective>> rest =
      Read(store(), [&](OkrTransaction& tx) { return tx.ListObjectives(ObjectiveFilter{}, q); });
  ASSERT_OK(rest);
  EXPECT_THAT(Ids(rest->items), ElementsAre("c"));
}

TEST_P(StoreConformanceTest, Ping_OpenStore_Succeeds) { EXPECT_OK(store().Ping()); }

// --- Events outbox and documents ---------------------------------------------------------

Event MakeEvent(EventType type, const std::string& objective, const std::string& kr,
                const std::string& team) {
  Event e;
  e.type = type;
  e.time = absl::FromUnixMicros(1'790'000'000'123'456);
  e.objective_id = objective;
  e.key_result_id = kr;
  e.team_id = team;
  e.cycle_id = "c";
  e.cause = {CauseKind::kWorkItemClosed, "JIRA OKRX-1", "objectives/o/keyResults/k"};
  e.old_progress = 0.25;
  e.new_progress = 0.5;
  e.threshold = 0.5;
  e.old_health = Health::kAtRisk;
  e.new_health = Health::kOnTrack;
  e.old_state = ObjectiveState::kProposed;
  e.new_state = ObjectiveState::kAgreed;
  e.old_total_weight = 3;
  e.new_total_weight = 4;
  e.finding_code = "ORPHAN";
  e.finding_subject = "objectives/o";
  e.resolved = true;
  e.rule_id = "r1";
  e.subscription_id = "s1";
  e.message = "progress 25% -> 50% (\"quoted\" \u00e9)";
  return e;
}

std::string Dump(const Event& e) {
  return absl::StrCat(
      "event{", e.sequence, "|", static_cast<int>(e.type), "|", Str(e.time), "|", e.objective_id,
      "|", e.key_result_id, "|", e.team_id, "|", e.cycle_id, "|", static_cast<int>(e.cause.kind),
      ":", e.cause.ref, ":", e.cause.via, "|", e.old_progress, ">", e.new_progress, "@",
      e.threshold, "|", static_cast<int>(e.old_health), ">", static_cast<int>(e.new_health), "|",
      static_cast<int>(e.old_state), ">", static_cast<int>(e.new_state), "|", e.old_total_weight,
      ">", e.new_total_weight, "|", e.finding_code, ":", e.finding_subject, ":", e.resolved, "|",
      e.rule_id, "|", e.subscription_id, "|", e.message, "}");
}

TEST_P(StoreConformanceTest, AppendEvent_AssignsIncreasingSequences_AndRoundTripsEveryField) {
  std::vector<Event> written = {MakeEvent(EventType::kProgressChanged, "o", "k", "t"),
                                MakeEvent(EventType::kHealthChanged, "o", "", "t"),
                                MakeEvent(EventType::kRuleFired, "p", "k2", "u")};
  ASSERT_OK(Write(store(), [&](OkrTransaction& tx) -> absl::Status {
    for (Event& e : written) {
      if (absl::Status s = tx.AppendEvent(e); !s.ok()) return s;
    }
    return absl::OkStatus();
  }));
  EXPECT_GT(written[0].sequence, 0);
  EXPECT_GT(written[1].sequence, written[0].sequence);
  EXPECT_GT(written[2].sequence, written[1].sequence);
  absl::StatusOr<std::vector<Event>> all = Read(store(), [](OkrTransaction& tx) {
    return tx.ListEvents(OkrTransaction::EventQuery{0, 100, "", "", ""});
  });
  ASSERT_OK(all);
  ASSERT_EQ(all->size(), 3u);
  for (size_t i = 0; i < 3; ++i) EXPECT_EQ(Dump((*all)[i]), Dump(written[i]));
  absl::StatusOr<int64_t> last =
      Read(store(), [](OkrTransaction& tx) { return tx.LastEventSequence(); });
  ASSERT_OK(last);
  EXPECT_EQ(*last, written[2].sequence);
}

TEST_P(StoreConformanceTest, ListEvents_FiltersByParentAndPagesBySequence) {
  std::vector<Event> written;
  for (int i = 0; i < 5; ++i) {
    written.push_back(MakeEvent(EventType::kProgressChanged, i % 2 ? "o" : "p", i < 2 ? "k" : "",
                                i < 4 ? "t" : "u"));
  }
  ASSERT_OK(Write(store(), [&](OkrTransaction& tx) -> absl::Status {
    for (Event& e : written) {
      if (absl::Status s = tx.AppendEvent(e); !s.ok()) return s;
    }
    return absl::OkStatus();
  }));
  auto sequences = [&](OkrTransaction::EventQuery q) {
    std::vector<int64_t> out;
    absl::StatusOr<std::vector<Event>> got =
        Read(store(), [&](OkrTransaction& tx) { return tx.ListEvents(q); });
    EXPECT_TRUE(got.ok()) << got.status();
    if (got.ok()) {
      for (const Event& e : *got) out.push_back(e.sequence);
    }
    return out;
  };
  const auto& w = written;
  EXPECT_EQ(sequences({0, 100, "o", "", ""}), (std::vector<int64_t>{w[1].sequence, w[3].sequence}));
  EXPECT_EQ(sequences({0, 100, "o", "k", ""}), (std::vector<int64_t>{w[1].sequence}));
  EXPECT_EQ(sequences({0, 100, "", "", "u"}), (std::vector<int64_t>{w[4].sequence}));
  EXPECT_EQ(sequences({w[1].sequence, 2, "", "", ""}),
            (std::vector<int64_t>{w[2].sequence, w[3].sequence}));
}

TEST_P(StoreConformanceTest, AppendEvent_RolledBackTransaction_LeavesNoEvent) {
  absl::Status failed = store().RunInTransaction([](OkrTransaction& tx) -> absl::Status {
    Event e = MakeEvent(EventType::kProgressChanged, "o", "k", "t");
    if (absl::Status s = tx.AppendEvent(e); !s.ok()) return s;
    return absl::AbortedError("rolled back on purpose");
  });
  EXPECT_TRUE(absl::IsAborted(failed)) << failed;
  absl::StatusOr<std::vector<Event>> all = Read(store(), [](OkrTransaction& tx) {
    return tx.ListEvents(OkrTransaction::EventQuery{0, 100, "", "", ""});
  });
  ASSERT_OK(all);
  EXPECT_TRUE(all->empty());
}

TEST_P(StoreConformanceTest, ConcurrentEventWriters_NeverCommitSequencesOutOfOrder) {
  // A reader that has seen sequence N must never later see a new event below N.
  constexpr int kWriters = 4;
  constexpr int kPerWriter = 25;
  std::atomic<bool> done{false};
  std::vector<std::string> problems;
  std::thread reader([&] {
    int64_t seen = 0;
    std::set<int64_t> all_seen;
    while (!done.load()) {
      absl::StatusOr<std::vector<Event>> got = Read(store(), [](OkrTransaction& tx) {
        return tx.ListEvents(OkrTransaction::EventQuery{0, 100000, "", "", ""});
      });
      if (!got.ok()) continue;
      for (const Event& e : *got) {
        if (!all_seen.count(e.sequence) && e.sequence < seen) {
          problems.push_back(absl::StrCat("event ", e.sequence, " appeared after ", seen));
        }
        all_seen.insert(e.sequence);
        seen = std::max(seen, e.sequence);
      }
    }
  });
  std::vector<std::thread> writers;
  for (int w = 0; w < kWriters; ++w) {
    writers.emplace_back([&] {
      for (int i = 0; i < kPerWriter; ++i) {
        absl::Status s = store().RunInTransaction([](OkrTransaction& tx) -> absl::Status {
          Event e = MakeEvent(EventType::kProgressChanged, "o", "k", "t");
          return tx.AppendEvent(e);
        });
        EXPECT_OK(s);
      }
    });
  }
  for (std::thread& t : writers) t.join();
  done = true;
  reader.join();
  EXPECT_THAT(problems, ::testing::IsEmpty());
  absl::StatusOr<std::vector<Event>> all = Read(store(), [](OkrTransaction& tx) {
    return tx.ListEvents(OkrTransaction::EventQuery{0, 100000, "", "", ""});
  });
  ASSERT_OK(all);
  EXPECT_EQ(all->size(), static_cast<size_t>(kWriters * kPerWriter));
}

TEST_P(StoreConformanceTest, Documents_InsertGetUpdateListDelete) {
  OkrTransaction::Document a{"rule", "a", "{\"x\":1}", Meta()};
  OkrTransaction::Document b{"rule", "b", "{}", Meta()};
  OkrTransaction::Document other{"subscription", "a", "{}", Meta()};
  ASSERT_OK(Write(store(), [&](OkrTransaction& tx) -> absl::Status {
    for (const auto* d : {&a, &b, &other}) {
      if (absl::Status s = tx.InsertDocument(*d); !s.ok()) return s;
    }
    return absl::OkStatus();
  }));
  EXPECT_TRUE(absl::IsAlreadyExists(
      Write(store(), [&](OkrTransaction& tx) { return tx.InsertDocument(a); })));
  absl::StatusOr<std::optional<OkrTransaction::Document>> got =
      Read(store(), [](OkrTransaction& tx) { return tx.GetDocument("rule", "a"); });
  ASSERT_OK(got);
  ASSERT_TRUE(got->has_value());
  EXPECT_EQ((*got)->payload, "{\"x\":1}");
  EXPECT_EQ((*got)->meta.revision, a.meta.revision);
  absl::StatusOr<std::optional<OkrTransaction::Document>> missing =
      Read(store(), [](OkrTransaction& tx) { return tx.GetDocument("rule", "zz"); });
  ASSERT_OK(missing);
  EXPECT_FALSE(missing->has_value());

  OkrTransaction::Document changed = **got;
  changed.payload = "{\"x\":2}";
  changed.meta.revision += 1;
  EXPECT_TRUE(absl::IsAborted(Write(store(), [&](OkrTransaction& tx) {
    return tx.UpdateDocument(changed, a.meta.revision + 7);
  })));
  ASSERT_OK(Write(store(),
                  [&](OkrTransaction& tx) { return tx.UpdateDocument(changed, a.meta.revision); }));
  ASSERT_OK(Write(store(), [&](OkrTransaction& tx) { return tx.UpdateDocument(changed, -1); }));
  absl::StatusOr<Page<OkrTransaction::Document>> page = Read(store(), [](OkrTransaction& tx) {
    return tx.ListDocuments("rule", PageQuery{0, 1});
  });
  ASSERT_OK(page);
  ASSERT_EQ(page->items.size(), 1u);
  EXPECT_EQ(page->items[0].id, "a");
  EXPECT_EQ(page->items[0].payload, "{\"x\":2}");
  EXPECT_TRUE(page->has_more);
  ASSERT_OK(Write(store(), [](OkrTransaction& tx) { return tx.DeleteDocument("rule", "a"); }));
  EXPECT_TRUE(absl::IsNotFound(
      Write(store(), [](OkrTransaction& tx) { return tx.DeleteDocument("rule", "a"); })));
  absl::StatusOr<Page<OkrTransaction::Document>> rest = Read(store(), [](OkrTransaction& tx) {
    return tx.ListDocuments("rule", PageQuery{0, 10});
  });
  ASSERT_OK(rest);
  ASSERT_EQ(rest->items.size(), 1u);
  EXPECT_EQ(rest->items[0].id, "b");
  EXPECT_FALSE(rest->has_more);
}

// --- Item write-back queue ---------------------------------------------------------------

std::vector<OkrTransaction::ItemWriteBackEntry> PendingItems(OkrStore& store, int limit = 10) {
  absl::StatusOr<std::vector<OkrTransaction::ItemWriteBackEntry>> got =
      Read(store, [&](OkrTransaction& tx) { return tx.PendingItemWriteBacks(limit); });
  EXPECT_TRUE(got.ok()) << got.status();
  return got.ok() ? *got : std::vector<OkrTransaction::ItemWriteBackEntry>{};
}

TEST_P(StoreConformanceTest,
       ItemWriteBackQueue_CoalescesOldestFirstAndCompletesOnlyTheGenerationRead) {
  ASSERT_OK(Write(store(), [](OkrTransaction& tx) -> absl::Status {
    OKR_RETURN_IF_ERROR(
        tx.EnqueueItemWriteBack(Tracker::kGitLab, "acme/x#2", kT0 + absl::Seconds(5)));
    OKR_RETURN_IF_ERROR(tx.EnqueueItemWriteBack(Tracker::kJira, "OKR-1", kT0));
    OKR_RETURN_IF_ERROR(tx.EnqueueItemWriteBack(Tracker::kJira, "OKR-1", kT1));  // coalesced
    // The same key on the other tracker is another item.
    return tx.EnqueueItemWriteBack(Tracker::kGitLab, "OKR-1", kT1);
  }));
  std::vector<OkrTransaction::ItemWriteBackEntry> entries = PendingItems(store());
  ASSERT_EQ(entries.size(), 3u);
  EXPECT_EQ(entries[0].tracker, Tracker::kJira);  // oldest first
  EXPECT_EQ(entries[0].key, "OKR-1");
  EXPECT_EQ(entries[0].since, kT0);  // the first enqueue time is kept, to the microsecond
  EXPECT_EQ(entries[0].generation, 2);
  EXPECT_EQ(entries[1].key, "acme/x#2");
  EXPECT_EQ(entries[1].generation, 1);
  EXPECT_EQ(entries[2].tracker, Tracker::kGitLab);
  EXPECT_EQ(entries[2].key, "OKR-1");
  EXPECT_EQ(PendingItems(store(), 1).size(), 1u);
  EXPECT_EQ(PendingItems(store(), -1).size(), 3u);

  // Enqueued again after being read: completing the generation read keeps it queued.
  ASSERT_OK(Write(store(), [](OkrTransaction& tx) {
    return tx.EnqueueItemWriteBack(Tracker::kJira, "OKR-1", kT1 + absl::Seconds(1));
  }));
  ASSERT_OK(
      Write(store(), [&](OkrTransaction& tx) { return tx.CompleteItemWriteBack(entries[0]); }));
  std::vector<OkrTransaction::ItemWriteBackEntry> after = PendingItems(store());
  ASSERT_EQ(after.size(), 3u);
  EXPECT_EQ(after[0].key, "OKR-1");
  EXPECT_EQ(after[0].generation, 3);
  ASSERT_OK(Write(store(), [&](OkrTransaction& tx) -> absl::Status {
    for (const auto& e : after) OKR_RETURN_IF_ERROR(tx.CompleteItemWriteBack(e));
    return absl::OkStatus();
  }));
  EXPECT_THAT(PendingItems(store()), IsEmpty());
  // Completing again is a no-op.
  EXPECT_OK(Write(store(), [&](OkrTransaction& tx) { return tx.CompleteItemWriteBack(after[0]); }));
}

TEST_P(StoreConformanceTest, ItemWriteBackQueue_InvalidTrackerRefused) {
  EXPECT_STATUS(Write(store(),
                      [](OkrTransaction& tx) {
                        return tx.EnqueueItemWriteBack(static_cast<Tracker>(99), "X-1", kT0);
                      }),
                kInvalidArgument, "tracker");
}

TEST_P(StoreConformanceTest, DeleteWriteBackState_ForgetsOnlyThatItem) {
  ASSERT_OK(Write(store(), [](OkrTransaction& tx) -> absl::Status {
    OKR_RETURN_IF_ERROR(
        tx.PutWriteBackState(Tracker::kJira, "OKR-1", {"v2\n7\nOKR:o/k", "h1", kT0}));
    return tx.PutWriteBackState(Tracker::kJira, "OKR-2", {"ref-2", "h2", kT1});
  }));
  ASSERT_OK(Write(store(), [](OkrTransaction& tx) {
    return tx.DeleteWriteBackState(Tracker::kJira, "OKR-1");
  }));
  // Deleting what is not there is fine (a retried removal).
  ASSERT_OK(Write(store(), [](OkrTransaction& tx) {
    return tx.DeleteWriteBackState(Tracker::kJira, "OKR-1");
  }));
  absl::StatusOr<std::optional<OkrTransaction::WriteBackState>> gone = Read(
      store(), [](OkrTransaction& tx) { return tx.GetWriteBackState(Tracker::kJira, "OKR-1"); });
  ASSERT_OK(gone);
  EXPECT_FALSE(gone->has_value());
  absl::StatusOr<std::optional<OkrTransaction::WriteBackState>> kept = Read(
      store(), [](OkrTransaction& tx) { return tx.GetWriteBackState(Tracker::kJira, "OKR-2"); });
  ASSERT_OK(kept);
  ASSERT_TRUE(kept->has_value());
  EXPECT_EQ((*kept)->ref, "ref-2");
  EXPECT_EQ((*kept)->written, kT1);
}

TEST_P(StoreConformanceTest, ItemWriteBackQueue_FollowsRenamesAndLeavesWithDeletedItems) {
  ASSERT_OK(Write(store(), [](OkrTransaction& tx) -> absl::Status {
    OKR_RETURN_IF_ERROR(tx.UpsertWorkItem(MakeItem(Tracker::kJira, "OKR-1")));
    OKR_RETURN_IF_ERROR(tx.UpsertWorkItem(MakeItem(Tracker::kJira, "OKR-2")));
    OKR_RETURN_IF_ERROR(tx.EnqueueItemWriteBack(Tracker::kJira, "OKR-1", kT0));
    return tx.EnqueueItemWriteBack(Tracker::kJira, "OKR-2", kT1);
  }));
  ASSERT_OK(Write(store(), [](OkrTransaction& tx) {
    return tx.RenameWorkItem(Tracker::kJira, "OKR-1", "NEW-1");
  }));
  ASSERT_OK(Write(store(),
                  [](OkrTransaction& tx) { return tx.DeleteWorkItem(Tracker::kJira, "OKR-2"); }));
  std::vector<OkrTransaction::ItemWriteBackEntry> entries = PendingItems(store());
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_EQ(entries[0].key, "NEW-1");
  EXPECT_EQ(entries[0].since, kT0);
}

// --- Write-back backoff (migration 8) -----------------------------------------------------

TEST_P(StoreConformanceTest, WriteBackState_FailureFieldsRoundTripAndAreCounted) {
  OkrTransaction::WriteBackState failing;
  failing.ref = "ref-1";
  failing.content_hash = "h1";
  failing.written = kT0;
  failing.failures = 3;
  failing.next_attempt = kT1;
  failing.last_code = static_cast<int>(absl::StatusCode::kPermissionDenied);
  failing.last_error = "Jira answered 403";
  OkrTransaction::WriteBackState never_written;  // only the failure: nothing written yet
  never_written.failures = 1;
  never_written.next_attempt = kT0;
  never_written.last_code = static_cast<int>(absl::StatusCode::kPermissionDenied);
  OkrTransaction::WriteBackState transient = never_written;
  transient.last_code = static_cast<int>(absl::StatusCode::kUnavailable);
  ASSERT_OK(Write(store(), [&](OkrTransaction& tx) -> absl::Status {
    OKR_RETURN_IF_ERROR(tx.PutWriteBackState(Tracker::kJira, "OKR-1", failing));
    OKR_RETURN_IF_ERROR(tx.PutWriteBackState(Tracker::kJira, "OKR-2", never_written));
    OKR_RETURN_IF_ERROR(tx.PutWriteBackState(Tracker::kGitLab, "acme/x#1", transient));
    return tx.PutWriteBackState(Tracker::kJira, "OKR-3", {"ref-3", "h3", kT1});  // healthy
  }));
  absl::StatusOr<std::optional<OkrTransaction::WriteBackState>> got = Read(
      store(), [](OkrTransaction& tx) { return tx.GetWriteBackState(Tracker::kJira, "OKR-1"); });
  ASSERT_OK(got);
  ASSERT_TRUE(got->has_value());
  EXPECT_EQ((*got)->ref, "ref-1");
  EXPECT_EQ((*got)->written, kT0);
  EXPECT_EQ((*got)->failures, 3);
  EXPECT_EQ((*got)->next_attempt, kT1);  // to the microsecond
  EXPECT_EQ((*got)->last_code, static_cast<int>(absl::StatusCode::kPermissionDenied));
  EXPECT_EQ((*got)->last_error, "Jira answered 403");
  got = Read(store(),
             [](OkrTransaction& tx) { return tx.GetWriteBackState(Tracker::kJira, "OKR-2"); });
  ASSERT_OK(got);
  ASSERT_TRUE(got->has_value());
  EXPECT_EQ((*got)->written, absl::InfinitePast());
  EXPECT_EQ((*got)->ref, "");
  got = Read(store(),
             [](OkrTransaction& tx) { return tx.GetWriteBackState(Tracker::kJira, "OKR-3"); });
  ASSERT_OK(got);
  ASSERT_TRUE(got->has_value());
  EXPECT_EQ((*got)->failures, 0);
  EXPECT_EQ((*got)->next_attempt, absl::InfinitePast());
  EXPECT_EQ((*got)->last_code, 0);

  absl::StatusOr<std::vector<OkrTransaction::WriteBackFailureCount>> counts =
      Read(store(), [](OkrTransaction& tx) { return tx.CountWriteBackFailures(); });
  ASSERT_OK(counts);
  ASSERT_EQ(counts->size(), 2u);  // the healthy item is not counted
  EXPECT_EQ((*counts)[0].tracker, Tracker::kJira);
  EXPECT_EQ((*counts)[0].code, static_cast<int>(absl::StatusCode::kPermissionDenied));
  EXPECT_EQ((*counts)[0].items, 2);
  EXPECT_EQ((*counts)[1].tracker, Tracker::kGitLab);
  EXPECT_EQ((*counts)[1].code, static_cast<int>(absl::StatusCode::kUnavailable));
  EXPECT_EQ((*counts)[1].items, 1);

  // A success overwrites the failure.
  ASSERT_OK(Write(store(), [](OkrTransaction& tx) {
    return tx.PutWriteBackState(Tracker::kJira, "OKR-1", {"ref-1b", "h1b", kT1});
  }));
  got = Read(store(),
             [](OkrTransaction& tx) { return tx.GetWriteBackState(Tracker::kJira, "OKR-1"); });
  ASSERT_OK(got);
  EXPECT_EQ((*got)->failures, 0);
  EXPECT_EQ((*got)->last_error, "");
  counts = Read(store(), [](OkrTransaction& tx) { return tx.CountWriteBackFailures(); });
  ASSERT_OK(counts);
  ASSERT_EQ(counts->size(), 2u);
  EXPECT_EQ((*counts)[0].items, 1);
}

TEST_P(StoreConformanceTest, WriteBackQueue_DeferredEntryNotDueUntilItsTimeOrEnqueuedAgain) {
  const absl::Time later = kT1 + absl::Hours(1);
  ASSERT_OK(Write(store(), [](OkrTransaction& tx) -> absl::Status {
    OKR_RETURN_IF_ERROR(tx.EnqueueWriteBack("o1", "a", kT0));
    return tx.EnqueueWriteBack("o2", "a", kT0 + absl::Seconds(1));
  }));
  auto due = [&](absl::Time now) {
    absl::StatusOr<std::vector<OkrTransaction::WriteBackEntry>> got =
        Read(store(), [&](OkrTransaction& tx) { return tx.DueWriteBacks(now, 10); });
    EXPECT_TRUE(got.ok()) << got.status();
    std::vector<std::string> names;
    if (got.ok()) {
      for (const auto& e : *got) names.push_back(e.objective_id + "/" + e.key_result_id);
    }
    return names;
  };
  EXPECT_THAT(due(kT0), ElementsAre("o1/a"));  // o2/a is not due before its enqueue time
  absl::StatusOr<std::vector<OkrTransaction::WriteBackEntry>> entries =
      Read(store(), [&](OkrTransaction& tx) { return tx.DueWriteBacks(kT1, 10); });
  ASSERT_OK(entries);
  ASSERT_EQ(entries->size(), 2u);
  EXPECT_EQ((*entries)[0].due, kT0);
  // o1/a's items back off: it moves behind o2/a and out of the way until `later`.
  ASSERT_OK(
      Write(store(), [&](OkrTransaction& tx) { return tx.DeferWriteBack((*entries)[0], later); }));
  EXPECT_THAT(due(kT1), ElementsAre("o2/a"));
  EXPECT_THAT(due(later), ElementsAre("o2/a", "o1/a"));
  // Still queued for PendingWriteBacks (it is not complete).
  absl::StatusOr<std::vector<OkrTransaction::WriteBackEntry>> pending =
      Read(store(), [](OkrTransaction& tx) { return tx.PendingWriteBacks(10); });
  ASSERT_OK(pending);
  EXPECT_EQ(pending->size(), 2u);
  // Enqueued again (a change): due at once.
  ASSERT_OK(Write(store(), [](OkrTransaction& tx) {
    return tx.EnqueueWriteBack("o1", "a", kT1 + absl::Seconds(5));
  }));
  EXPECT_THAT(due(kT1 + absl::Seconds(5)), ElementsAre("o2/a", "o1/a"));
  // A defer of a generation that moved on is ignored: the new change stays due.
  ASSERT_OK(
      Write(store(), [&](OkrTransaction& tx) { return tx.DeferWriteBack((*entries)[0], later); }));
  EXPECT_THAT(due(kT1 + absl::Seconds(5)), ElementsAre("o2/a", "o1/a"));
}

TEST_P(StoreConformanceTest, ItemWriteBackQueue_DeferredEntryNotDueUntilItsTimeOrEnqueuedAgain) {
  const absl::Time later = kT1 + absl::Hours(1);
  ASSERT_OK(Write(store(), [](OkrTransaction& tx) -> absl::Status {
    OKR_RETURN_IF_ERROR(tx.EnqueueItemWriteBack(Tracker::kJira, "OKR-1", kT0));
    return tx.EnqueueItemWriteBack(Tracker::kJira, "OKR-2", kT0);
  }));
  auto due = [&](absl::Time now) {
    absl::StatusOr<std::vector<OkrTransaction::ItemWriteBackEntry>> got =
        Read(store(), [&](OkrTransaction& tx) { return tx.DueItemWriteBacks(now, 10); });
    EXPECT_TRUE(got.ok()) << got.status();
    std::vector<std::string> keys;
    if (got.ok()) {
      for (const auto& e : *got) keys.push_back(e.key);
    }
    return keys;
  };
  std::vector<OkrTransaction::ItemWriteBackEntry> entries = PendingItems(store());
  ASSERT_EQ(entries.size(), 2u);
  ASSERT_OK(
      Write(store(), [&](OkrTransaction& tx) { return tx.DeferItemWriteBack(entries[0], later); }));
  EXPECT_THAT(due(kT1), ElementsAre("OKR-2"));
  EXPECT_THAT(due(later), ElementsAre("OKR-2", "OKR-1"));
  ASSERT_OK(Write(store(), [](OkrTransaction& tx) {
    return tx.EnqueueItemWriteBack(Tracker::kJira, "OKR-1", kT1);
  }));
  EXPECT_THAT(due(kT1), ElementsAre("OKR-2", "OKR-1"));
}

}  // namespace
}  // namespace okr::storage::conformance
