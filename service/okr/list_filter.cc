#include "service/okr/list_filter.h"

#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"

namespace okr {
namespace {

enum class TokenKind { kWord, kString, kEquals, kNotEquals, kEnd };

struct Token {
  TokenKind kind = TokenKind::kEnd;
  std::string text;  // the word, or the unescaped string
  size_t pos = 0;    // offset in the filter, for messages
};

bool IsWordChar(char c) { return absl::ascii_isalnum(c) || c == '_' || c == '.'; }

absl::Status FilterError(absl::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat("filter: ", what));
}

// Splits the filter into tokens.
absl::StatusOr<std::vector<Token>> Tokenize(absl::string_view text) {
  if (text.size() > 4096) return FilterError("is longer than 4096 characters");
  std::vector<Token> out;
  size_t i = 0;
  while (i < text.size()) {
    const char c = text[i];
    if (absl::ascii_isspace(c)) {
      ++i;
      continue;
    }
    Token t;
    t.pos = i;
    if (c == '=') {
      t.kind = TokenKind::kEquals;
      ++i;
    } else if (c == '!' && i + 1 < text.size() && text[i + 1] == '=') {
      t.kind = TokenKind::kNotEquals;
      i += 2;
    } else if (c == '"') {
      t.kind = TokenKind::kString;
      ++i;
      bool closed = false;
      while (i < text.size()) {
        if (text[i] == '\\' && i + 1 < text.size()) {
          t.text.push_back(text[i + 1]);
          i += 2;
        } else if (text[i] == '"') {
          closed = true;
          ++i;
          break;
        } else {
          t.text.push_back(text[i++]);
        }
      }
      if (!closed) {
        return FilterError(absl::StrCat("unterminated string literal at offset ", t.pos));
      }
    } else if (IsWordChar(c)) {
      t.kind = TokenKind::kWord;
      while (i < text.size() && IsWordChar(text[i])) t.text.push_back(text[i++]);
    } else {
      return FilterError(absl::StrCat("unexpected character '", std::string(1, c), "' at offset ",
                                      i, " (supported: field = value, field != value, AND)"));
    }
    out.push_back(std::move(t));
  }
  Token end;
  end.pos = text.size();
  out.push_back(end);
  return out;
}

std::string FieldNames(absl::Span<const FilterField> fields) {
  std::vector<std::string> names;
  for (const FilterField& f : fields) names.push_back(f.name);
  return absl::StrJoin(names, ", ");
}

}  // namespace

bool ListFilter::Matches(absl::FunctionRef<std::string(absl::string_view field)> value_of) const {
  for (const FilterTerm& term : terms) {
    if ((value_of(term.field) == term.value) == term.negated) return false;
  }
  return true;
}

absl::StatusOr<ListFilter> ParseListFilter(absl::string_view text,
                                           absl::Span<const FilterField> fields) {
  ListFilter filter;
  if (absl::StripAsciiWhitespace(text).empty()) return filter;
  absl::StatusOr<std::vector<Token>> tokens = Tokenize(text);
  if (!tokens.ok()) return tokens.status();
  size_t i = 0;
  const std::vector<Token>& t = *tokens;
  while (true) {
    // field
    if (t[i].kind != TokenKind::kWord || t[i].text == "AND") {
      return FilterError(absl::StrCat("expected a field at offset ", t[i].pos,
                                      " (filterable: ", FieldNames(fields), ")"));
    }
    const FilterField* field = nullptr;
    for (const FilterField& f : fields) {
      if (f.name == t[i].text) field = &f;
    }
    if (field == nullptr) {
      return FilterError(absl::StrCat("unknown field \"", t[i].text.substr(0, 64),
                                      "\" (filterable: ", FieldNames(fields), ")"));
    }
    FilterTerm term;
    term.field = field->name;
    ++i;
    // operator
    if (t[i].kind == TokenKind::kEquals) {
      term.negated = false;
    } else if (t[i].kind == TokenKind::kNotEquals) {
      term.negated = true;
    } else {
      return FilterError(
          absl::StrCat("expected = or != after ", field->name, " at offset ", t[i].pos));
    }
    ++i;
    // value
    const bool is_enum = !field->enum_values.empty();
    if (is_enum) {
      if (t[i].kind != TokenKind::kWord || t[i].text == "AND") {
        return FilterError(absl::StrCat(field->name, " takes a bare enum name (one of ",
                                        absl::StrJoin(field->enum_values, ", "), ") at offset ",
                                        t[i].pos));
      }
      bool known = false;
      for (const std::string& v : field->enum_values) known = known || v == t[i].text;
      if (!known) {
        return FilterError(absl::StrCat("unknown ", field->name, " \"", t[i].text.substr(0, 64),
                                        "\" (one of ", absl::StrJoin(field->enum_values, ", "),
                                        ")"));
      }
    } else if (t[i].kind != TokenKind::kString) {
      return FilterError(absl::StrCat(field->name, " takes a string in double quotes at offset ",
                                      t[i].pos, ", e.g. ", field->name, " = \"...\""));
    }
    term.value = t[i].text;
    ++i;
    filter.terms.push_back(std::move(term));
    if (t[i].kind == TokenKind::kEnd) return filter;
    if (t[i].kind != TokenKind::kWord || t[i].text != "AND") {
      return FilterError(absl::StrCat("expected AND or the end at offset ", t[i].pos,
                                      " (only AND joins comparisons)"));
    }
    ++i;
  }
}

absl::StatusOr<std::vector<OrderKey>> ParseOrderBy(absl::string_view text,
                                                   absl::Span<const std::string> fields) {
  std::vector<OrderKey> keys;
  if (absl::StripAsciiWhitespace(text).empty()) return keys;
  if (text.size() > 1024) {
    return absl::InvalidArgumentError("order_by: is longer than 1024 characters");
  }
  for (absl::string_view part : absl::StrSplit(text, ',')) {
    std::vector<absl::string_view> words =
        absl::StrSplit(part, absl::ByAnyChar(" \t\n"), absl::SkipEmpty());
    if (words.empty() || words.size() > 2) {
      return absl::InvalidArgumentError(
          absl::StrCat("order_by: expected \"field [asc|desc]\" between commas, got \"",
                       absl::StripAsciiWhitespace(part).substr(0, 64), "\""));
    }
    OrderKey key;
    key.field = std::string(words[0]);
    bool known = false;
    for (const std::string& f : fields) known = known || f == key.field;
    if (!known) {
      return absl::InvalidArgumentError(
          absl::StrCat("order_by: cannot order by \"", key.field.substr(0, 64),
                       "\" (orderable: ", absl::StrJoin(fields, ", "), ")"));
    }
    for (const OrderKey& k : keys) {
      if (k.field == key.field) {
        return absl::InvalidArgumentError(absl::StrCat("order_by: ", key.field, " is given twice"));
      }
    }
    if (words.size() == 2) {
      if (words[1] == "desc") {
        key.descending = true;
      } else if (words[1] != "asc") {
        return absl::InvalidArgumentError(absl::StrCat("order_by: expected asc or desc after ",
                                                       key.field, ", got \"",
                                                       words[1].substr(0, 32), "\""));
      }
    }
    keys.push_back(std::move(key));
  }
  return keys;
}

}  // namespace okr
