// List filters (AIP-160) and orderings (AIP-132) of the List methods: parsing the
// `filter` and `order_by` request fields against the fields a collection allows, and
// matching one resource against a parsed filter. Pure functions, Abseil only.
//
// Filter grammar (a subset of AIP-160):
//   filter     := comparison { "AND" comparison }
//   comparison := field ( "=" | "!=" ) value
//   field      := name { "." name }          e.g. health, team, objective.state
//   value      := "\"" chars "\"" | ENUM     string fields take a quoted string ("teams/x",
//                                            \" and \\ escape), enum fields a bare name
// Ordering: `field [asc|desc] { "," field [asc|desc] }`, ascending by default.
//
//   absl::StatusOr<ListFilter> f = ParseListFilter(
//       "health = AT_RISK AND team = \"teams/payments\"", kKeyResultFilterFields);
//   bool keep = f->Matches([&](absl::string_view field) { return ValueOf(kr, field); });
//
// Every error is INVALID_ARGUMENT and starts with the request field ("filter: ...",
// "order_by: ...").
#ifndef OKR_SERVICE_OKR_LIST_FILTER_H_
#define OKR_SERVICE_OKR_LIST_FILTER_H_

#include <string>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"

namespace okr {

// A field a collection can be filtered on: a string (compared with a quoted literal) or an
// enum (compared with one of `enum_values`, written bare).
struct FilterField {
  std::string name;
  std::vector<std::string> enum_values;  // empty: a string field
};

// One comparison: `field = value` or, with `negated`, `field != value`.
struct FilterTerm {
  std::string field;
  bool negated = false;
  std::string value;
};

// A conjunction of comparisons; empty matches everything.
struct ListFilter {
  std::vector<FilterTerm> terms;

  bool empty() const { return terms.empty(); }
  // True if every term holds; `value_of(field)` is the resource's value of a field (the
  // enum name for enum fields, the resource name for references).
  bool Matches(absl::FunctionRef<std::string(absl::string_view field)> value_of) const;
};

// Parses `text` (empty: the empty filter). INVALID_ARGUMENT "filter: ..." for a syntax
// error, a field not in `fields`, a string literal for an enum field or an enum name for a
// string field, or an unknown enum value; the message lists what is allowed.
absl::StatusOr<ListFilter> ParseListFilter(absl::string_view text,
                                           absl::Span<const FilterField> fields);

// One key of an ordering.
struct OrderKey {
  std::string field;
  bool descending = false;
};

// Parses `text` (empty: no ordering). INVALID_ARGUMENT "order_by: ..." for a field not in
// `fields`, a field given twice, or anything but asc/desc after a field.
absl::StatusOr<std::vector<OrderKey>> ParseOrderBy(absl::string_view text,
                                                   absl::Span<const std::string> fields);

}  // namespace okr

#endif  // OKR_SERVICE_OKR_LIST_FILTER_H_
