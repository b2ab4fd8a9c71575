#include "service/storage/sql/codec.h"

#include <cstdint>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "service/okr/status_macros.h"
#include "service/okr/trackers.h"
#include "service/storage/event_codec.h"
#include "service/storage/tracker_fields_codec.h"

namespace okr::storage::sql {
namespace {

template <typename E>
bool InRange(E value, E first, E last) {
  int v = static_cast<int>(value);
  return v >= static_cast<int>(first) && v <= static_cast<int>(last);
}

std::vector<std::string> SplitLines(const std::string& text) {
  if (text.empty()) return {};
  return absl::StrSplit(text, '\n');
}

// --- Field codecs: one per C++ field type ----------------------------------------------------

template <typename F, typename = void>
struct FieldCodec;

template <>
struct FieldCodec<std::string> {
  static constexpr const char* kCast = "TEXT";
  static absl::Status Read(Statement& s, int c, std::string& v) {
    v = s.ColumnText(c);
    return absl::OkStatus();
  }
  static void Bind(Statement& s, int i, const std::string& v) { s.BindText(i, v); }
};

template <>
struct FieldCodec<int64_t> {
  static constexpr const char* kCast = "BIGINT";
  static absl::Status Read(Statement& s, int c, int64_t& v) {
    v = s.ColumnInt(c);
    return absl::OkStatus();
  }
  static void Bind(Statement& s, int i, int64_t v) { s.BindInt(i, v); }
};

template <>
struct FieldCodec<double> {
  static constexpr const char* kCast = "DOUBLE PRECISION";
  static absl::Status Read(Statement& s, int c, double& v) {
    v = s.ColumnDouble(c);
    return absl::OkStatus();
  }
  static void Bind(Statement& s, int i, double v) { s.BindDouble(i, v); }
};

template <>
struct FieldCodec<std::optional<double>> {
  static constexpr const char* kCast = "DOUBLE PRECISION";
  static absl::Status Read(Statement& s, int c, std::optional<double>& v) {
    v = s.ColumnOptionalDouble(c);
    return absl::OkStatus();
  }
  static void Bind(Statement& s, int i, std::optional<double> v) { s.BindOptionalDouble(i, v); }
};

template <>
struct FieldCodec<bool> {
  static constexpr const char* kCast = "BOOLEAN";
  static absl::Status Read(Statement& s, int c, bool& v) {
    v = s.ColumnBool(c);
    return absl::OkStatus();
  }
  static void Bind(Statement& s, int i, bool v) { s.BindBool(i, v); }
};

template <>
struct FieldCodec<absl::Time> {
  static constexpr const char* kCast = "BIGINT";
  static absl::Status Read(Statement& s, int c, absl::Time& v) {
    v = s.ColumnTime(c);
    return absl::OkStatus();
  }
  static void Bind(Statement& s, int i, absl::Time v) { s.BindTime(i, v); }
};

// Enums as their integer values (range-checked by the entity, see Column::raw).
template <typename E>
struct FieldCodec<E, std::enable_if_t<std::is_enum_v<E>>> {
  static constexpr const char* kCast = "INTEGER";
  static absl::Status Read(Statement& s, int c, E& v) {
    v = static_cast<E>(s.ColumnInt(c));
    return absl::OkStatus();
  }
  static void Bind(Statement& s, int i, E v) { s.BindInt(i, static_cast<int>(v)); }
};

// Lists of names/labels, one value per line (values never contain newlines: names are
// validated ids, labels are checked on input).
template <>
struct FieldCodec<std::vector<std::string>> {
  static constexpr const char* kCast = "TEXT";
  static absl::Status Read(Statement& s, int c, std::vector<std::string>& v) {
    v = SplitLines(s.ColumnText(c));
    return absl::OkStatus();
  }
  static void Bind(Statement& s, int i, const std::vector<std::string>& v) {
    s.BindText(i, absl::StrJoin(v, "\n"));
  }
};

// Agreements, one per line as team \t agreed_by \t micros.
template <>
struct FieldCodec<std::vector<Agreement>> {
  static constexpr const char* kCast = "TEXT";
  static absl::Status Read(Statement& s, int c, std::vector<Agreement>& out) {
    out.clear();
    for (const std::string& line : SplitLines(s.ColumnText(c))) {
      std::vector<std::string> parts = absl::StrSplit(line, absl::MaxSplits('\t', 2));
      if (parts.size() != 3) continue;
      Agreement a;
      a.team_id = parts[0];
      a.agreed_by = parts[1];
      int64_t micros = 0;
      if (absl::SimpleAtoi(parts[2], &micros)) a.agree_time = absl::FromUnixMicros(micros);
      out.push_back(std::move(a));
    }
    return absl::OkStatus();
  }
  static void Bind(Statement& s, int i, const std::vector<Agreement>& agreements) {
    std::vector<std::string> lines;
    for (const Agreement& a : agreements) {
      lines.push_back(absl::StrCat(
          a.team_id, "\t", a.agreed_by, "\t",
          a.agree_time == absl::InfinitePast() ? int64_t{0} : absl::ToUnixMicros(a.agree_time)));
    }
    s.BindText(i, absl::StrJoin(lines, "\n"));
  }
};

// Tracker-keyed fields as JSON text (tracker_fields_codec.h).
template <typename V, std::string (*Encode)(const std::map<Tracker, V>&),
          absl::StatusOr<std::map<Tracker, V>> (*Decode)(const std::string&)>
struct TrackerMapCodec {
  static constexpr const char* kCast = "TEXT";
  static absl::Status Read(Statement& s, int c, std::map<Tracker, V>& v) {
    OKR_ASSIGN_OR_RETURN(v, Decode(s.ColumnText(c)));
    return absl::OkStatus();
  }
  static void Bind(Statement& s, int i, const std::map<Tracker, V>& v) { s.BindText(i, Encode(v)); }
};
template <>
struct FieldCodec<std::map<Tracker, std::string>>
    : TrackerMapCodec<std::string, EncodeTrackerProjects, DecodeTrackerProjects> {};
template <>
struct FieldCodec<std::map<Tracker, TrackerScope>>
    : TrackerMapCodec<TrackerScope, EncodeTrackerScopes, DecodeTrackerScopes> {};

// --- Columns from member paths ---------------------------------------------------------------

template <typename M>
struct MemberOf;
template <typename C, typename F>
struct MemberOf<F C::*> {
  using Class = C;
};
template <auto First, auto... Rest>
struct FirstClass {
  using type = typename MemberOf<decltype(First)>::Class;
};
template <auto... P>
using ClassOf = typename FirstClass<P...>::type;

// The field at member path P (e.g. &KeyResult::metric, &MetricSpec::unit) of `row`.
template <auto... P, typename T>
decltype(auto) Field(T& row) {
  return (row.*....*P);
}

template <auto... P>
Column<ClassOf<P...>> Col(const char* name) {
  using T = ClassOf<P...>;
  using F = std::remove_cv_t<std::remove_reference_t<decltype(Field<P...>(std::declval<T&>()))>>;
  return {name, FieldCodec<F>::kCast,
          [](Statement& s, int c, T& row) { return FieldCodec<F>::Read(s, c, Field<P...>(row)); },
          [](Statement& s, int i, const T& row) { FieldCodec<F>::Bind(s, i, Field<P...>(row)); }};
}

// Text stored as NULL when empty (optional references).
template <auto... P>
Column<ClassOf<P...>> NullableCol(const char* name) {
  Column<ClassOf<P...>> col = Col<P...>(name);
  col.bind = [](Statement& s, int i, const ClassOf<P...>& row) {
    s.BindNullableText(i, Field<P...>(row));
  };
  return col;
}

template <auto P, typename E>
Column<ClassOf<P>> EnumCol(const char* name, E lo, E hi) {
  Column<ClassOf<P>> col = Col<P>(name);
  col.raw = [](const ClassOf<P>& row) { return static_cast<int64_t>(Field<P>(row)); };
  col.lo = static_cast<int64_t>(lo);
  col.hi = static_cast<int64_t>(hi);
  return col;
}

// revision, create_time, update_time of an entity with EntityMeta `meta`.
template <typename T>
std::vector<Column<T>> MetaCols() {
  return {Col<&T::meta, &EntityMeta::revision>("revision"),
          Col<&T::meta, &EntityMeta::create_time>("create_time"),
          Col<&T::meta, &EntityMeta::update_time>("update_time")};
}

template <typename T>
std::vector<Column<T>> Cols(std::initializer_list<std::vector<Column<T>>> groups) {
  std::vector<Column<T>> all;
  for (const auto& group : groups) all.insert(all.end(), group.begin(), group.end());
  return all;
}

template <typename T>
void SetMetaSeq(T& row, int64_t seq) {
  row.meta.seq = seq;
}

}  // namespace

// --- Driver helpers ------------------------------------------------------------------------

void Statement::BindTime(int index, absl::Time value) {
  if (value == absl::InfinitePast()) {
    BindNull(index);
  } else if (value == absl::InfiniteFuture()) {
    BindInt(index, kInfiniteFutureMicros);
  } else {
    BindInt(index, absl::ToUnixMicros(value));
  }
}

absl::Time Statement::ColumnTime(int col) {
  if (ColumnIsNull(col)) return absl::InfinitePast();
  int64_t micros = ColumnInt(col);
  if (micros == kInfiniteFutureMicros) return absl::InfiniteFuture();
  if (micros == std::numeric_limits<int64_t>::min()) return absl::InfinitePast();
  return absl::FromUnixMicros(micros);
}

absl::Status Statement::Run() {
  while (true) {
    OKR_ASSIGN_OR_RETURN(bool row, Step());
    if (!row) return absl::OkStatus();
  }
}

// --- Messages ----------------------------------------------------------------------------

std::string Quote(absl::string_view id) { return absl::StrCat("\"", id, "\""); }

std::string KeyResultLabel(absl::string_view objective_id, absl::string_view id) {
  return absl::StrCat("key result ", Quote(id), " of objective ", Quote(objective_id));
}

absl::string_view TrackerName(Tracker tracker) { return TrackerDisplayName(tracker); }

std::string WorkItemLabel(Tracker tracker, absl::string_view key) {
  return absl::StrCat(TrackerName(tracker), " work item ", Quote(key));
}

// --- Input checks ------------------------------------------------------------------------

absl::Status CheckTracker(Tracker tracker) {
  if (FindTracker(tracker) == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat("invalid tracker value ", static_cast<int>(tracker)));
  }
  return absl::OkStatus();
}

absl::Status CheckObjectiveEnums(const Objective& o) {
  if (!InRange(o.kind, ObjectiveKind::kCommitted, ObjectiveKind::kAspirational) ||
      !InRange(o.state, ObjectiveState::kDraft, ObjectiveState::kClosed)) {
    return absl::InvalidArgumentError(
        absl::StrCat("objective ", Quote(o.id), " has an invalid kind or state"));
  }
  return absl::OkStatus();
}

absl::Status CheckKeyResultType(const KeyResult& kr) {
  if (!InRange(kr.type, KeyResultType::kMetric, KeyResultType::kWorkItems)) {
    return absl::InvalidArgumentError(
        absl::StrCat(KeyResultLabel(kr.objective_id, kr.id), " has an invalid type"));
  }
  return absl::OkStatus();
}

// --- Entity ------------------------------------------------------------------------------

template <typename T>
Entity<T>::Entity(const char* table, std::vector<Column<T>> columns, void (*set_seq)(T&, int64_t),
                  std::string (*label)(const T&))
    : table_(table), columns_(std::move(columns)), set_seq_(set_seq), label_(label) {
  select_list_ = set_seq_ != nullptr ? "seq" : "";
  for (const Column<T>& c : columns_) {
    absl::StrAppend(&select_list_, select_list_.empty() ? "" : ", ", c.name);
  }
}

template <typename T>
std::string Entity<T>::Select(absl::string_view tail) const {
  return absl::StrCat("SELECT ", select_list_, " FROM ", table_, " ", tail);
}

template <typename T>
std::string Entity<T>::Insert(absl::string_view guard, absl::string_view on_conflict) const {
  std::vector<std::string> names, values;
  for (int i = 0; i < size(); ++i) {
    names.push_back(columns_[i].name);
    values.push_back(guard.empty() ? absl::StrCat("?", i + 1)
                                   : absl::StrCat("CAST(?", i + 1, " AS ", columns_[i].cast, ")"));
  }
  return absl::StrCat("INSERT INTO ", table_, " (", absl::StrJoin(names, ", "), ") ",
                      guard.empty() ? "VALUES (" : "SELECT ", absl::StrJoin(values, ", "),
                      guard.empty() ? ")" : absl::StrCat(" WHERE ", guard), " ", on_conflict);
}

template <typename T>
std::string Entity<T>::Update(int keys, absl::string_view where,
                              std::initializer_list<absl::string_view> unchanged) const {
  std::vector<std::string> set, match;
  for (int i = 0; i < size(); ++i) {
    const absl::string_view name = columns_[i].name;
    bool same = i < keys;
    for (absl::string_view u : unchanged) same = same || u == name;
    if (same) {
      match.push_back(absl::StrCat(name, i < keys ? " = ?" : " IS ?", i + 1));
    } else {
      set.push_back(absl::StrCat(name, " = ?", i + 1));
    }
  }
  if (!where.empty()) match.push_back(std::string(where));
  return absl::StrCat("UPDATE ", table_, " SET ", absl::StrJoin(set, ", "), " WHERE ",
                      absl::StrJoin(match, " AND "));
}

template <typename T>
absl::StatusOr<T> Entity<T>::Read(Statement& s, int first) const {
  T row;
  int col = first;
  if (set_seq_ != nullptr) set_seq_(row, s.ColumnInt(col++));
  for (const Column<T>& c : columns_) OKR_RETURN_IF_ERROR(c.read(s, col++, row));
  OKR_RETURN_IF_ERROR(s.column_status());
  for (const Column<T>& c : columns_) {
    if (c.raw == nullptr) continue;
    const int64_t value = c.raw(row);
    if (value < c.lo || value > c.hi) {
      return absl::InternalError(
          absl::StrCat("corrupt row: ", label_(row), " ", c.name, " has value ", value));
    }
  }
  return row;
}

template <typename T>
void Entity<T>::Bind(Statement& s, const T& row) const {
  for (int i = 0; i < size(); ++i) columns_[i].bind(s, i + 1, row);
}

// --- The entities --------------------------------------------------------------------------

const Entity<Team>& Teams() {
  static const Entity<Team>* const kTeams =
      new Entity<Team>("teams",
                       Cols<Team>({{Col<&Team::id>("id"), Col<&Team::display_name>("display_name"),
                                    NullableCol<&Team::parent_id>("parent_id")},
                                   MetaCols<Team>(),
                                   {Col<&Team::projects>("tracker_projects"),
                                    Col<&Team::issue_types>("tracker_issue_types")}}),
                       SetMetaSeq<Team>, nullptr);
  return *kTeams;
}

const Entity<Cycle>& Cycles() {
  static const Entity<Cycle>* const kCycles = new Entity<Cycle>(
      "cycles",
      Cols<Cycle>({{Col<&Cycle::id>("id"), Col<&Cycle::display_name>("display_name"),
                    Col<&Cycle::start_time>("start_time"), Col<&Cycle::end_time>("end_time")},
                   MetaCols<Cycle>()}),
      SetMetaSeq<Cycle>, nullptr);
  return *kCycles;
}

const Entity<Objective>& Objectives() {
  using O = Objective;
  static const Entity<O>* const kObjectives = new Entity<O>(
      "objectives",
      Cols<O>({{Col<&O::id>("id"), Col<&O::title>("title"), Col<&O::description>("description"),
                Col<&O::team_id>("team_id"), Col<&O::cycle_id>("cycle_id"),
                NullableCol<&O::parent_id>("parent_id"),
                EnumCol<&O::kind>("kind", ObjectiveKind::kCommitted, ObjectiveKind::kAspirational),
                EnumCol<&O::state>("state", ObjectiveState::kDraft, ObjectiveState::kClosed),
                Col<&O::progress>("progress")},
               MetaCols<O>(),
               {EnumCol<&O::progress_source>("progress_source", ProgressSource::kKeyResults,
                                             ProgressSource::kKeyResultsAndChildren),
                Col<&O::weight>("weight"), Col<&O::contributes_to>("contributes_to"),
                Col<&O::depends_on>("depends_on"), Col<&O::agreements>("agreements"),
                Col<&O::reopen_reason>("reopen_reason"),
                Col<&O::carried_over_from>("carried_over_from"), Col<&O::score>("score"),
                Col<&O::scored>("scored"),
                EnumCol<&O::outcome>("outcome", Outcome::kUnspecified, Outcome::kMissed)}}),
      SetMetaSeq<O>, [](const O& o) { return absl::StrCat("objective ", Quote(o.id)); });
  return *kObjectives;
}

const Entity<KeyResult>& KeyResults() {
  using K = KeyResult;
  using M = MetricSpec;
  using W = WorkItemTotals;
  static const Entity<K>* const kKeyResults = new Entity<K>(
      "key_results",
      Cols<K>({{Col<&K::objective_id>("objective_id"), Col<&K::id>("id"), Col<&K::title>("title"),
                Col<&K::weight>("weight"),
                EnumCol<&K::type>("type", KeyResultType::kMetric, KeyResultType::kWorkItems),
                Col<&K::metric, &M::start_value>("metric_start"),
                Col<&K::metric, &M::target_value>("metric_target"),
                Col<&K::metric, &M::current_value>("metric_current"),
                Col<&K::metric, &M::unit>("metric_unit"), Col<&K::milestone_done>("milestone_done"),
                Col<&K::totals, &W::item_count>("item_count"),
                Col<&K::totals, &W::done_count>("done_count"),
                Col<&K::totals, &W::total_weight>("total_weight"),
                Col<&K::totals, &W::done_weight>("done_weight"), Col<&K::progress>("progress"),
                Col<&K::raw_progress>("raw_progress")},
               MetaCols<K>(),
               {Col<&K::metric_key>("metric_key"), Col<&K::scopes>("tracker_scopes"),
                Col<&K::score>("score"), Col<&K::score_reason>("score_reason"),
                Col<&K::totals, &W::excluded_count>("excluded_count")}}),
      SetMetaSeq<K>, [](const K& kr) { return KeyResultLabel(kr.objective_id, kr.id); });
  return *kKeyResults;
}

const Entity<CheckIn>& CheckIns() {
  using C = CheckIn;
  static const Entity<C>* const kCheckIns = new Entity<C>(
      "check_ins",
      Cols<C>({{Col<&C::objective_id>("objective_id"), Col<&C::key_result_id>("key_result_id"),
                Col<&C::id>("id"), Col<&C::value>("value"), Col<&C::confidence>("confidence"),
                Col<&C::note>("note"), Col<&C::author>("author")},
               MetaCols<C>()}),
      SetMetaSeq<C>, nullptr);
  return *kCheckIns;
}

const Entity<WorkItem>& WorkItems() {
  using W = WorkItem;
  static const Entity<W>* const kWorkItems = new Entity<W>(
      "work_items",
      {EnumCol<&W::tracker>("tracker", AllTrackers().front().tracker, AllTrackers().back().tracker),
       Col<&W::key>("item_key"), Col<&W::title>("title"), Col<&W::url>("url"),
       Col<&W::done>("done"), Col<&W::weight>("weight"), Col<&W::update_time>("update_time"),
       NullableCol<&W::external_id>("external_id"), Col<&W::source_updated>("source_updated"),
       Col<&W::partial_credit>("partial_credit"), Col<&W::status>("status"),
       Col<&W::exclusion>("exclusion")},
      nullptr, [](const W& w) { return absl::StrCat("work item ", Quote(w.key)); });
  return *kWorkItems;
}

const Entity<Event>& Events() {
  static const Entity<Event>* const kEvents = new Entity<Event>(
      "events",
      {Col<&Event::type>("type"), Col<&Event::time>("time"),
       Col<&Event::objective_id>("objective_id"), Col<&Event::key_result_id>("key_result_id"),
       Col<&Event::team_id>("team_id"), Col<&Event::cycle_id>("cycle_id"),
       // Everything else, as one JSON text (event_codec.h).
       Column<Event>{
           "details", "TEXT",
           [](Statement& s, int c, Event& e) { return DecodeEventDetails(s.ColumnText(c), e); },
           [](Statement& s, int i, const Event& e) { s.BindText(i, EncodeEventDetails(e)); }}},
      [](Event& e, int64_t seq) { e.sequence = seq; }, nullptr);
  return *kEvents;
}

const Entity<OkrTransaction::Document>& Documents() {
  using D = OkrTransaction::Document;
  static const Entity<D>* const kDocuments = new Entity<D>(
      "documents",
      Cols<D>(
          {{Col<&D::kind>("kind"), Col<&D::id>("id"), Col<&D::payload>("payload")}, MetaCols<D>()}),
      SetMetaSeq<D>, nullptr);
  return *kDocuments;
}

// --- Links -------------------------------------------------------------------------------

absl::StatusOr<WorkItemLink> ReadLink(Statement& s) {
  WorkItemLink l;
  l.meta.seq = s.ColumnInt(0);
  l.objective_id = s.ColumnText(1);
  l.key_result_id = s.ColumnText(2);
  l.id = s.ColumnText(3);
  l.meta.revision = s.ColumnInt(4);
  l.meta.create_time = s.ColumnTime(5);
  l.meta.update_time = s.ColumnTime(6);
  OKR_ASSIGN_OR_RETURN(l.item, WorkItems().Read(s, 7));
  return l;
}

void BindLink(Statement& s, const WorkItemLink& l) {
  s.BindText(1, l.objective_id);
  s.BindText(2, l.key_result_id);
  s.BindText(3, l.id);
  s.BindInt(4, static_cast<int>(l.item.tracker));
  s.BindText(5, l.item.key);
  s.BindInt(6, l.meta.revision);
  s.BindTime(7, l.meta.create_time);
  s.BindTime(8, l.meta.update_time);
}

// --- Paging ------------------------------------------------------------------------------

absl::Status CheckPage(const PageQuery& page) {
  if (page.limit <= 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("page limit must be positive, got ", page.limit));
  }
  return absl::OkStatus();
}

void BindPage(Statement& s, const PageQuery& page) {
  s.BindInt(1, page.after_seq);
  s.BindInt(2, static_cast<int64_t>(page.limit) + 1);
}

template class Entity<Team>;
template class Entity<Cycle>;
template class Entity<Objective>;
template class Entity<KeyResult>;
template class Entity<CheckIn>;
template class Entity<WorkItem>;
template class Entity<Event>;
template class Entity<OkrTransaction::Document>;

}  // namespace okr::storage::sql
